// What etcd lets the dashboard's own etcd user do: whether auth is on, which user the client certificate is, its roles.
import 'server-only';
import { X509Certificate } from 'node:crypto';
import { EtcdUserNotFoundError, GRPCNotImplementedError, type Etcd3 } from 'etcd3';
import { describeEtcdError, isAuthRefusal, type EtcdFailure } from './etcd-error';

/** A key range a role may read, as etcd stores it: `rangeEnd` "" is the one key, "\0" is every key from `key` on. */
export interface KeyRangePermission {
  key: string;
  rangeEnd: string;
  read: boolean;
  write: boolean;
}

export interface EtcdAccessReading {
  /** null when the member cannot say (etcd 3.4 has no AuthStatus and the user is not root). */
  authEnabled: boolean | null;
  /** The etcd user etcd takes from the client certificate's common name; null without a client certificate. */
  user: string | null;
  /** false when auth is on and `user` is not an etcd user: etcd then refuses everything but the open calls. */
  userExists: boolean | null;
  roles: string[];
  isRoot: boolean;
  /** The key ranges the user's roles grant; empty for root (root may do anything). */
  permissions: KeyRangePermission[];
  /** Why the reading is incomplete, when it is. */
  failure: EtcdFailure | null;
}

/** The subject common name of a PEM certificate: the user name etcd's --client-cert-auth takes. */
export function certificateUser(certPem: Buffer | null | undefined): string | null {
  if (!certPem) return null;
  try {
    const subject = new X509Certificate(certPem).subject;
    const cn = subject.split('\n').find((line) => line.startsWith('CN='));
    return cn ? cn.slice(3) : null;
  } catch {
    return null;
  }
}

const USER_NOT_FOUND = /user (?:name )?not found/;

type Attempt<T> = { ok: true; value: T } | { ok: false; error: unknown; failure: EtcdFailure };

async function attempt<T>(call: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error, failure: describeEtcdError(error) };
  }
}

/**
 * Reads the access of `user` from one member. AuthStatus and RoleList need the root role when auth is on, so their
 * refusal is itself the answer "auth is on and this user is not root"; UserGet and RoleGet of one's own user and roles
 * are allowed to anyone. Never throws: a member that cannot be asked gives a reading with its failure.
 */
export async function readEtcdAccess(client: Etcd3, user: string | null): Promise<EtcdAccessReading> {
  const reading: EtcdAccessReading = {
    authEnabled: null,
    user,
    userExists: null,
    roles: [],
    isRoot: false,
    permissions: [],
    failure: null,
  };
  const status = await attempt(() => client.auth.authStatus());
  let adminAnswered: boolean;
  // An admin-only call from a certificate whose name is no etcd user: auth is on (etcd looked the user up).
  const noSuchUser = (a: Attempt<unknown>) => !a.ok && USER_NOT_FOUND.test(a.failure.message);
  if (noSuchUser(status)) return { ...reading, authEnabled: true, userExists: false };
  if (status.ok) {
    reading.authEnabled = status.value.enabled;
    adminAnswered = true;
  } else if (isAuthRefusal(status.failure)) {
    reading.authEnabled = true;
    adminAnswered = false;
  } else if (status.error instanceof GRPCNotImplementedError) {
    // etcd 3.4: RoleList answers the same question, without saying whether auth is on.
    const roles = await attempt(() => client.auth.roleList());
    if (noSuchUser(roles)) return { ...reading, authEnabled: true, userExists: false };
    if (roles.ok) adminAnswered = true;
    else if (isAuthRefusal(roles.failure)) {
      reading.authEnabled = true;
      adminAnswered = false;
    } else return { ...reading, failure: roles.failure };
  } else return { ...reading, failure: status.failure };

  if (reading.authEnabled === false || !user) return reading;

  const got = await attempt(() => client.auth.userGet({ name: user }));
  if (!got.ok) {
    if (got.error instanceof EtcdUserNotFoundError || USER_NOT_FOUND.test(got.failure.message)) {
      // 3.4 answered an admin-only call, and the user is not even an etcd user, so not root: auth is off.
      if (adminAnswered && reading.authEnabled === null) reading.authEnabled = false;
      return { ...reading, userExists: false };
    }
    // Only an admin may look up users other than itself; a refusal here means auth is on and the user is not root.
    return { ...reading, failure: got.failure };
  }
  reading.userExists = true;
  reading.roles = [...(got.value.roles ?? [])].sort();
  reading.isRoot = reading.roles.includes('root');
  if (adminAnswered && !reading.isRoot && reading.authEnabled === null) {
    // 3.4 answered an admin-only call for a user without the root role: auth is off.
    reading.authEnabled = false;
    return reading;
  }
  if (reading.isRoot) return reading;
  for (const role of reading.roles) {
    const perms = await attempt(() => client.auth.roleGet({ role }));
    if (!perms.ok) return { ...reading, failure: perms.failure };
    for (const p of perms.value.perm ?? []) {
      const type = String(p.permType).toUpperCase();
      reading.permissions.push({
        key: Buffer.from(p.key ?? []).toString('utf8'),
        rangeEnd: Buffer.from(p.range_end ?? []).toString('utf8'),
        read: type === 'READ' || type === 'READWRITE',
        write: type === 'WRITE' || type === 'READWRITE',
      });
    }
  }
  return reading;
}
