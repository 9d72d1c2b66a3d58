// Snapshots through the API as an operator takes them.
import { expect, type APIRequestContext } from '@playwright/test';
import type { SnapshotRecord } from '../../lib/snapshots/snapshot-types';

/** Takes a snapshot of `clusterId` and waits up to `timeoutMs` for it to end `status`; returns its record then. */
export async function snapshotEnding(
  operator: APIRequestContext,
  clusterId: string,
  status: SnapshotRecord['status'],
  timeoutMs: number,
): Promise<SnapshotRecord> {
  const taken = (await (await operator.post(`/api/clusters/${clusterId}/snapshots`)).json()) as SnapshotRecord;
  let done: SnapshotRecord | undefined;
  await expect
    .poll(
      async () => {
        done = (await (
          await operator.get(`/api/clusters/${clusterId}/snapshots/${taken.id}`)
        ).json()) as SnapshotRecord;
        return done.status;
      },
      { timeout: timeoutMs, intervals: [200] },
    )
    .toBe(status);
  return done!;
}
