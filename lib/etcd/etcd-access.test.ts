// Integration: what etcd lets the dashboard's etcd user do, read and predicted, then checked by making each call on a
// real single-member mTLS etcd of the version under test, with auth off, as a reader, and as root (ports 24830–24832).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '@/scripts/lib/local-cluster';
import { CertificateAuthority } from '@/scripts/lib/pki';
import { featureAccess, type EtcdFeature } from '@/lib/cluster/etcd-features';
import { certificateUser, readEtcdAccess } from './etcd-access';
import { describeEtcdError, isAuthRefusal } from './etcd-error';
import { createMemberClient, type MemberClient } from './member-client';
import { censusSecrets } from './secrets-census';
import { streamSnapshotToFile } from './snapshot-stream';
import type { TlsCredentials } from './tls-credentials';

const BASE_PORT = 24830;
const ROOT = 'root:r00t-pw';

let dir = '';
let cluster: LocalCluster | undefined;
const clients: MemberClient[] = [];

function started(): LocalCluster {
  if (!cluster) throw new Error('cluster not started');
  return cluster;
}

function tls(certName?: string): TlsCredentials {
  const c = started();
  const certFile = certName ? path.join(dir, `${certName}.crt`) : c.state.clientCert;
  const keyFile = certName ? path.join(dir, `${certName}.key`) : c.state.clientKey;
  return { ca: readFileSync(c.state.caCert), cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

function client(creds: TlsCredentials): MemberClient {
  const made = createMemberClient({ endpoint: started().member(0).clientUrl, tls: creds, timeoutMs: 5000 });
  clients.push(made);
  return made;
}

/** etcdctl as root (password auth over the same mTLS), for the setup only. */
function etcdctl(...args: string[]): string {
  const c = started();
  const withUser = args[0] === 'auth' && args[1] === 'enable' ? args : ['--user', ROOT, ...args];
  return execFileSync(c.binaries.etcdctl, withUser, {
    env: { ...process.env, ...c.etcdctlEnv } as NodeJS.ProcessEnv,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

type Outcome = 'allowed' | 'denied';

/** Makes the call behind each feature and says whether etcd let it through (any other error counts as let through). */
async function tryFeature(feature: EtcdFeature, c: MemberClient, creds: TlsCredentials): Promise<Outcome> {
  const judge = async (call: () => Promise<unknown>): Promise<Outcome> => {
    try {
      await call();
      return 'allowed';
    } catch (err) {
      return isAuthRefusal(describeEtcdError(err)) ? 'denied' : 'allowed';
    }
  };
  const me = async () => (await c.maintenance.status()).header.member_id;
  switch (feature) {
    case 'status':
      return judge(() => c.maintenance.status());
    case 'member-list':
      return judge(() => c.cluster.memberList({}));
    case 'alarm-list':
      return judge(() => c.maintenance.alarm({ action: 'Get', alarm: 'None', memberID: 0 }));
    case 'health':
      return 'allowed'; // a refusal counts as healthy (asserted by the member probe's own tests)
    case 'secrets-census': {
      const r = await censusSecrets(c);
      return 'reason' in r && /permission denied|user (?:name )?not found/i.test(r.reason) ? 'denied' : 'allowed';
    }
    case 'snapshot': {
      const file = path.join(dir, `probe-${Date.now()}.db`);
      try {
        await streamSnapshotToFile({ endpoint: started().member(0).clientUrl, tls: creds, file });
        return 'allowed';
      } catch (err) {
        return /permission denied|user (?:name )?not found/i.test(String(err)) ? 'denied' : 'allowed';
      } finally {
        rmSync(file, { force: true });
      }
    }
    case 'defragment':
      return judge(() => c.maintenance.defragment({}));
    case 'hash-kv':
      return judge(() => c.maintenance.hash({}));
    case 'move-leader': {
      // Root may read its own id; a reader on 3.5.28+ may not even ask Status, so the target is taken with root's eyes.
      const target = rootMemberId ?? '0';
      return judge(() => c.maintenance.moveLeader({ targetID: target }));
    }
    case 'alarm-disarm':
      return judge(async () => c.maintenance.alarm({ action: 'Deactivate', alarm: 'Nospace', memberID: await me() }));
  }
}

let rootMemberId: string | null = null;

async function predictedAndActual(creds: TlsCredentials) {
  const c = client(creds);
  const access = await readEtcdAccess(c, certificateUser(creds.cert));
  expect(access.failure).toBeNull();
  const version = execFileSync(started().binaries.etcd, ['--version'], { encoding: 'utf8' }).match(
    /etcd Version: (\S+)/,
  )?.[1];
  const features = featureAccess(access, version ?? null);
  const actual: Record<string, Outcome> = {};
  const predicted: Record<string, Outcome | 'unknown'> = {};
  for (const f of features) {
    predicted[f.feature] = f.allowed === null ? 'unknown' : f.allowed ? 'allowed' : 'denied';
    actual[f.feature] = await tryFeature(f.feature, c, creds);
  }
  return { access, features, predicted, actual };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'etcd-access-'));
  cluster = LocalCluster.create({ dir, members: 1, basePort: BASE_PORT, name: 'access' });
  await cluster.start();
  // A second client certificate whose common name is no etcd user.
  new CertificateAuthority(path.dirname(cluster.state.caCert)).issue(
    'stranger',
    { commonName: 'not-an-etcd-user', usages: ['clientAuth'] },
    dir,
  );
  rootMemberId = (await client(tls()).maintenance.status()).header.member_id;
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe(`etcd access of the dashboard's etcd user (etcd ${process.env.ETCD_DASHBOARD_ETCD_VERSION ?? 'default'})`, () => {
  it('the client certificate names the etcd user "etcd-dashboard", as etcd --client-cert-auth takes it', () => {
    expect(certificateUser(tls().cert)).toBe('etcd-dashboard');
    expect(certificateUser(Buffer.from('not a certificate'))).toBeNull();
  });

  it('auth off: the reading says so and every feature works', async () => {
    const { access, predicted, actual } = await predictedAndActual(tls());
    expect(access.authEnabled).toBe(false);
    expect(Object.values(predicted).every((p) => p === 'allowed')).toBe(true);
    expect(actual).toEqual(predicted);
  }, 60_000);

  it('auth on, a reader: the prediction for each feature is what etcd does', async () => {
    etcdctl('user', 'add', ROOT, '--interactive=false');
    etcdctl('user', 'grant-role', 'root', 'root');
    etcdctl('user', 'add', 'etcd-dashboard:unused-pw', '--interactive=false');
    etcdctl('role', 'add', 'reader');
    etcdctl('role', 'grant-permission', 'reader', 'read', 'health');
    etcdctl('user', 'grant-role', 'etcd-dashboard', 'reader');
    etcdctl('auth', 'enable');

    const { access, features, predicted, actual } = await predictedAndActual(tls());
    expect(access).toMatchObject({ authEnabled: true, user: 'etcd-dashboard', roles: ['reader'], isRoot: false });
    expect(access.permissions).toEqual([{ key: 'health', rangeEnd: '', read: true, write: false }]);
    expect(actual).toEqual(predicted);
    // On every release a reader may not take snapshots, and the reason names the user and the missing role.
    const snapshot = features.find((f) => f.feature === 'snapshot');
    expect(snapshot?.allowed).toBe(false);
    expect(snapshot?.reason).toMatch(/root role.*etcd user "etcd-dashboard" \(roles reader\)/);
    expect(features.find((f) => f.feature === 'secrets-census')?.allowed).toBe(false);
  }, 120_000);

  it('auth on, a certificate whose name is no etcd user: told how to add it, and the prediction holds', async () => {
    const { access, features, predicted, actual } = await predictedAndActual(tls('stranger'));
    expect(access).toMatchObject({ authEnabled: true, user: 'not-an-etcd-user', userExists: false });
    expect(actual).toEqual(predicted);
    expect(features.find((f) => f.feature === 'snapshot')?.reason).toContain('etcdctl user add not-an-etcd-user');
  }, 120_000);

  it('auth on, the reader granted read on /registry/secrets/ and then root: census, then everything', async () => {
    etcdctl('role', 'grant-permission', 'reader', 'read', '/registry/secrets/', '--prefix=true');
    const reader = await predictedAndActual(tls());
    expect(reader.predicted['secrets-census']).toBe('allowed');
    expect(reader.actual).toEqual(reader.predicted);

    etcdctl('user', 'grant-role', 'etcd-dashboard', 'root');
    const { access, predicted, actual } = await predictedAndActual(tls());
    // etcd 3.4 has no AuthStatus, and root's RoleList answers whether auth is on or not.
    const authEnabled = started().binaries.line === '3.4' ? null : true;
    expect(access).toMatchObject({ authEnabled, isRoot: true, roles: ['reader', 'root'] });
    expect(Object.values(predicted).every((p) => p === 'allowed')).toBe(true);
    expect(actual).toEqual(predicted);
  }, 120_000);
});
