// Snapshot helpers for the drills: data worth snapshotting, the API's records, and catching a snapshot mid-stream.
import { expect, type APIRequestContext } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { waitForStatus } from '../../e2e/support/status-api';
import type { ClusterStatus } from '../../lib/cluster/status-types';
import type { SnapshotRecord } from '../../lib/snapshots/snapshot-types';
import { CLUSTER_ID, type DrillStack } from './drill-stack';

export const MIB = 1024 * 1024;

const SNAPSHOTS = `/api/clusters/${CLUSTER_ID}/snapshots`;

/** Writes `mib` values of 1 MiB (random, so nothing compresses them) under a Kubernetes-like prefix. */
export function fillEtcd(stack: DrillStack, mib: number): void {
  for (let i = 0; i < mib; i++) {
    stack.etcdctl(['put', `/registry/configmaps/drill/big-${i}`], randomBytes(768 * 1024).toString('base64'));
  }
}

/**
 * Fills etcd with `mib` MiB and waits until every member's database holds it with the cluster healthy; returns the
 * status and the largest member's database size, what a snapshot of it will be.
 */
export async function fillEtcdAndWait(
  stack: DrillStack,
  mib: number,
): Promise<{ status: ClusterStatus; dbSize: number }> {
  fillEtcd(stack, mib);
  const { status } = await waitForStatus(
    stack.api,
    (s) => s.quorum.state === 'healthy' && s.members.every((m) => (m.status?.dbSize ?? 0) > mib * MIB),
    30_000,
    CLUSTER_ID,
  );
  return { status, dbSize: Math.max(...status.members.map((m) => m.status?.dbSize ?? 0)) };
}

export async function listSnapshots(api: APIRequestContext): Promise<SnapshotRecord[]> {
  const res = await api.get(SNAPSHOTS);
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { snapshots: SnapshotRecord[] }).snapshots;
}

/** POST as the operator; expects 202 and returns the running record. */
export async function takeSnapshot(operator: APIRequestContext): Promise<SnapshotRecord> {
  const res = await operator.post(SNAPSHOTS);
  expect(res.status(), await res.text()).toBe(202);
  const started = (await res.json()) as SnapshotRecord;
  expect(started.status).toBe('running');
  return started;
}

/** Polls the list until the snapshot has finished (succeeded or failed) and returns its record. */
export async function waitFinished(api: APIRequestContext, id: string, timeout = 60_000): Promise<SnapshotRecord> {
  let last: SnapshotRecord | undefined;
  await expect
    .poll(
      async () => {
        last = (await listSnapshots(api)).find((s) => s.id === id);
        return last && last.status !== 'running' && last.progress === null ? last.status : 'running';
      },
      { timeout, intervals: [100], message: `snapshot ${id} to finish` },
    )
    .not.toBe('running');
  return last as SnapshotRecord;
}

/**
 * Waits until the dashboard has written bytes to `<dir>/<id>.db.part`: the snapshot is then mid-stream. Checks on
 * every turn of the event loop rather than on a timer, so the drill acts before a fast stream can finish.
 */
export async function waitForPartFile(dir: string, id: string, timeoutMs = 20_000): Promise<number> {
  const part = path.join(dir, `${id}.db.part`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const size = statSync(part).size;
      if (size > 0) return size;
    } catch {
      // not created yet
    }
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`no bytes in ${part} within ${timeoutMs} ms; the folder holds: ${readdirSync(dir).join(', ')}`);
}

/** Files in `dir` that belong to snapshot `id`, or are partial files of any snapshot. */
export function leftovers(dir: string, id: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(id) || f.endsWith('.part'));
}
