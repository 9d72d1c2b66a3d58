// A cluster with etcd auth on, where the dashboard's client certificate is an etcd user without the root role: on
// etcd 3.5.28+ that user may not even ask Status. The page must still tell up members from down ones, say which of
// its features etcd refuses and why, and a snapshot must fail with that reason rather than a misleading one.
import { expect, request, test, type APIRequestContext } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { LocalCluster } from '../scripts/lib/local-cluster';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import type { ClusterAccess } from '../lib/cluster/etcd-features';
import type { SnapshotRecord } from '../lib/snapshots/snapshot-types';
import { writeDashboardConfig } from './support/config-file';
import { E2E_ROOT } from './support/e2e-env';
import { waitForStatus } from './support/status-api';

const PORT = 3205;
const ROOT = path.join(E2E_ROOT, 'etcd-auth');
const ADMIN_PASSWORD = 'etcd-auth-admin-password-1';
const ETCD_ROOT = 'root:etcd-root-pw-1';

let cluster: LocalCluster;
let dashboard: DashboardProcess | null = null;
let operator: APIRequestContext;

const etcdctl = (...args: string[]) =>
  execFileSync(cluster.binaries.etcdctl, args[0] === 'auth' ? args : ['--user', ETCD_ROOT, ...args], {
    env: { ...process.env, ...cluster.etcdctlEnv },
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });

test.beforeAll(async () => {
  test.setTimeout(120_000);
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  // 3.5.30: the release where a user without the root role is refused Status itself.
  cluster = LocalCluster.create({
    dir: path.join(ROOT, 'cluster'),
    members: 3,
    basePort: 24850,
    name: 'au',
    etcd: '3.5',
  });
  await cluster.start();
  etcdctl('user', 'add', ETCD_ROOT, '--interactive=false');
  etcdctl('user', 'grant-role', 'root', 'root');
  etcdctl('user', 'add', 'etcd-dashboard:unused-pw-1', '--interactive=false');
  etcdctl('role', 'add', 'dashboard-reader');
  etcdctl('role', 'grant-permission', 'dashboard-reader', 'read', 'health');
  etcdctl('user', 'grant-role', 'etcd-dashboard', 'dashboard-reader');
  etcdctl('auth', 'enable');

  const config = writeDashboardConfig(path.join(ROOT, 'dashboard.yaml'), [
    { id: 'au', name: 'Auth cluster', cluster: cluster.state },
  ]);
  dashboard = await startDashboard({
    port: PORT,
    env: { ETCD_DASHBOARD_CONFIG: config, DASHBOARD_ADMIN_PASSWORD: ADMIN_PASSWORD, DASHBOARD_ANONYMOUS: 'viewer' },
    dataDir: path.join(ROOT, 'data'),
    logFile: path.join(ROOT, 'dashboard.log'),
  });
  const admin = await request.newContext({ baseURL: dashboard.url });
  expect(
    (await admin.post('/api/auth/login', { data: { username: 'admin', password: ADMIN_PASSWORD } })).status(),
  ).toBe(200);
  const { token } = (await (
    await admin.post('/api/tokens', { data: { name: 'auth-op', role: 'operator' } })
  ).json()) as {
    token: string;
  };
  operator = await request.newContext({
    baseURL: dashboard.url,
    extraHTTPHeaders: { Authorization: `Bearer ${token}` },
  });
});

test.afterAll(async () => {
  await dashboard?.stop();
  await cluster?.stop();
});

test('etcd auth on, the dashboard user without root: members still up, refused features named, snapshot refused with the reason', async ({
  page,
}) => {
  test.setTimeout(90_000);
  expect(cluster.binaries.line).toBe('3.5');
  // Status is refused, but every member answers the health read: three up, quorum held.
  const { status } = await waitForStatus(
    operator,
    (s) => s.members.length === 3 && s.members.every((m) => m.health === 'healthy'),
    30_000,
    'au',
  );
  expect(status.quorum.state).toBe('healthy');

  const access = (await (await operator.get('/api/clusters/au/access')).json()) as ClusterAccess;
  expect(access.access).toMatchObject({ authEnabled: true, user: 'etcd-dashboard', roles: ['dashboard-reader'] });
  expect(access.version).toBe('3.5.30');
  const refused = access.features.filter((f) => f.allowed === false).map((f) => f.feature);
  expect(refused).toEqual(expect.arrayContaining(['status', 'snapshot', 'defragment', 'secrets-census']));
  expect(refused).not.toContain('member-list');

  await page.goto(`${dashboard!.url}/?cluster=au`);
  const panel = page.getByTestId('etcd-access');
  await expect(panel).toHaveAttribute('data-state', 'limited');
  await expect(panel).toContainText('etcd user “etcd-dashboard”');
  await expect(panel.locator('[data-feature="snapshot"]')).toContainText('requires the root role');
  await expect(panel.locator('[data-feature="status"]')).toContainText('etcd 3.5.30');
  await expect(page.getByTestId('member-row')).toHaveCount(3);

  const taken = (await (await operator.post('/api/clusters/au/snapshots')).json()) as SnapshotRecord;
  let done: SnapshotRecord | undefined;
  await expect
    .poll(
      async () => {
        done = (await (await operator.get(`/api/clusters/au/snapshots/${taken.id}`)).json()) as SnapshotRecord;
        return done.status;
      },
      { timeout: 30_000, intervals: [200] },
    )
    .toBe('failed');
  expect(done?.error).toContain('permission denied');
  expect(done?.error).toContain('root role');
});
