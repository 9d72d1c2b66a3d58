import { parseOptionalJsonBody } from '@/lib/api/parse-body';
import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';
import { listSnapshots, snapshotActor, takeSnapshotInput } from '@/lib/snapshots/snapshot-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type Ctx = RouteContext<'/api/clusters/[id]/snapshots'>;

export const GET = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id } = await ctx.params;
  const app = dashboard();
  const who = await app.access.requireRole(req, 'viewer');
  return json(await listSnapshots(app, id, who));
});

export const POST = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id } = await ctx.params;
  const app = dashboard();
  const who = await app.access.requireRole(req, 'operator', { action: 'snapshot.take', clusterId: id });
  // The manager audits what take() does; a body it never sees is audited here.
  const body = await app.access.audited(who, 'snapshot.take', { clusterId: id }, () =>
    parseOptionalJsonBody(req, takeSnapshotInput),
  );
  const by = snapshotActor(who);
  return json(
    await app.snapshots.take(id, { ...(body.memberId ? { memberId: body.memberId } : {}), trigger: 'manual', by }),
    202,
  );
});
