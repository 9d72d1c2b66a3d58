// Reads the dashboard's status API from a test, polling with a deadline rather than sleeping.
import { expect, type APIRequestContext } from '@playwright/test';
import type { ClusterStatus } from '../../lib/cluster/status-types';

export async function readStatus(request: APIRequestContext, clusterId = 'default'): Promise<ClusterStatus> {
  const res = await request.get(`/api/clusters/${clusterId}/status`);
  expect(res.status()).toBe(200);
  return (await res.json()) as ClusterStatus;
}

/** Polls the status API until `check` holds; returns the status and how long it took. */
export async function waitForStatus(
  request: APIRequestContext,
  check: (s: ClusterStatus) => boolean,
  timeoutMs: number,
  clusterId = 'default',
): Promise<{ status: ClusterStatus; elapsedMs: number }> {
  const started = Date.now();
  let last: ClusterStatus | undefined;
  await expect
    .poll(
      async () => {
        last = await readStatus(request, clusterId);
        return check(last);
      },
      { timeout: timeoutMs, intervals: [100] },
    )
    .toBe(true);
  return { status: last as ClusterStatus, elapsedMs: Date.now() - started };
}
