// A real NOSPACE alarm: a cluster with a 1 MiB quota filled until etcd refuses writes.
import { expect, request, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { LocalCluster } from '../scripts/lib/local-cluster';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import { E2E_ROOT } from './support/e2e-env';
import { waitForStatus } from './support/status-api';

let cluster: LocalCluster;
let dashboard: DashboardProcess;

test.beforeAll(async () => {
  cluster = LocalCluster.create({
    dir: path.join(E2E_ROOT, 'full'),
    members: 1,
    basePort: 24360,
    name: 'full',
    quotaBackendBytes: 1024 * 1024,
  });
  await cluster.start();
  // Fill it with etcdctl until etcd raises NOSPACE.
  const value = randomBytes(45_000).toString('base64');
  let refused = false;
  for (let i = 0; i < 100 && !refused; i++) {
    try {
      execFileSync(cluster.binaries.etcdctl, ['put', `/fill/${i}`], {
        input: value,
        env: { ...process.env, ...cluster.etcdctlEnv },
        stdio: ['pipe', 'ignore', 'pipe'],
      });
    } catch (err) {
      refused = String((err as { stderr?: Buffer }).stderr).includes('database space exceeded');
      if (!refused) throw err;
    }
  }
  expect(refused, 'etcd must refuse writes once the quota is reached').toBe(true);
  dashboard = await startDashboard({
    port: 3194,
    env: { ...cluster.etcdctlEnv, DASHBOARD_ANONYMOUS: 'viewer' },
    logFile: path.join(E2E_ROOT, 'dashboard-full.log'),
  });
});

test.afterAll(async () => {
  await dashboard?.stop();
  await cluster?.stop();
});

test('an active NOSPACE alarm is listed, marks its member unhealthy and puts a banner with the remedy on the page', async ({
  page,
}) => {
  const api = await request.newContext({ baseURL: dashboard.url });
  const { status } = await waitForStatus(api, (s) => s.alarms.length > 0, 5_000);
  await api.dispose();
  const member = status.members[0]!;
  expect(status.alarms).toEqual([{ memberId: member.id, alarm: 'NOSPACE' }]);
  expect(member.health).toBe('unhealthy');
  expect(member.error).toBe('alarm active: NOSPACE');

  await page.goto(`${dashboard.url}/`);
  const banner = page.getByTestId('alarm-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('NOSPACE');
  await expect(banner).toContainText('etcdctl alarm disarm');
  await expect(page.getByTestId('quorum-card')).toContainText('An alarm is active (NOSPACE)');
});

test('the NOSPACE alarm fires a critical alert at once, with what to do', async ({ page }) => {
  const api = await request.newContext({ baseURL: dashboard.url });
  let alarm: { rule: string; severity: string; state: string; summary: string; advice: string } | undefined;
  await expect
    .poll(
      async () => {
        const body = (await (await api.get('/api/alerts')).json()) as { alerts: NonNullable<typeof alarm>[] };
        alarm = body.alerts.find((a) => a.rule === 'alarm_active');
        return alarm?.state;
      },
      { timeout: 10_000, intervals: [250] },
    )
    .toBe('firing');
  await api.dispose();
  expect(alarm).toMatchObject({ severity: 'critical', summary: 'NOSPACE alarm on full-m0' });
  expect(alarm!.advice).toContain('etcdctl alarm disarm');
  await page.goto(`${dashboard.url}/`);
  await expect(page.locator('[data-testid="alert"][data-rule="alarm_active"]')).toContainText('CRITICAL');
});
