// The dashboard killed (SIGKILL) while it restore-tests a snapshot, and started again on the same DATA_DIR: the
// scratch etcd it had started is stopped by its recorded PID, the scratch folder (a full copy of the data, Secrets
// included) is removed, the test is marked interrupted, and a new restore test passes.
import { expect, test } from '@playwright/test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isOurProcess } from '../scripts/lib/local-cluster';
import { CLUSTER_ID, drillStack } from './support/drill-stack';
import { fillEtcdAndWait, listSnapshots, takeSnapshot, waitFinished } from './support/snapshots';

const drill = drillStack('restore-test-killed');

/** Is `pid` still an etcd serving a folder under `root`? */
function scratchEtcdAlive(pid: number, root: string): boolean {
  return isOurProcess(pid, path.join(root, 'data'));
}

test('killed mid restore test and restarted: the scratch etcd stopped, its folder gone, the test interrupted', async () => {
  test.setTimeout(180_000);
  const stack = drill();
  const operator = await stack.operatorApi();
  const scratchRoot = path.join(stack.dataDir, 'restore-tests');
  await fillEtcdAndWait(stack, 24);

  const snap = await waitFinished(stack.api, (await takeSnapshot(operator)).id);
  expect(snap.status, snap.error ?? '').toBe('succeeded');
  // Caught while the scratch member runs (its PID file is written once it has started), and the dashboard frozen at
  // once: the test takes about a second more, and a dashboard left running would stop its member in the meantime.
  let pid = 0;
  let folder = '';
  await expect
    .poll(
      () => {
        for (const name of existsSync(scratchRoot) ? readdirSync(scratchRoot) : []) {
          const file = path.join(scratchRoot, name, 'etcd.pid');
          if (existsSync(file)) {
            pid = Number(readFileSync(file, 'utf8'));
            folder = path.join(scratchRoot, name);
            if (!(pid > 0 && scratchEtcdAlive(pid, folder))) return false;
            process.kill(stack.dashboard.pid, 'SIGSTOP');
            if (scratchEtcdAlive(pid, folder)) return true;
            process.kill(stack.dashboard.pid, 'SIGCONT');
            return false;
          }
        }
        return false;
      },
      { timeout: 60_000, intervals: [20], message: 'a scratch etcd running for the restore test' },
    )
    .toBe(true);
  await stack.killDashboard();
  // The kill may leave the scratch member running, as a crash would, or it may die by itself on its next log line to
  // the dead dashboard's pipe (seen in CI): either way its folder, a full copy of the data, is left behind.
  expect(existsSync(folder)).toBe(true);

  await stack.startDashboard();
  expect(stack.dashboard.log()).toMatch(/restore tests reconciled: \d+ interrupted, 1 scratch folder\(s\) removed/);
  expect(scratchEtcdAlive(pid, folder)).toBe(false);
  expect(existsSync(folder)).toBe(false);
  const after = (await listSnapshots(stack.api)).find((s) => s.id === snap.id);
  expect(after?.restoreTest).toMatchObject({
    state: 'interrupted',
    reason: 'the dashboard stopped during the restore test',
  });

  // Restore-tested again on request: it passes, and leaves nothing behind.
  const res = await operator.post(`/api/clusters/${CLUSTER_ID}/snapshots/${snap.id}/restore-test`);
  expect(res.status(), await res.text()).toBe(202);
  await expect
    .poll(async () => (await listSnapshots(stack.api)).find((s) => s.id === snap.id)?.restoreTest?.state, {
      timeout: 90_000,
    })
    .toBe('passed');
  // The result is recorded before its member is stopped and its folder removed: gone within moments.
  await expect.poll(() => readdirSync(scratchRoot), { timeout: 15_000 }).toEqual([]);
});
