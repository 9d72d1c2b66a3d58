// The snapshot API: who may do what, the request bodies, and the answers; route handlers only call these.
import 'server-only';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { z } from 'zod';
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
});

export function listSnapshots(req: Request, clusterId: string): { snapshots: SnapshotRecord[] } {
  requireRole(req, 'viewer');
  return { snapshots: getRuntime().snapshots.list(clusterId) };
}

export async function takeSnapshot(req: Request, clusterId: string): Promise<SnapshotRecord> {
  const who = requireRole(req, 'operator', { action: 'snapshot.take', clusterId });
  // No body means "the default member"; a body must be JSON.
  const body: { memberId?: string | undefined } = req.headers.get('content-type')
    ? await parseJsonBody(req, takeSchema)
    : await emptyBody(req);
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
  requireRole(req, 'viewer');
  const rt = getRuntime();
  const detail = rt.snapshots.detail(clusterId, id);
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

/** Streams the file; the body never passes through memory whole. */
export function downloadSnapshot(req: Request, clusterId: string, id: string): Response {
  const who = requireRole(req, 'operator', { action: 'snapshot.download', clusterId });
  const { file, bytes, name } = getRuntime().snapshots.downloadable(clusterId, id, actorOf(who));
  const body = Readable.toWeb(createReadStream(file, { highWaterMark: 1024 * 1024 })) as ReadableStream<Uint8Array>;
  return new Response(body, {
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(bytes),
      'Content-Disposition': `attachment; filename="${name}"`,
      'Cache-Control': 'no-store',
    },
  });
}
