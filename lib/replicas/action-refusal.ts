// The refusal of an action because another replica's run holds the cluster: the same codes as the refusals within one
// process (snapshot_running, maintenance_running), naming the run and the replica.
import 'server-only';
import { conflict } from '@/lib/errors/domain-errors';
import type { ActionHolder } from './action-locks';

export function refusedElsewhere(clusterId: string, by: ActionHolder): Error {
  const what = by.kind === 'snapshot' ? `a snapshot (${by.runId})` : `a maintenance run (${by.runId})`;
  return conflict(
    by.kind === 'snapshot' ? 'snapshot_running' : 'maintenance_running',
    `${what} is already running for cluster "${clusterId}" on replica ${by.replicaId}`,
    by.kind === 'snapshot' ? { snapshotId: by.runId } : {},
  );
}
