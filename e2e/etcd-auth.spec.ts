// A cluster with etcd auth on, where the dashboard's client certificate is an etcd user without the root role: on
// etcd 3.5.28+ that user may not even ask Status. The page must still tell up members from down ones, say which of
// its features etcd refuses and why, and a snapshot must fail with that reason rather than a misleading one.
import { expect, test, type APIRequestContext } from '@playwright/test';
import path from 'node:path';
import type { LocalCluster } from '../scripts/lib/local-cluster';
import type { DashboardProcess } from '../scripts/lib/dashboard-process';
import type { ClusterAccess } from '../lib/cluster/etcd-features';
import { E2E_ROOT } from './support/e2e-env';
import { etcdctlOn, freshCluster, operatorApi, startAdminDashboard } from './support/local-stack';
import { snapshotEnding } from './support/snapshot-api';
import { waitForStatus } from './support/status-api';

const PORT = 3205;
const ROOT = path.join(E2E_ROOT, 'etcd-auth');
const ADMIN_PASSWORD = 'etcd-auth-admin-password-1';
const ETCD_ROOT = 'root:etcd-root-pw-1';

let cluster: LocalCluster;
let dashboard: DashboardProcess | null = null;
let operator: APIRequestContext;

const etcdctl = (...args: string[]) => etcdctlOn(cluster, args[0] === 'auth' ? args : ['--user', ETCD_ROOT, ...args]);

test.beforeAll(async () => {
  test.setTimeout(120_000);
  // 3.5.30: the release where a user without the root role is refused Status itself.
  cluster = freshCluster(ROOT, { basePort: 24850, name: 'au', etcd: '3.5' });
  await cluster.start();
  etcdctl('user', 'add', ETCD_ROOT, '--interactive=false');
  etcdctl('user', 'grant-role', 'root', 'root');
  etcdctl('user', 'add', 'etcd-dashboard:unused-pw-1', '--interactive=false');
  etcdctl('role', 'add', 'dashboard-reader');
  etcdctl('role', 'grant-permission', 'dashboard-reader', 'read', 'health');
  etcdctl('user', 'grant-role', 'etcd-dashboard', 'dashboard-reader');
  etcdctl('auth', 'enable');

  dashboard = await startAdminDashboard({
    root: ROOT,
    port: PORT,
    adminPassword: ADMIN_PASSWORD,
    entry: { id: 'au', name: 'Auth cluster', cluster: cluster.state },
  });
  operator = await operatorApi(dashboard.url, ADMIN_PASSWORD, 'auth-op');
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

  const done = await snapshotEnding(operator, 'au', 'failed', 30_000);
  expect(done.error).toContain('permission denied');
  expect(done.error).toContain('root role');

  // Maintenance etcd would refuse is refused before it starts, with etcd's reason, not a step failing half-way.
  for (const action of ['defragment', 'nospace-recovery'] as const) {
    const res = await operator.post('/api/clusters/au/maintenance', { data: { action } });
    expect(res.status(), await res.text()).toBe(409);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('etcd_permission');
    expect(error.message).toContain('requires the root role for Maintenance.Defragment');
  }
  // The consistency check cannot hash without the root role: it says so and claims no agreement.
  const check = await operator.post('/api/clusters/au/consistency');
  expect(check.status(), await check.text()).toBe(200);
  const report = (await check.json()) as { agree: boolean | null; members: Array<{ error: string | null }> };
  expect(report.agree).toBeNull();
  expect(report.members.every((m) => /permission denied/.test(m.error ?? ''))).toBe(true);
});
