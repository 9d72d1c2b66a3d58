import { handleRoute, json } from '@/lib/api/route-handler';
import { listDeliveries } from '@/lib/alerts/alert-requests';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request, ctx: RouteContext<'/api/clusters/[id]/alerts/deliveries'>) =>
  json(listDeliveries(req, (await ctx.params).id)),
);
