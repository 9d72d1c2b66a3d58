import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';
import { snapshotActor, snapshotDetail } from '@/lib/snapshots/snapshot-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type Ctx = RouteContext<'/api/clusters/[id]/snapshots/[sid]'>;

export const GET = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id, sid } = await ctx.params;
  const app = dashboard();
  const who = await app.access.requireRole(req, 'viewer');
  return json(await snapshotDetail(app, id, sid, who));
});

export const DELETE = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id, sid } = await ctx.params;
  const app = dashboard();
  const who = await app.access.requireRole(req, 'operator', { action: 'snapshot.delete', clusterId: id });
  await app.snapshots.remove(id, sid, snapshotActor(who));
  return json({ deleted: true });
});
