// The snapshot API's reads and inputs: what a viewer may see of a record, the take body, the record with its
// restore runbook. The route handlers check the role and call these or the snapshot manager.
import 'server-only';
import path from 'node:path';
import { z } from 'zod';
import type { Identity } from '@/lib/access/identity';
import type { ClusterReads } from '@/lib/collector/cluster-reads';
import { restoreRunbook, type RunbookStep } from './restore-runbook';
import type { SnapshotActor, SnapshotManager } from './snapshot-manager';
import type { SnapshotDetail, SnapshotRecord } from './snapshot-types';

/** The body of POST /api/clusters/{id}/snapshots; none means "the default member". */
export const takeSnapshotInput = z.strictObject({
  memberId: z
    .string()
    .regex(/^[0-9a-f]{1,16}$/, 'must be a member id in hex, as etcdctl prints it')
    .optional(),
});

/** Who a snapshot record and its audit rows name. */
export const snapshotActor = (who: Identity): SnapshotActor => ({
  actor: who.actor,
  role: who.role,
  method: who.method,
  source: who.source,
  ...(who.tokenId ? { tokenId: who.tokenId } : {}),
});

export interface SnapshotReadsDeps {
  snapshots: SnapshotManager;
  snapshotDir: string;
  clusters: Pick<ClusterReads, 'list' | 'latest'>;
}

/**
 * A record as an anonymous viewer (a wall screen anyone can reach) sees it: no absolute path of the dashboard's host,
 * neither where a file is kept nor in an error message about it.
 */
function withoutServerPaths<T extends SnapshotRecord>(record: T, snapshotDir: string): T {
  const hide = (text: string) => text.split(snapshotDir).join('$SNAPSHOT_DIR');
  return {
    ...record,
    locations: record.locations.map((l) => (l.kind === 'local' ? { ...l, where: path.basename(l.where) } : l)),
    error: record.error === null ? null : hide(record.error),
    // A restore test that lost its file to retention names the file in why it failed.
    restoreTest:
      record.restoreTest?.reason != null
        ? { ...record.restoreTest, reason: hide(record.restoreTest.reason) }
        : record.restoreTest,
  };
}

export async function listSnapshots(
  deps: SnapshotReadsDeps,
  clusterId: string,
  who: Identity,
): Promise<{ snapshots: SnapshotRecord[] }> {
  const list = await deps.snapshots.list(clusterId);
  return {
    snapshots: who.method === 'anonymous' ? list.map((s) => withoutServerPaths(s, deps.snapshotDir)) : list,
  };
}

export async function snapshotDetail(
  deps: SnapshotReadsDeps,
  clusterId: string,
  id: string,
  who: Identity,
): Promise<SnapshotDetail & { runbook: RunbookStep[] }> {
  const found = await deps.snapshots.detail(clusterId, id);
  const detail = who.method === 'anonymous' ? withoutServerPaths(found, deps.snapshotDir) : found;
  const cluster = deps.clusters.list().find((c) => c.id === clusterId);
  const members = deps.clusters.latest(clusterId)?.members ?? [];
  return {
    ...detail,
    runbook: restoreRunbook({
      clusterName: cluster?.name ?? clusterId,
      snapshotId: id,
      fileName: `${clusterId}-${id}.db`,
      hashHex: detail.hash,
      revision: detail.revision,
      members: members.map((m) => ({ name: m.name, peerURLs: m.peerURLs, version: m.status?.version ?? null })),
      kubernetes: (detail.keyspace ?? []).some((k) => k.prefix.startsWith('/registry')),
    }),
  };
}
