// The NOC wall screen: three clusters (healthy, degraded, unreachable) as tiles at 1920×1080, screenshots kept as
// artifacts; the dashboard stopped → every tile says NO DATA within 10 s; started again → they recover, untouched.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { LocalCluster, type LocalClusterState } from '../scripts/lib/local-cluster';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import type { NocResponse } from '../lib/alerts/noc-types';
import { writeDashboardConfig, type ClusterEntry } from './support/config-file';
import { spilledText } from './support/layout';
import { E2E_CLUSTER_DIR, E2E_ROOT } from './support/e2e-env';

const ROOT = path.join(E2E_ROOT, 'noc');
const PORT = 3197;
const DATA_DIR = path.join(ROOT, 'data');

let degraded: LocalCluster;
let dashboard: DashboardProcess | null = null;
let config: string;
let wall: string;

/** A cluster entry whose endpoints nothing listens on: the dashboard can never reach it. */
function unreachable(like: LocalClusterState, firstPort: number): LocalClusterState {
  return {
    ...like,
    members: like.members.map((m, i) => ({ ...m, clientUrl: `https://127.0.0.1:${firstPort + i}` })),
  };
}

async function start(): Promise<DashboardProcess> {
  return startDashboard({
    port: PORT,
    // Staging's frozen member holds every poll of it for the whole deadline: its first poll ends well after the
    // first alert evaluation, as on a busy machine.
    env: { ETCD_DASHBOARD_CONFIG: config, DASHBOARD_ANONYMOUS: 'viewer', ETCD_DASHBOARD_PROBE_TIMEOUT_MS: '2500' },
    logFile: path.join(ROOT, 'dashboard.log'),
    dataDir: DATA_DIR,
  });
}

test.beforeAll(async () => {
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  const healthy = LocalCluster.load(E2E_CLUSTER_DIR);
  degraded = LocalCluster.create({ dir: path.join(ROOT, 'degraded'), members: 3, basePort: 25420, name: 'dg' });
  await degraded.start();
  await degraded.freezeMember(2);
  const entries: ClusterEntry[] = [
    { id: 'prod', name: 'Production', cluster: healthy.state },
    { id: 'staging', name: 'Staging', cluster: degraded.state },
    { id: 'edge', name: 'Edge site', cluster: unreachable(healthy.state, 25436) },
  ];
  config = writeDashboardConfig(path.join(ROOT, 'noc.yaml'), entries);
  // Twelve tiles: the nine extra ones unreachable, for the no-scrolling check.
  wall = writeDashboardConfig(path.join(ROOT, 'wall.yaml'), [
    ...entries,
    ...Array.from({ length: 9 }, (_, i) => ({
      id: `dc-${i + 1}`,
      name: `Datacentre ${i + 1}`,
      cluster: unreachable(healthy.state, 25440 + i * 3),
    })),
  ]);
  dashboard = await start();
});

test.afterAll(async () => {
  await dashboard?.stop();
  await degraded?.thawMember(2);
  await degraded?.stop();
});

const tile = (page: Page, id: string) => page.locator(`[data-testid="noc-tile"][data-cluster="${id}"]`);

test('three clusters at 1920×1080: healthy, degraded and unreachable read as words, not only colours', async ({
  page,
}, testInfo) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto(`${dashboard!.url}/noc`);
  // Anonymous viewing is on: no login prompt, no redirect.
  expect(new URL(page.url()).pathname).toBe('/noc');
  await expect(page.getByTestId('noc-tile')).toHaveCount(3);

  await expect(tile(page, 'prod')).toHaveAttribute('data-state', 'healthy', { timeout: 15_000 });
  await expect(tile(page, 'prod')).toContainText('HEALTHY');
  await expect(tile(page, 'prod')).toContainText('3/3 healthy');
  await expect(tile(page, 'prod')).toContainText('★ leader e2e-m');

  // Degraded: one of three members down leaves quorum with nothing to spare, which the tile calls AT RISK.
  await expect(tile(page, 'staging')).toHaveAttribute('data-state', 'at-risk', { timeout: 15_000 });
  await expect(tile(page, 'staging')).toContainText('AT RISK');
  await expect(tile(page, 'staging')).toContainText('2/3 healthy');
  // The live line names the member that is down at once, before any alert's for-duration has passed.
  await expect(tile(page, 'staging').getByTestId('noc-live')).toContainText(
    `✖ down: ${degraded.state.members[2]!.name}`,
  );
  // The worst firing alert is on the tile once its for-duration has held (quorum at risk: 5 s).
  await expect(tile(page, 'staging').getByTestId('noc-alert')).toContainText(
    '2 of 3 healthy: one more failure loses quorum',
    {
      timeout: 30_000,
    },
  );
  // "(+N)" says what it counts.
  const more = tile(page, 'staging').getByTestId('noc-more');
  await expect(more).toHaveText(/^\+\d+ more alerts?$/);
  // Shown whole, not cut by the summary beside it.
  expect(await more.evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
  await expect(tile(page, 'staging').getByTestId('noc-snapshot')).toHaveText('snapshot NONE');

  await expect(tile(page, 'edge')).toHaveAttribute('data-state', 'no-data', { timeout: 15_000 });
  await expect(tile(page, 'edge')).toContainText('NO DATA');
  await expect(tile(page, 'edge')).toContainText('not since the dashboard started · no member answers (3 configured)');

  // Readable from five metres: the state word is large, and nothing scrolls or can be clicked.
  const fontPx = await tile(page, 'prod')
    .getByTestId('noc-state')
    .evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  expect(fontPx).toBeGreaterThanOrEqual(60);
  // The secondary lines and the "updated" time too, at 4 % of the screen's height or more.
  for (const el of [
    tile(page, 'staging').getByTestId('noc-live'),
    tile(page, 'staging').getByTestId('noc-alert'),
    page.getByTestId('noc-clock'),
  ]) {
    const px = await el.evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    expect(px, (await el.textContent()) ?? '').toBeGreaterThanOrEqual(0.04 * 1080);
  }
  expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(1080);
  await expect(page.locator('a, button, input, select, textarea')).toHaveCount(0);

  await page.screenshot({ path: testInfo.outputPath('noc-1920x1080.png') });
  await testInfo.attach('noc-1920x1080', { path: testInfo.outputPath('noc-1920x1080.png'), contentType: 'image/png' });
});

test('/metrics tells an existing Prometheus the same: quorum state, members, alerts, snapshot age, poll time', async ({
  request,
}) => {
  let text = '';
  await expect
    .poll(
      async () => {
        const res = await request.get(`${dashboard!.url}/metrics`);
        expect(res.status()).toBe(200);
        expect(res.headers()['content-type']).toContain('text/plain');
        text = await res.text();
        return /etcd_dashboard_alerts\{etcd_cluster="staging",alertname="etcdDashboardQuorumAtRisk",rule="quorum_at_risk",severity="critical",state="firing"\} 1/.test(
          text,
        );
      },
      { timeout: 30_000, intervals: [500] },
    )
    .toBe(true);
  const value = (series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  expect(value('etcd_dashboard_quorum_state{etcd_cluster="prod",state="healthy"}')).toBe(1);
  expect(value('etcd_dashboard_quorum_state{etcd_cluster="prod",state="lost"}')).toBe(0);
  expect(value('etcd_dashboard_quorum_state{etcd_cluster="staging",state="at-risk"}')).toBe(1);
  expect(value('etcd_dashboard_quorum_state{etcd_cluster="edge",state="lost"}')).toBe(1);
  expect(value('etcd_dashboard_members_healthy{etcd_cluster="prod"}')).toBe(3);
  expect(value('etcd_dashboard_members_healthy{etcd_cluster="staging"}')).toBe(2);
  expect(value('etcd_dashboard_members_healthy{etcd_cluster="edge"}')).toBe(0);
  expect(value('etcd_dashboard_data_stale{etcd_cluster="prod"}')).toBe(0);
  expect(value('etcd_dashboard_collector_poll_duration_seconds{etcd_cluster="prod"}')).toBeGreaterThan(0);
  // How many polls were not shown because the dashboard itself was held up (a busy machine may have had some).
  expect(text).toMatch(/^etcd_dashboard_polls_held_up_total\{etcd_cluster="prod"\} \d+$/m);
  expect(text).toMatch(/^etcd_dashboard_polls_held_back_total\{etcd_cluster="prod"\} \d+$/m);
  // No verified snapshot yet: an infinite age, so a plain "age > 1 day" rule fires, and a 0 to say there is none.
  expect(text).toContain('etcd_dashboard_last_verified_snapshot_age_seconds{etcd_cluster="prod"} +Inf');
  expect(value('etcd_dashboard_has_verified_snapshot{etcd_cluster="prod"}')).toBe(0);
  expect(text).toContain('# TYPE etcd_dashboard_alerts gauge');
  // What the dashboard is, and the process' own metrics.
  expect(text).toMatch(/^etcd_dashboard_build_info\{version="\d+\.\d+\.\d+",nodejs_version="\d+\.\d+\.\d+"\} 1$/m);
  expect(value('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
  expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  // Nothing carries a bare `cluster` label, which a multi-cluster Prometheus would rename to exported_cluster.
  expect(text).not.toMatch(/[{,]cluster="/);
});

test('the dashboard stopped: every tile says NO DATA within 10 s; started again: they recover by themselves', async ({
  page,
}, testInfo) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto(`${dashboard!.url}/noc`);
  await expect(tile(page, 'prod')).toHaveAttribute('data-state', 'healthy', { timeout: 15_000 });
  await expect(tile(page, 'staging')).toHaveAttribute('data-state', 'at-risk');

  await dashboard!.stop();
  dashboard = null;
  const stoppedAt = Date.now();
  // Polls without sleeping; the deadline is the promise: NO DATA within 10 s of the dashboard going away.
  await expect(page.locator('[data-testid="noc-tile"]:not([data-state="no-data"])')).toHaveCount(0, {
    timeout: 10_000,
  });
  expect(Date.now() - stoppedAt).toBeLessThan(10_000);
  for (const id of ['prod', 'staging', 'edge']) await expect(tile(page, id)).toContainText('NO DATA');
  await expect(tile(page, 'prod')).toContainText('dashboard not answering');
  // "since HH:MM" is the last good data, taken before the stop.
  const since = await tile(page, 'prod').textContent();
  expect(since).toMatch(/since \d{2}:\d{2}/);
  await expect(page.getByTestId('noc-clock')).toContainText('dashboard not answering since');
  await page.screenshot({ path: testInfo.outputPath('noc-no-data-1920x1080.png') });
  await testInfo.attach('noc-no-data-1920x1080', {
    path: testInfo.outputPath('noc-no-data-1920x1080.png'),
    contentType: 'image/png',
  });

  // Nobody touches the page: no reload, no click.
  const restartedAt = Date.now();
  dashboard = await start();
  // While the page recovers, read what the wall reads: a tile with fresh data never carries "no fresh data".
  const contradictions: string[] = [];
  let freshSince: number | null = null;
  while (freshSince === null || Date.now() - freshSince < 4000) {
    const noc = (await (await page.request.get(`${dashboard.url}/api/noc`)).json()) as NocResponse;
    for (const t of noc.tiles) {
      if (!t.status.stale && t.worstAlert?.rule === 'data_stale')
        contradictions.push(`${t.status.clusterId} ${t.status.quorum.state} with "${t.worstAlert.summary}"`);
    }
    const prod = noc.tiles.find((t) => t.status.clusterId === 'prod');
    if (freshSince === null && prod && !prod.status.stale) freshSince = Date.now();
    expect(Date.now() - restartedAt, 'prod has fresh data within 30 s of the start').toBeLessThan(30_000);
    await page.waitForTimeout(100);
  }
  expect(contradictions).toEqual([]);
  // A start is not an outage: no "no fresh data" alert fired (or was notified) for a cluster that answers, even one
  // whose first poll takes longer than the first evaluation (staging).
  for (const id of ['prod', 'staging']) {
    const history = await page.request.get(
      `${dashboard.url}/api/alerts?cluster=${id}&from=${new Date(restartedAt).toISOString()}&to=now`,
    );
    const fired = ((await history.json()) as { alerts: { rule: string }[] }).alerts.map((a) => a.rule);
    expect(fired, id).not.toContain('data_stale');
  }

  await expect(tile(page, 'prod')).toHaveAttribute('data-state', 'healthy', { timeout: 30_000 });
  await expect(tile(page, 'prod')).not.toContainText('no fresh data');
  await expect(tile(page, 'staging')).toHaveAttribute('data-state', 'at-risk');
  await expect(tile(page, 'edge')).toHaveAttribute('data-state', 'no-data');
  await expect(page.getByTestId('noc-clock')).toContainText('updated');
});

test("twelve clusters fit a 1080p and a 4K wall without scrolling, with our fonts or the machine's", async ({
  page,
}, testInfo) => {
  test.setTimeout(90_000);
  await dashboard?.stop();
  dashboard = null;
  dashboard = await startDashboard({
    port: PORT,
    env: { ETCD_DASHBOARD_CONFIG: wall, DASHBOARD_ANONYMOUS: 'viewer' },
    logFile: path.join(ROOT, 'dashboard-wall.log'),
    dataDir: path.join(ROOT, 'data-wall'),
  });
  for (const fonts of ['own', 'fallback'] as const) {
    // Refusing the dashboard's fonts leaves the machine's (DejaVu on Debian, wider than most): still no wrap.
    if (fonts === 'fallback') await page.route(/\.woff2$/, (route) => route.abort());
    for (const size of [
      { width: 1920, height: 1080 },
      { width: 3840, height: 2160 },
    ]) {
      const label = `${size.width}×${size.height}, ${fonts} fonts`;
      await page.setViewportSize(size);
      await page.goto(`${dashboard.url}/noc`);
      await expect(page.getByTestId('noc-tile')).toHaveCount(12);
      await expect(tile(page, 'prod')).toHaveAttribute('data-state', 'healthy', { timeout: 15_000 });
      await expect(tile(page, 'dc-9')).toHaveAttribute('data-state', 'no-data', { timeout: 15_000 });
      await page.evaluate(() => document.fonts.ready);
      await page.screenshot({ path: testInfo.outputPath(`noc-12-${size.width}-${fonts}.png`) });
      const box = await page.evaluate(() => ({
        scrollHeight: document.documentElement.scrollHeight,
        scrollWidth: document.documentElement.scrollWidth,
        tiles: [...document.querySelectorAll('[data-testid="noc-tile"]')].map((el) => {
          const r = el.getBoundingClientRect();
          return { bottom: r.bottom, right: r.right, height: r.height };
        }),
        // The state word ("NO DATA", "HEALTHY") is one line, never cut.
        states: [...document.querySelectorAll('[data-testid="noc-state"]')].map((el) => ({
          text: el.textContent ?? '',
          cut: el.scrollWidth > el.clientWidth + 1,
          lines: Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).fontSize)),
        })),
      }));
      expect(box.scrollHeight, label).toBeLessThanOrEqual(size.height);
      expect(box.scrollWidth, label).toBeLessThanOrEqual(size.width);
      for (const t of box.tiles) {
        expect(t.bottom, label).toBeLessThanOrEqual(size.height);
        expect(t.right, label).toBeLessThanOrEqual(size.width);
        expect(t.height, label).toBeGreaterThan(size.height / 5);
      }
      expect(box.states).toHaveLength(12);
      for (const st of box.states) expect({ ...st, label }).toEqual({ text: st.text, cut: false, lines: 1, label });
      expect(await spilledText(page, '[data-testid="noc-tile"]'), `text outside its tile, ${label}`).toEqual([]);
    }
  }
});
