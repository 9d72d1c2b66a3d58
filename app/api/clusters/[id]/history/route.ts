import { requireRole } from '@/lib/access/guard';
import { handleRoute, json } from '@/lib/api/route-handler';
import { getHistory } from '@/lib/collector/history-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request, ctx: RouteContext<'/api/clusters/[id]/history'>) => {
  requireRole(req, 'viewer');
  return json(getHistory((await ctx.params).id, new URL(req.url).searchParams));
});
