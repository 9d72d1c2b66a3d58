import { requireRole } from '@/lib/access/guard';
import { handleRoute, json } from '@/lib/api/route-handler';
import { getClusterAccess } from '@/lib/collector/access-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request, ctx: RouteContext<'/api/clusters/[id]/access'>) => {
  requireRole(req, 'viewer');
  return json(await getClusterAccess((await ctx.params).id));
});
