// Which of the dashboard's features etcd lets its etcd user use, by release: etcd's authMaintenanceServer and
// MemberList guards, read from each release's source (server/etcdserver/api/v3rpc/maintenance.go) and checked against
// real 3.4, 3.5, 3.6 and 3.7 members. Pure, shared with the browser.
import { atLeast, parseEtcdVersion, type EtcdVersion } from './etcd-version';

export type EtcdFeature =
  | 'status'
  | 'member-list'
  | 'alarm-list'
  | 'health'
  | 'secrets-census'
  | 'snapshot'
  | 'defragment'
  | 'hash-kv'
  | 'move-leader'
  | 'alarm-disarm';

/** What the dashboard's etcd user may do, as lib/etcd/etcd-access reads it (without the failure). */
export interface EtcdAccess {
  authEnabled: boolean | null;
  user: string | null;
  userExists: boolean | null;
  roles: string[];
  isRoot: boolean;
  permissions: Array<{ key: string; rangeEnd: string; read: boolean; write: boolean }>;
}

export interface FeatureAccess {
  feature: EtcdFeature;
  /** What the feature is, in the dashboard's words. */
  label: string;
  /** The etcd call behind it. */
  call: string;
  /** null when it cannot be told (auth state unknown). */
  allowed: boolean | null;
  /** Why, in one line an SRE can act on. */
  reason: string;
}

/** Who etcd lets make a call when auth is on: anyone, any named user, or only the root role. */
type Guard = 'open' | 'user' | 'root';

const LABELS: Record<EtcdFeature, { label: string; call: string }> = {
  status: { label: 'Member status (leader, raft index, DB size)', call: 'Maintenance.Status' },
  'member-list': { label: 'Member list', call: 'Cluster.MemberList' },
  'alarm-list': { label: 'Alarms (NOSPACE, CORRUPT)', call: 'Maintenance.Alarm GET' },
  health: { label: 'Health read (as etcdctl endpoint health)', call: 'KV.Range "health"' },
  'secrets-census': { label: 'Secrets encryption census', call: 'KV.Range /registry/secrets/' },
  snapshot: { label: 'Snapshots', call: 'Maintenance.Snapshot' },
  defragment: { label: 'Defragment', call: 'Maintenance.Defragment' },
  'hash-kv': { label: 'Consistency check (HashKV)', call: 'Maintenance.HashKV' },
  'move-leader': { label: 'Move the leader', call: 'Maintenance.MoveLeader' },
  'alarm-disarm': { label: 'Disarm an alarm', call: 'Maintenance.Alarm DEACTIVATE' },
};

const FEATURES = Object.keys(LABELS) as EtcdFeature[];

/**
 * The guard on each call in a release. etcd 3.5.28 and 3.6.9 put Status, MemberList and the alarm calls behind the
 * root role; 3.5.29 and 3.6.10 opened MemberList and AlarmList to any user again, 3.6.12 Status too (3.5 has not, up to
 * 3.5.30). Snapshot, Hash, HashKV and Defragment have wanted root since 3.4.
 */
function guardOf(feature: EtcdFeature, v: EtcdVersion): Guard {
  const is35 = v.minor === 5;
  const is36 = v.minor === 6;
  // 3.5.28+ and 3.6.9+: the March 2026 "guard unauthenticated endpoints" releases.
  const guarded = (is35 && atLeast(v, 3, 5, 28)) || (is36 && atLeast(v, 3, 6, 9)) || atLeast(v, 3, 7);
  // 3.6.0 already guarded Status and MoveLeader with the root role.
  const rootFrom36 = atLeast(v, 3, 6) || guarded;
  switch (feature) {
    case 'health':
    case 'secrets-census':
      return 'open'; // key permissions decide, below
    case 'snapshot':
    case 'defragment':
    case 'hash-kv':
      return 'root';
    case 'move-leader':
      return rootFrom36 ? 'root' : 'open';
    case 'alarm-disarm':
      return guarded ? 'root' : 'open';
    case 'status':
      if (atLeast(v, 3, 7) || (is36 && atLeast(v, 3, 6, 12))) return 'user';
      return rootFrom36 ? 'root' : 'open';
    case 'member-list':
    case 'alarm-list':
      if (!guarded) return 'open';
      if ((is35 && v.patch === 28) || (is36 && v.patch === 9)) return 'root';
      return 'user';
  }
}

/** The end of the range of every key under `prefix`, as etcdctl --prefix makes it (keys compared as strings). */
export function prefixRangeEnd(prefix: string): string {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i);
    if (code < 0xffff) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return '\0';
}

/** The user's roles let it read every key in [key, rangeEnd) ("" rangeEnd: the one key). */
export function mayRead(access: EtcdAccess, key: string, rangeEnd = ''): boolean {
  const end = rangeEnd === '' ? `${key}\0` : rangeEnd;
  return access.permissions.some((p) => {
    if (!p.read) return false;
    if (p.rangeEnd === '') return rangeEnd === '' && p.key === key;
    if (p.key > key) return false;
    return p.rangeEnd === '\0' || p.rangeEnd >= end;
  });
}

const SECRETS_PREFIX = '/registry/secrets/';

function whoAmI(access: EtcdAccess): string {
  const roles = access.roles.length ? `roles ${access.roles.join(', ')}` : 'no roles';
  return `etcd user "${access.user}" (${roles})`;
}

/**
 * Every feature with whether this user may use it on this release. `version` is the lowest release among the members:
 * a call can reach any of them.
 */
export function featureAccess(access: EtcdAccess, version: string | null): FeatureAccess[] {
  const v = parseEtcdVersion(version);
  return FEATURES.map((feature) => {
    const base = { feature, ...LABELS[feature] };
    const allow = (reason: string): FeatureAccess => ({ ...base, allowed: true, reason });
    const deny = (reason: string): FeatureAccess => ({ ...base, allowed: false, reason });
    if (access.authEnabled === false) return allow('etcd auth is off: the client certificate is enough');
    if (access.isRoot) return allow(`${whoAmI(access)} has the root role`);
    if (access.authEnabled === null) return { ...base, allowed: null, reason: 'etcd did not say whether auth is on' };
    if (!access.user) return deny('auth is on and the dashboard has no client certificate to name an etcd user');
    if (feature === 'health') {
      // etcdctl endpoint health counts "permission denied" as healthy: the read went through raft.
      return allow('a refused read still proves the member commits through raft');
    }
    if (access.userExists === false) {
      // etcd takes the certificate's name without looking it up: calls open to any user still work.
      const guard = v ? guardOf(feature, v) : 'root';
      if (guard !== 'root' && feature !== 'secrets-census')
        return allow(`etcd ${v?.text} does not look the user up here`);
      return deny(
        `auth is on and "${access.user}" (the client certificate's common name) is not an etcd user: ` +
          `etcdctl user add ${access.user} --no-password`,
      );
    }
    if (feature === 'secrets-census') {
      return mayRead(access, SECRETS_PREFIX, prefixRangeEnd(SECRETS_PREFIX))
        ? allow(`${whoAmI(access)} may read ${SECRETS_PREFIX}`)
        : deny(`${whoAmI(access)} may not read ${SECRETS_PREFIX}; grant a role read on that prefix`);
    }
    if (!v) return { ...base, allowed: null, reason: 'the members did not report their etcd release' };
    const guard = guardOf(feature, v);
    if (guard === 'open') return allow(`etcd ${v.text} lets any client make this call`);
    if (guard === 'user') return allow(`etcd ${v.text} lets any etcd user make this call`);
    return deny(`etcd ${v.text} requires the root role for ${base.call}; ${whoAmI(access)} lacks it`);
  });
}

/** What /api/clusters/[id]/access answers: the dashboard's etcd user and each feature, as last read. */
export interface ClusterAccess {
  clusterId: string;
  readAt: string;
  /** The member asked. */
  endpoint: string | null;
  /** The lowest release among the members, or the asked member's /version. */
  version: string | null;
  access: EtcdAccess | null;
  features: FeatureAccess[];
  /** Why the reading is missing or incomplete. */
  failure: string | null;
}
