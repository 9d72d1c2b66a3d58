// The dashboard killed (SIGKILL) in the middle of a rolling defragment and started again on the same DATA_DIR: the
// run is marked interrupted with the reason, no member is left defragmenting, the cluster is healthy, and a new run
// can start and finish.
import { expect, test } from '@playwright/test';
import { bearer } from '../e2e/support/access';
import { waitForStatus } from '../e2e/support/status-api';
import type { MaintenanceRun } from '../lib/maintenance/maintenance-types';
import { CLUSTER_ID, drillStack } from './support/drill-stack';
import { fillEtcdAndWait } from './support/snapshots';

const drill = drillStack('maintenance-killed');
const RUNS = `/api/clusters/${CLUSTER_ID}/maintenance`;

test('killed mid-defragment and restarted: the run is interrupted, every member healthy, a new run succeeds', async () => {
  test.setTimeout(240_000);
  const stack = drill();
  const operator = await stack.operatorApi();
  // Space to reclaim: written, then overwritten, so compaction leaves most of it unused.
  await fillEtcdAndWait(stack, 16);
  await fillEtcdAndWait(stack, 16);
  const compacted = await operator.post(RUNS, { data: { action: 'compact', keepRevisions: 0 } });
  expect(compacted.status(), await compacted.text()).toBe(202);
  await expect
    .poll(
      async () =>
        ((await (await stack.api.get(`${RUNS}/${(await compacted.json()).id}`)).json()) as MaintenanceRun).state,
      {
        timeout: 30_000,
      },
    )
    .toBe('succeeded');

  const res = await operator.post(RUNS, { data: { action: 'defragment', members: 'all' } });
  expect(res.status(), await res.text()).toBe(202);
  const run = (await res.json()) as MaintenanceRun;
  // Killed once the first member has been done: the run is between members, as an operator's Ctrl-C would find it.
  await expect
    .poll(async () => ((await (await stack.api.get(`${RUNS}/${run.id}`)).json()) as MaintenanceRun).steps[0]?.state, {
      timeout: 60_000,
      intervals: [100],
    })
    .toBe('succeeded');
  // Between two members (the default 10 s pause): a snapshot is refused with the reason, not taken beside the run.
  const snapshot = await operator.post(`/api/clusters/${CLUSTER_ID}/snapshots`, { data: {} });
  expect(snapshot.status(), await snapshot.text()).toBe(409);
  const refused = (await snapshot.json()) as { error: { code: string; message: string } };
  expect(refused.error.code).toBe('maintenance_running');
  expect(refused.error.message).toContain(run.id);
  await stack.killDashboard();

  await stack.startDashboard();
  const after = (await (await stack.api.get(`${RUNS}/${run.id}`)).json()) as MaintenanceRun;
  expect(after.state).toBe('interrupted');
  expect(after.reason).toBe('the dashboard stopped while the run was in progress');
  expect(after.finishedAt).not.toBeNull();
  expect(after.steps[0]?.state).toBe('succeeded');
  expect(after.steps.slice(1).every((s) => s.state === 'interrupted' || s.state === 'canceled')).toBe(true);

  // No member is left defragmenting, and the cluster is healthy.
  const { status } = await waitForStatus(
    stack.api,
    (s) =>
      !s.stale && s.quorum.state === 'healthy' && s.members.every((m) => m.health === 'healthy' && !m.defragmenting),
    30_000,
    CLUSTER_ID,
  );
  expect(status.members).toHaveLength(3);

  // The audit log has the interruption; a new run starts and finishes.
  const admin = await stack.newContext(bearer(await stack.createToken('admin')));
  const audit = await admin.get(`/api/audit?action=maintenance.defragment`);
  expect(audit.status(), await audit.text()).toBe(200);
  const rows = ((await audit.json()) as { entries: Array<{ details: Record<string, unknown> }> }).entries;
  expect(rows.some((r) => r.details.runId === run.id && r.details.phase === 'interrupted')).toBe(true);
  const again = await operator.post(RUNS, { data: { action: 'defragment' } });
  expect(again.status(), await again.text()).toBe(202);
  await expect
    .poll(
      async () => ((await (await stack.api.get(`${RUNS}/${(await again.json()).id}`)).json()) as MaintenanceRun).state,
      {
        timeout: 90_000,
      },
    )
    .toBe('succeeded');
});
