// The dashboard killed (SIGKILL) in the middle of a snapshot and started again on the same DATA_DIR: the history
// from before is all there (snapshot records, samples, events), the interrupted snapshot is marked failed with the
// reason, the partial file the kill left behind is gone, and snapshots can be taken again.
import { expect, test, type APIRequestContext } from '@playwright/test';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { waitForStatus } from '../e2e/support/status-api';
import { CLUSTER_ID, drillStack } from './support/drill-stack';
import { expectPageStaysFresh } from './support/freshness';
import { fillEtcdAndWait, listSnapshots, takeSnapshot, waitFinished, waitForPartFile } from './support/snapshots';

const drill = drillStack('dashboard-killed');

/** The same past window, read the same way before and after the restart. */
async function readWindow(api: APIRequestContext, from: string, to: string) {
  const range = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  const history = await api.get(`/api/clusters/${CLUSTER_ID}/history?series=raft_index&${range}`);
  expect(history.status(), await history.text()).toBe(200);
  const events = await api.get(`/api/clusters/${CLUSTER_ID}/events?${range}`);
  expect(events.status(), await events.text()).toBe(200);
  return { history: (await history.json()) as { members: Array<{ points: unknown[] }> }, events: await events.json() };
}

test('killed mid-snapshot and restarted: history intact, the snapshot marked failed, no stray .part', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const stack = drill();
  const dir = path.join(stack.dataDir, 'snapshots', CLUSTER_ID);
  const operator = await stack.operatorApi();

  const { status, dbSize } = await fillEtcdAndWait(stack, 24);

  // History worth keeping: a verified snapshot, and some seconds of samples and events.
  const first = await waitFinished(stack.api, (await takeSnapshot(operator)).id);
  expect(first.status, first.error ?? '').toBe('succeeded');
  // Its restore test (queued once it was verified) ends before the window is read, so the record stays as it is.
  await expect
    .poll(async () => (await listSnapshots(stack.api)).find((s) => s.id === first.id)?.restoreTest?.state ?? 'none', {
      timeout: 60_000,
      message: 'the first snapshot restore-tested',
    })
    .toMatch(/^(passed|failed|skipped)$/);
  const from = new Date(Date.now() - 3600_000).toISOString();
  let to = '';
  let before: Awaited<ReturnType<typeof readWindow>> | undefined;
  await expect
    .poll(
      async () => {
        // A window that ended seconds ago: no poll still in flight can add to it.
        to = new Date(Date.now() - 3_000).toISOString();
        before = await readWindow(stack.api, from, to);
        // No member in the window yet counts as none (Math.min of nothing is Infinity).
        const counts = before.history.members.map((m) => m.points.length);
        return counts.length === 3 ? Math.min(...counts) : 0;
      },
      { timeout: 30_000, intervals: [500], message: 'raft index samples for every member' },
    )
    .toBeGreaterThanOrEqual(3);
  expect(before!.history.members).toHaveLength(3);
  const snapshotsBefore = await listSnapshots(stack.api);

  // Killed while the stream is being written.
  const interrupted = await takeSnapshot(operator);
  await waitForPartFile(dir, interrupted.id);
  await stack.killDashboard();
  const part = path.join(dir, `${interrupted.id}.db.part`);
  expect(existsSync(part), 'the kill left a partial file, as a crash does').toBe(true);
  expect(statSync(part).size).toBeLessThan(dbSize);

  await stack.startDashboard();
  expect(stack.dashboard.log()).toContain(
    'snapshots reconciled: 1 interrupted marked failed, 0 missing, 0 adopted, 1 partial files removed',
  );
  const after = await listSnapshots(stack.api);
  const failed = after.find((s) => s.id === interrupted.id);
  expect(failed).toMatchObject({ status: 'failed', verified: false, progress: null });
  expect(failed?.error).toBe('the dashboard stopped while this snapshot was being taken');
  expect(failed?.finishedAt).not.toBeNull();
  // Every record from before, unchanged; the one verified file still there, and nothing partial.
  for (const s of snapshotsBefore) expect(after.find((x) => x.id === s.id)).toEqual(s);
  expect(readdirSync(dir)).toEqual([`${first.id}.db`]);
  // The same past window of samples and events reads the same.
  expect(await readWindow(stack.api, from, to)).toEqual(before);

  // The restarted dashboard is live, shows the failure, and takes snapshots again.
  await waitForStatus(stack.api, (s) => s.quorum.state === 'healthy' && !s.stale, 30_000, CLUSTER_ID);
  await page.goto(`${stack.url}/`);
  await expectPageStaysFresh(page, Object.fromEntries(status.members.map((m) => [m.name, 'healthy'] as const)), 3, 2);
  await page.goto(`${stack.url}/snapshots`);
  const row = page.locator(`[data-testid=snapshot-row][data-status=failed]`);
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('the dashboard stopped while this snapshot was being taken');
  const again = await waitFinished(stack.api, (await takeSnapshot(operator)).id);
  expect(again.status, again.error ?? '').toBe('succeeded');
  expect(again.verified).toBe(true);
});
