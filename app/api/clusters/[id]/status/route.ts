import { handleRoute, json } from '@/lib/api/route-handler';
import { getClusterStatus } from '@/lib/collector/cluster-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (_req: Request, ctx: RouteContext<'/api/clusters/[id]/status'>) =>
  json(getClusterStatus((await ctx.params).id)),
);
