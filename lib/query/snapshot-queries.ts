// react-query resources for the snapshot page.
import { queryOptions } from '@tanstack/react-query';
import type { RunbookStep } from '@/lib/snapshots/restore-runbook';
import type { SnapshotDetail, SnapshotRecord } from '@/lib/snapshots/snapshot-types';
import { fetchJson } from './fetch-json';

export function snapshotsQuery(clusterId: string) {
  return queryOptions({
    queryKey: ['clusters', clusterId, 'snapshots'],
    queryFn: ({ signal }) =>
      fetchJson<{ snapshots: SnapshotRecord[] }>(`/api/clusters/${encodeURIComponent(clusterId)}/snapshots`, signal),
    // Fast while one runs, so the progress bar moves; slow otherwise.
    refetchInterval: (q) => (q.state.data?.snapshots.some((s) => s.progress !== null) ? 1000 : 15_000),
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
