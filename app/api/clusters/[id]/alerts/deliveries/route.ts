import { listDeliveries } from '@/lib/alerts/alert-reads';
import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request, ctx: RouteContext<'/api/clusters/[id]/alerts/deliveries'>) => {
  const { id } = await ctx.params;
  const app = dashboard();
  await app.access.requireRole(req, 'viewer');
  return json(listDeliveries(app, id));
});
