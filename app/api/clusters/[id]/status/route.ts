import { requireRole } from '@/lib/access/guard';
import { handleRoute, json } from '@/lib/api/route-handler';
import { getClusterStatus } from '@/lib/collector/cluster-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request, ctx: RouteContext<'/api/clusters/[id]/status'>) => {
  requireRole(req, 'viewer');
  return json(getClusterStatus((await ctx.params).id));
});
