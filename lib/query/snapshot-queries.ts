// react-query resources for the snapshot page.
import { queryOptions } from '@tanstack/react-query';
import type { RunbookStep } from '@/lib/snapshots/restore-runbook';
import type { SnapshotDetail, SnapshotRecord } from '@/lib/snapshots/snapshot-types';
import { fetchJson } from './fetch-json';

/** How long after a verification its queued restore test may still be waiting to start. */
const RESTORE_TEST_QUEUE_MS = 30_000;

/** Whether a snapshot is moving: being taken, restore-tested, or just verified with its restore test still queued. */
function changing(s: SnapshotRecord, now: number): boolean {
  if (s.progress !== null || s.restoreTest?.state === 'running' || s.restoreTest?.state === 'queued') return true;
  return (
    s.verified &&
    s.restoreTest === null &&
    s.finishedAt !== null &&
    now - Date.parse(s.finishedAt) < RESTORE_TEST_QUEUE_MS
  );
}

export function snapshotsQuery(clusterId: string) {
  return queryOptions({
    queryKey: ['clusters', clusterId, 'snapshots'],
    queryFn: ({ signal }) =>
      fetchJson<{ snapshots: SnapshotRecord[] }>(`/api/clusters/${encodeURIComponent(clusterId)}/snapshots`, signal),
    // Fast while one runs or is restore-tested, so the progress bar and the badge move; slow otherwise.
    refetchInterval: (q) => (q.state.data?.snapshots.some((s) => changing(s, Date.now())) ? 1000 : 15_000),
    refetchIntervalInBackground: true,
  });
}

export function snapshotDetailQuery(clusterId: string, id: string) {
  return queryOptions({
    queryKey: ['clusters', clusterId, 'snapshots', id],
    queryFn: ({ signal }) =>
      fetchJson<SnapshotDetail & { runbook: RunbookStep[] }>(
        `/api/clusters/${encodeURIComponent(clusterId)}/snapshots/${encodeURIComponent(id)}`,
        signal,
      ),
    // Every second while it runs, so its progress moves; a finished snapshot does not change.
    refetchInterval: (q) => (q.state.data?.progress ? 1000 : false),
  });
}
