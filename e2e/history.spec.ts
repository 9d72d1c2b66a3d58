// History against a real cluster: leader changes recorded as events, charts drawn from real samples, and
// both surviving a dashboard restart.
import { expect, request, test, type APIRequestContext } from '@playwright/test';
import path from 'node:path';
import { LocalCluster } from '../scripts/lib/local-cluster';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import type { EventsResponse, HistoryResponse } from '../lib/history/series';
import { writeDashboardConfig } from './support/config-file';
import { E2E_CLUSTER_DIR, E2E_ROOT } from './support/e2e-env';
import { readStatus, waitForStatus } from './support/status-api';

const PORT = 3195;
const DATA_DIR = path.join(E2E_ROOT, 'history-data');
const CONFIG = path.join(E2E_ROOT, 'history-dashboard.yaml');
let dashboard: DashboardProcess;
let api: APIRequestContext;

const cluster = () => LocalCluster.load(E2E_CLUSTER_DIR);

async function start(): Promise<void> {
  dashboard = await startDashboard({
    port: PORT,
    env: { ETCD_DASHBOARD_CONFIG: CONFIG, ETCD_DASHBOARD_METRICS_INTERVAL_MS: '1000', DASHBOARD_ANONYMOUS: 'viewer' },
    dataDir: DATA_DIR,
    logFile: path.join(E2E_ROOT, 'dashboard-history.log'),
  });
  api = await request.newContext({ baseURL: dashboard.url });
}

test.beforeAll(async () => {
  const c = cluster().state;
  // One member's metrics come from its plain-HTTP metrics URL (as kubeadm's :2381), the others over mTLS.
  writeDashboardConfig(CONFIG, [
    { id: 'default', name: 'e2e', cluster: c, metricsUrls: { [c.members[0]!.name]: c.members[0]!.metricsUrl } },
  ]);
  await start();
});

test.afterAll(async () => {
  await api?.dispose();
  await dashboard?.stop();
  const c = cluster();
  for (let i = 0; i < c.state.members.length; i++) c.startMember(i);
  await c.waitHealthy(30_000);
});

async function history(series: string, extra = ''): Promise<HistoryResponse> {
  const res = await api.get(`/api/clusters/default/history?series=${series}&from=-15m${extra}`);
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()) as HistoryResponse;
}

async function events(type = 'leader_changed'): Promise<EventsResponse> {
  const res = await api.get(`/api/clusters/default/events?from=-15m&type=${type}`);
  expect(res.status()).toBe(200);
  return (await res.json()) as EventsResponse;
}

test('stopping the leader records a leader_changed event naming the old and the new leader within 5 s', async () => {
  await waitForStatus(api, (s) => s.quorum.state === 'healthy', 20_000);
  const before = await readStatus(api);
  const oldLeader = before.leader!;
  const c = cluster();
  const killedAt = Date.now();
  await c.stopMember(c.indexOfName(oldLeader.name), 'SIGKILL');

  let found: EventsResponse['events'][number] | undefined;
  await expect
    .poll(
      async () => {
        found = (await events()).events.find((e) => e.details.oldLeader === oldLeader.id);
        return found !== undefined;
      },
      // The election alone takes one to two election timeouts (1–2 s by default) plus pre-vote, which 3.6+ runs by
      // default; 3 s held on 3.4 but not on every 3.7 run on a busy machine.
      { timeout: 5_000, intervals: [100] },
    )
    .toBe(true);
  test.info().annotations.push({
    type: 'leader-event-ms',
    description: `leader_changed visible ${Date.now() - killedAt} ms after SIGKILL`,
  });
  const after = await readStatus(api);
  expect(found!.details).toMatchObject({
    oldLeader: oldLeader.id,
    oldLeaderName: oldLeader.name,
    newLeader: after.leader?.id,
  });
  expect(found!.details.newLeader).not.toBe(oldLeader.id);
  expect(found!.memberId).toBe(after.leader?.id);

  // The member comes back; it is a follower now.
  c.startMember(c.indexOfName(oldLeader.name));
  await waitForStatus(api, (s) => s.quorum.state === 'healthy', 20_000);
});

test('the history API answers bad parameters with 400 in the one error shape', async () => {
  for (const [query, mention] of [
    ['series=bogus', 'series'],
    ['', 'series is required'],
    ['series=probe_ms&from=yesterday', 'from'],
    ['series=probe_ms&from=-1h&to=-2h', 'before'],
    ['series=probe_ms&member=../../etc', 'member'],
    ['series=probe_ms&points=5', 'points'],
  ] as const) {
    const res = await api.get(`/api/clusters/default/history?${query}`);
    expect(res.status(), query).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('bad_request');
    expect(body.error.message).toContain(mention);
  }
  const res = await api.get('/api/clusters/default/events?type=meteor_strike');
  expect(res.status()).toBe(400);
  expect(((await res.json()) as { error: { message: string } }).error.message).toContain('meteor_strike');
  expect((await api.get('/api/clusters/nope/history?series=probe_ms')).status()).toBe(404);
});

test('samples from Status and from both kinds of metrics URL are stored per member', async () => {
  const names = cluster()
    .state.members.map((m) => m.name)
    .sort();
  for (const series of ['probe_ms', 'raft_index', 'db_size_bytes', 'leader_changes']) {
    await expect
      .poll(
        async () =>
          (await history(series)).members
            .filter((m) => m.points.length > 0)
            .map((m) => m.name)
            .sort(),
        {
          timeout: 10_000,
          message: series,
        },
      )
      .toEqual(names);
  }
  const raft = await history('raft_index');
  for (const m of raft.members) {
    expect(m.memberId).toMatch(/^[0-9a-f]+$/);
    expect(m.points.every(([t, v]) => Number.isInteger(t) && v > 0)).toBe(true);
  }
});

test('charts draw real data in Chromium, and the URL carries cluster, range and member', async ({ page }) => {
  const member = (await readStatus(api)).members[1]!;
  await page.goto(`${dashboard.url}/history?cluster=default&range=15m&member=${member.id}`);
  await expect(page.getByTestId('member-select')).toHaveValue(member.id!);
  await expect(page.getByRole('link', { name: '15 min' })).toHaveAttribute('aria-current', 'page');
  for (const series of ['probe_ms', 'raft_index', 'db_size_bytes']) {
    const chart = page.getByTestId(`chart-${series}`);
    await expect(chart).not.toHaveAttribute('data-points', '0');
    // One member selected: one line, keyed by its name.
    await expect(chart.getByTestId('chart-canvas')).toHaveAttribute('data-lines', '1');
    await expect(chart.locator('.u-legend')).toContainText(member.name);
  }
  await expect(page.getByTestId('chart-wal_fsync_p99_ms')).toContainText('etcd recommends < 10 ms');
  await expect(page.getByTestId('growth-projection')).not.toBeEmpty();

  // Filters: hiding one type removes its events and lands in the URL.
  await expect(page.locator('[data-testid=event][data-type=member_down]').first()).toBeVisible();
  await page.getByRole('checkbox', { name: 'Member down' }).uncheck();
  await expect(page).toHaveURL(/types=/);
  await expect(page.locator('[data-testid=event][data-type=member_down]')).toHaveCount(0);
  await expect(page.locator('[data-testid=event][data-type=leader_changed]').first()).toBeVisible();

  // The leader change from the first test is on the timeline and links to the charts at that moment.
  const event = page.locator('[data-testid=event][data-type=leader_changed]').first();
  await expect(event).toContainText('Leader moved from');
  await event.getByRole('link', { name: 'charts at this moment' }).click();
  await expect(page).toHaveURL(/from=.*&to=.*&at=/);
  await expect(page.getByTestId('chart-probe_ms')).not.toHaveAttribute('data-points', '0');
});

test('charts fit the data: the DB on its own scale, one shared time axis fitted to the history, lines broken where a member was down', async ({
  page,
}, testInfo) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto(`${dashboard.url}/history?cluster=default&range=24h`);
  // The dashboard's history is minutes old: the axis starts where it begins, and says so.
  await expect(page.getByTestId('axis-fitted')).toContainText('History begins at');
  await expect(page.getByTestId('axis-fitted')).toContainText('not the whole 24 h chosen');

  // A database of a few MiB is drawn on a scale of a few MiB; the 2 GiB quota is listed beside it, not drawn.
  const db = page.getByTestId('chart-db_size_bytes');
  await expect(db).not.toHaveAttribute('data-points', '0');
  const yMax = Number(await db.getAttribute('data-y-max'));
  const peak = Math.max(...(await history('db_size_bytes')).members.flatMap((m) => m.points.map(([, v]) => v)));
  expect(yMax).toBeGreaterThanOrEqual(peak);
  expect(yMax).toBeLessThan(4 * peak);
  await expect(db.locator('[data-off-scale]')).toContainText(/quota 2(\.0)? GiB/);
  await expect(db.locator('[data-off-scale]')).toContainText('above this scale');
  await expect(db.getByTestId('quota-share')).toContainText(
    /[KM]iB on .+: (<0\.1|\d+(\.\d)?) % of the quota 2(\.0)? GiB/,
  );

  // One time axis: the same tick labels (times of day) under every chart.
  // The labels the canvas drew on each axis.
  const drawnTicks = async (series: string, axis: 'x' | 'y') =>
    JSON.parse(
      (await page.getByTestId(`chart-${series}`).getByTestId('chart-canvas').getAttribute(`data-${axis}-ticks`)) ??
        '[]',
    ) as string[];
  const ticks = async (series: string) => (await drawnTicks(series, 'x')).filter((t) => /^\d\d:\d\d(:\d\d)?$/.test(t));
  // Drawn: the canvas says what it drew once it has.
  for (const series of ['probe_ms', 'raft_index', 'db_size_bytes', 'leader_changes'])
    await expect(page.getByTestId(`chart-${series}`).getByTestId('chart-canvas')).toHaveAttribute(
      'data-lines',
      /^[1-9]/,
    );
  const probeTicks = await ticks('probe_ms');
  expect(probeTicks.length).toBeGreaterThanOrEqual(2);
  expect(await ticks('raft_index')).toEqual(probeTicks);
  expect(await ticks('db_size_bytes')).toEqual(probeTicks);
  // Counts have whole-number ticks, each once (not "0, 0, 1, 1, 1").
  const countTicks = await drawnTicks('leader_changes', 'y');
  expect(countTicks.length).toBeGreaterThan(1);
  expect(new Set(countTicks).size).toBe(countTicks.length);

  // The leader killed in the first test was down for seconds: its probe line breaks there, and the outage is shaded.
  const probe = page.getByTestId('chart-probe_ms');
  await expect(probe).not.toHaveAttribute('data-breaks', '0');
  await expect(probe.getByTestId('chart-key')).toContainText('member down');
  // ... and the band is on the canvas: amber pixels (more red than blue) down a good part of its height, in the column
  // of the band the chart's lines cross least (every column is read). A short outage is a band a pixel or two wide
  // with the dashed leader-change line drawn down it, whose gaps leave about half of it amber (0.48 on 2026-12-07, on
  // this commit and the one before: the width depends on when the test runs); with no band it is about 0.
  const canvas = probe.getByTestId('chart-canvas');
  await expect(canvas).toHaveAttribute('data-shades', /^\[\[/);
  const amber = await canvas.evaluate((el) => {
    const [x, top, w, h] = (JSON.parse(el.dataset.shades ?? '[]') as number[][])[0]!;
    const ctx = el.querySelector('canvas')!.getContext('2d')!;
    const share = (dx: number) => {
      const column = ctx.getImageData(x! + dx, top!, 1, h!).data;
      let tinted = 0;
      for (let i = 0; i < column.length; i += 4) if (column[i + 3]! > 0 && column[i]! - column[i + 2]! > 20) tinted++;
      return tinted / (column.length / 4);
    };
    return Math.max(...Array.from({ length: Math.max(1, Math.floor(w!)) }, (_, dx) => share(dx)));
  });
  expect(amber).toBeGreaterThan(0.4);

  const file = testInfo.outputPath('history-1920.png');
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach('history-1920', { path: file, contentType: 'image/png' });
});

test('after a dashboard restart, the history and the events are still there', async () => {
  const eventsBefore = (await events()).events;
  const pointsBefore = (await history('probe_ms')).members.reduce((n, m) => n + m.points.length, 0);
  expect(eventsBefore.length).toBeGreaterThan(0);
  expect(pointsBefore).toBeGreaterThan(0);

  await api.dispose();
  await dashboard.stop();
  await start();

  const eventsAfter = (await events()).events;
  expect(eventsAfter.slice(-eventsBefore.length)).toEqual(eventsBefore);
  const pointsAfter = (await history('probe_ms')).members.reduce((n, m) => n + m.points.length, 0);
  expect(pointsAfter).toBeGreaterThanOrEqual(pointsBefore);
});
