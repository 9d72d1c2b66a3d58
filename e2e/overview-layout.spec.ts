// The overview as the SRE sees it when many things are wrong at once: a real cluster with thresholds low enough that
// slow-disk, commit-latency and certificate alerts fire on every member, plus no snapshot. The alerts read as one row
// per cause, the quorum card and the members stay on the first screen of a laptop, wide screens get two columns, and
// nothing sticks out of the screen or its card at phone, laptop, 1080p and 4K (screenshots kept as artifacts).
import { expect, request, test, type APIRequestContext, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import { LocalCluster } from '../scripts/lib/local-cluster';
import type { AlertsResponse } from '../lib/alerts/alert-types';
import { writeDashboardConfig } from './support/config-file';
import { E2E_ROOT } from './support/e2e-env';
import { overflowingElements, spilledText } from './support/layout';
import { operatorApi } from './support/local-stack';
import { snapshotEnding } from './support/snapshot-api';
import { waitForStatus } from './support/status-api';

const ROOT = path.join(E2E_ROOT, 'overview-layout');
const CLUSTER_ID = 'busy';
const ADMIN_PASSWORD = 'layout-admin-password-1';
const SIZES = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'laptop', width: 1366, height: 768 },
  { name: '1080p', width: 1920, height: 1080 },
  { name: '4k', width: 3840, height: 2160 },
] as const;

let cluster: LocalCluster;
let dashboard: DashboardProcess;
let api: APIRequestContext;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  cluster = LocalCluster.create({ dir: path.join(ROOT, 'cluster'), members: 3, basePort: 25800, name: 'busy' });
  await cluster.start();
  const config = writeDashboardConfig(path.join(ROOT, 'dashboard.yaml'), [
    {
      id: CLUSTER_ID,
      name: 'Busy cluster',
      cluster: cluster.state,
      alerts: {
        // Real measurements against thresholds no disk meets: every member's WAL fsync and backend commit are "slow",
        // and every certificate (a year, the CA ten) is "expiring" within a 100-year window.
        thresholds: {
          walFsyncP99WarnMs: 0.0001,
          backendCommitP99WarnMs: 0.0001,
          certWarnDays: 36_500,
          forSeconds: { wal_fsync_slow: 0, backend_commit_slow: 0 },
        },
      },
    },
  ]);
  dashboard = await startDashboard({
    port: 3331,
    env: { ETCD_DASHBOARD_CONFIG: config, DASHBOARD_ANONYMOUS: 'viewer', DASHBOARD_ADMIN_PASSWORD: ADMIN_PASSWORD },
    logFile: path.join(ROOT, 'dashboard.log'),
  });
  api = await request.newContext({ baseURL: dashboard.url });
  // Writes all along, so the members' fsync and commit histograms have new samples at every scrape.
  let n = 0;
  await expect
    .poll(
      async () => {
        execFileSync(cluster.binaries.etcdctl, ['put', `/busy/${n++ % 20}`, 'x'], {
          env: { ...process.env, ...cluster.etcdctlEnv },
        });
        const res = await api.get(`/api/alerts?cluster=${CLUSTER_ID}`);
        const alerts = ((await res.json()) as AlertsResponse).alerts.filter((a) => a.state === 'firing');
        return [...new Set(alerts.map((a) => a.rule))].sort().join(', ');
      },
      { timeout: 90_000, intervals: [500] },
    )
    .toMatch(/backend_commit_slow.*cert_expiring.*snapshot_stale.*wal_fsync_slow/);
});

test.afterAll(async () => {
  await api?.dispose();
  await dashboard?.stop();
  await cluster?.stop();
});

async function overview(page: Page, size: (typeof SIZES)[number]): Promise<void> {
  await page.setViewportSize({ width: size.width, height: size.height });
  await page.goto(`${dashboard.url}/?cluster=${CLUSTER_ID}`);
  await expect(page.getByTestId('quorum-card')).toBeVisible();
  await expect(page.locator('[data-testid="alert"]').first()).toBeVisible();
}

test('seven and more alerts read as one row per cause, worst first, the rest folded', async ({ page }) => {
  const firing = ((await (await api.get(`/api/alerts?cluster=${CLUSTER_ID}`)).json()) as AlertsResponse).alerts.filter(
    (a) => a.state === 'firing',
  );
  expect(firing.length).toBeGreaterThanOrEqual(7);
  await overview(page, SIZES[1]);
  const panel = page.getByRole('region', { name: 'Alerts' });
  // Slow WAL fsync on three members is one row naming them, with each member's figure one click away.
  const wal = panel.locator('[data-testid="alert"][data-rule="wal_fsync_slow"][data-state="firing"]');
  await expect(wal).toHaveCount(1);
  await expect(wal).toHaveAttribute('data-count', '3');
  await expect(wal).toContainText('WAL fsync slow on 3 members: busy-m0, busy-m1, busy-m2');
  await expect(wal.locator('a', { hasText: 'Runbook' })).toHaveAttribute('href', '/runbooks#etcdDashboardWalFsyncSlow');
  // One row per rule, severity and state: never more rows than causes.
  const rows = await panel
    .locator('[data-testid="alert"]')
    .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-rule')}/${e.getAttribute('data-state')}`));
  expect(new Set(rows).size).toBe(rows.length);
  expect(rows.length).toBeLessThan(firing.length);
  // Two rows shown in full, the others folded under "N more firing".
  const more = panel.getByTestId('more-alerts');
  await expect(more).toContainText(/^\d+ more firing: /);
  await expect(panel.locator(':scope > ul > [data-testid="alert"]')).toHaveCount(2);
});

test('at 1366×768 the quorum card and the members start on the first screen; from 1440 px two columns', async ({
  page,
}) => {
  await overview(page, SIZES[1]);
  const quorum = (await page.getByTestId('quorum-card').boundingBox())!;
  expect(quorum.y + quorum.height).toBeLessThanOrEqual(768);
  const members = (await page.getByRole('region', { name: 'Members' }).boundingBox())!;
  expect(members.y).toBeLessThan(768);
  const firstMember = (await page.getByTestId('member-row').first().boundingBox())!;
  expect(firstMember.y).toBeLessThan(768);

  await overview(page, SIZES[2]);
  const q = (await page.getByTestId('quorum-card').boundingBox())!;
  const alerts = (await page.getByRole('region', { name: 'Alerts' }).boundingBox())!;
  // Side by side, and using the width: the two columns together span most of the screen.
  expect(alerts.x).toBeGreaterThanOrEqual(q.x + q.width);
  expect(alerts.x + alerts.width - q.x).toBeGreaterThan(1920 * 0.85);
});

for (const size of SIZES) {
  test(`at ${size.width}×${size.height} (${size.name}) nothing sticks out of the screen or its card`, async ({
    page,
  }, testInfo) => {
    await overview(page, size);
    // Folded rows open, so their text is measured too.
    for (const d of await page.locator('details').all())
      await d.evaluate((el) => ((el as HTMLDetailsElement).open = true));
    const file = testInfo.outputPath(`overview-${size.name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    await testInfo.attach(`overview-${size.name}`, { path: file, contentType: 'image/png' });
    expect(await overflowingElements(page)).toEqual([]);
    expect(await spilledText(page, '[data-testid="alert"]')).toEqual([]);
    expect(await spilledText(page, '[data-testid="member-row"]')).toEqual([]);
    expect(await spilledText(page, '[data-testid="quorum-card"]')).toEqual([]);
  });
}

// Every other page a viewer opens, at the same four sizes: no sideways scroll, text inside its card, a screenshot each.
const PAGES = [
  {
    path: '/history',
    ready: '[data-testid="chart-probe_ms"][data-points]:not([data-points="0"])',
    cards: '[data-testid^="chart-"]',
  },
  { path: '/snapshots', ready: 'section[aria-label="Snapshot history"]', cards: '[data-testid="snapshot-row"]' },
  { path: '/maintenance', ready: 'main h2', cards: 'main section' },
  { path: '/runbooks', ready: '[data-testid="runbook"]', cards: '[data-testid="runbook"]' },
  { path: '/noc', ready: '[data-testid="noc-tile"]', cards: '[data-testid="noc-tile"]' },
  { path: '/login', ready: 'form[aria-label="Sign in"]', cards: 'form' },
  { path: '/audit', ready: '[data-testid="audit-row"]', cards: 'main', admin: true },
  { path: '/tokens', ready: '[data-testid="token-row"]', cards: 'main', admin: true },
] as const;

for (const p of PAGES) {
  test(`${p.path} at four sizes: nothing sticks out of the screen or its card`, async ({ page }, testInfo) => {
    if (p.path === '/snapshots') {
      // A real snapshot, so the table has a row to lay out (taken after the overview's tests, which want none).
      const operator = await operatorApi(dashboard.url, ADMIN_PASSWORD, 'layout-operator');
      try {
        await snapshotEnding(operator, CLUSTER_ID, 'succeeded', 30_000);
      } finally {
        await operator.dispose();
      }
    }
    if ('admin' in p) {
      // The page's own context signs in, so the browser carries the session cookie.
      const res = await page.request.post(`${dashboard.url}/api/auth/login`, {
        data: { username: 'admin', password: ADMIN_PASSWORD },
      });
      expect(res.status()).toBe(200);
    }
    for (const size of SIZES) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await page.goto(`${dashboard.url}${p.path}?cluster=${CLUSTER_ID}`);
      await expect(page.locator(p.ready).first()).toBeVisible();
      const name = `${p.path.slice(1)}-${size.name}`;
      const file = testInfo.outputPath(`${name}.png`);
      await page.screenshot({ path: file, fullPage: p.path !== '/noc' });
      await testInfo.attach(name, { path: file, contentType: 'image/png' });
      expect(await overflowingElements(page), `${p.path} at ${size.name}`).toEqual([]);
      expect(await spilledText(page, p.cards), `${p.path} at ${size.name}`).toEqual([]);
      if (p.path === '/snapshots') {
        // A phone gets a card per snapshot with each field labelled; a laptop and wider get the table.
        const row = page.getByTestId('snapshot-row').first();
        await expect(row).toContainText('✓ verified');
        const display = await row.evaluate((el) => getComputedStyle(el).display);
        expect(display, size.name).toBe(size.width < 768 ? 'grid' : 'table-row');
        if (size.width < 768) await expect(row.getByText('Keys (all revisions)')).toBeVisible();
        else await expect(page.getByRole('columnheader', { name: 'Keys (all revisions)' })).toBeVisible();
      }
    }
  });
}

test('an outage at four sizes: the down member named at once; without quorum no page names a leader', async ({
  page,
}, testInfo) => {
  test.setTimeout(180_000);
  const names = cluster.state.members.map((m) => m.name);
  const noc = page.locator(`[data-testid="noc-tile"][data-cluster="${CLUSTER_ID}"]`);
  const shots = async (state: string) => {
    for (const size of SIZES) {
      await page.setViewportSize({ width: size.width, height: size.height });
      for (const [path, ready] of [
        ['/', page.getByTestId('quorum-card')],
        ['/noc', noc],
      ] as const) {
        await page.goto(`${dashboard.url}${path}?cluster=${CLUSTER_ID}`);
        await expect(ready).toHaveAttribute('data-state', state);
        const name = `outage-${state}-${path === '/' ? 'overview' : 'noc'}-${size.name}`;
        const file = testInfo.outputPath(`${name}.png`);
        await page.screenshot({ path: file, fullPage: path === '/' });
        await testInfo.attach(name, { path: file, contentType: 'image/png' });
        expect(await overflowingElements(page), name).toEqual([]);
      }
    }
  };
  try {
    await cluster.stopMember(2);
    await waitForStatus(api, (s) => s.quorum.state === 'at-risk', 20_000, CLUSTER_ID);
    await page.goto(`${dashboard.url}/?cluster=${CLUSTER_ID}`);
    await expect(page.getByTestId('quorum-trouble')).toHaveText(`down: ${names[2]}`);
    await expect(page.getByTestId('quorum-leader')).toContainText('Leader: ');
    await page.goto(`${dashboard.url}/noc`);
    await expect(noc.getByTestId('noc-live')).toHaveText(`✖ down: ${names[2]}`);
    await shots('at-risk');

    await cluster.stopMember(1);
    await waitForStatus(api, (s) => s.quorum.state === 'lost', 20_000, CLUSTER_ID);
    await page.goto(`${dashboard.url}/?cluster=${CLUSTER_ID}`);
    const leaderLine = page.getByTestId('quorum-leader');
    await expect(leaderLine).toContainText('No leader');
    await expect(leaderLine).not.toContainText('Leader: ');
    await expect(page.getByTestId('quorum-trouble')).toContainText(`down: ${names[1]}, ${names[2]}`);
    await page.goto(`${dashboard.url}/noc`);
    await expect(noc.getByTestId('noc-live')).toContainText(`✖ down: ${names[1]}, ${names[2]}`);
    await expect(noc.getByTestId('noc-live')).toContainText('no leader');
    await expect(noc).not.toContainText('★ leader');
    await shots('lost');
  } finally {
    cluster.startMember(1);
    cluster.startMember(2);
    await cluster.waitHealthy(30_000);
  }
  await waitForStatus(api, (s) => s.quorum.state === 'healthy', 30_000, CLUSTER_ID);
});
