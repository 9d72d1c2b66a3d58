// The snapshot API: who may do what, the request bodies, and the answers; route handlers only call these.
import 'server-only';
import path from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { audited } from '@/lib/access/audit-action';
import { requireRole } from '@/lib/access/guard';
import type { Identity } from '@/lib/access/identity';
import { badRequest } from '@/lib/api/api-error';
import { parseJsonBody, readBodyText } from '@/lib/api/parse-body';
import { getRuntime } from '@/lib/collector/runtime';
import { restoreRunbook, type RunbookStep } from './restore-runbook';
import type { SnapshotActor } from './snapshot-manager';
import type { SnapshotDetail, SnapshotRecord } from './snapshot-types';

const takeSchema = z.strictObject({
  memberId: z
    .string()
    .regex(/^[0-9a-f]{1,16}$/, 'must be a member id in hex, as etcdctl prints it')
    .optional(),
});

async function emptyBody(req: Request): Promise<Record<string, never>> {
  // Read with the body limit: an operator's chunked upload of any size is cut off at 64 KiB (413).
  if ((await readBodyText(req)).trim() !== '')
    throw badRequest('the body must be JSON (Content-Type: application/json)');
  return {};
}

const actorOf = (who: Identity): SnapshotActor => ({
  actor: who.actor,
  role: who.role,
  method: who.method,
  source: who.source,
  ...(who.tokenId ? { tokenId: who.tokenId } : {}),
});

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
  };
}

export function listSnapshots(req: Request, clusterId: string): { snapshots: SnapshotRecord[] } {
  const who = requireRole(req, 'viewer');
  const { snapshots, config } = getRuntime();
  const list = snapshots.list(clusterId);
  return {
    snapshots: who.method === 'anonymous' ? list.map((s) => withoutServerPaths(s, config.snapshotDir)) : list,
  };
}

export async function takeSnapshot(req: Request, clusterId: string): Promise<SnapshotRecord> {
  const who = requireRole(req, 'operator', { action: 'snapshot.take', clusterId });
  // No body means "the default member"; a body must be JSON. The manager audits what take() does; this, a bad body.
  const body = await audited<{ memberId?: string | undefined }>(who, 'snapshot.take', { clusterId }, () =>
    req.headers.get('content-type') ? parseJsonBody(req, takeSchema) : emptyBody(req),
  );
  return getRuntime().snapshots.take(clusterId, {
    ...(body.memberId ? { memberId: body.memberId } : {}),
    trigger: 'manual',
    by: actorOf(who),
  });
}

export function snapshotDetail(
  req: Request,
  clusterId: string,
  id: string,
): SnapshotDetail & { runbook: RunbookStep[] } {
  const who = requireRole(req, 'viewer');
  const rt = getRuntime();
  const found = rt.snapshots.detail(clusterId, id);
  const detail = who.method === 'anonymous' ? withoutServerPaths(found, rt.config.snapshotDir) : found;
  const cluster = rt.config.clusters.find((c) => c.id === clusterId);
  const members = rt.collectors.get(clusterId)?.current()?.members ?? [];
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

export async function deleteSnapshot(req: Request, clusterId: string, id: string): Promise<void> {
  const who = requireRole(req, 'operator', { action: 'snapshot.delete', clusterId });
  await getRuntime().snapshots.remove(clusterId, id, actorOf(who));
}

/**
 * Streams the file; the body never passes through memory whole. HEAD makes the same checks and answers the same
 * headers without a body, and is audited as snapshot.head: it is not a download.
 */
export async function downloadSnapshot(req: Request, clusterId: string, id: string): Promise<Response> {
  const head = req.method === 'HEAD';
  const action = head ? 'snapshot.head' : 'snapshot.download';
  const who = requireRole(req, 'operator', { action, clusterId });
  const { body, bytes, name } = await getRuntime().snapshots.downloadable(clusterId, id, actorOf(who), { head });
  return new Response(body === null ? null : (Readable.toWeb(body) as ReadableStream<Uint8Array>), {
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(bytes),
      'Content-Disposition': `attachment; filename="${name}"`,
      'Cache-Control': 'no-store',
    },
  });
}
