import { handleRoute, json } from '@/lib/api/route-handler';
import { getEvents } from '@/lib/collector/history-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request, ctx: RouteContext<'/api/clusters/[id]/events'>) =>
  json(getEvents((await ctx.params).id, new URL(req.url).searchParams)),
);
