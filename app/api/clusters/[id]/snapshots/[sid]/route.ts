import { handleRoute, json } from '@/lib/api/route-handler';
import { deleteSnapshot, snapshotDetail } from '@/lib/snapshots/snapshot-requests';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type Ctx = RouteContext<'/api/clusters/[id]/snapshots/[sid]'>;

export const GET = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id, sid } = await ctx.params;
  return json(snapshotDetail(req, id, sid));
});

export const DELETE = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id, sid } = await ctx.params;
  await deleteSnapshot(req, id, sid);
  return json({ deleted: true });
});
