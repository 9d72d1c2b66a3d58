import { handleRoute, json } from '@/lib/api/route-handler';
import { listSnapshots, takeSnapshot } from '@/lib/snapshots/snapshot-requests';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type Ctx = RouteContext<'/api/clusters/[id]/snapshots'>;

export const GET = handleRoute(async (req: Request, ctx: Ctx) => json(listSnapshots(req, (await ctx.params).id)));
export const POST = handleRoute(async (req: Request, ctx: Ctx) =>
  json(await takeSnapshot(req, (await ctx.params).id), 202),
);
