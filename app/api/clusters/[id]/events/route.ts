import { requireRole } from '@/lib/access/guard';
import { handleRoute, json } from '@/lib/api/route-handler';
import { getEvents } from '@/lib/collector/history-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request, ctx: RouteContext<'/api/clusters/[id]/events'>) => {
  requireRole(req, 'viewer');
  return json(getEvents((await ctx.params).id, new URL(req.url).searchParams));
});
