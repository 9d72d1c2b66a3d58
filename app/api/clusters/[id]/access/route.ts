import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request, ctx: RouteContext<'/api/clusters/[id]/access'>) => {
  const { id } = await ctx.params;
  const app = dashboard();
  await app.access.requireRole(req, 'viewer');
  return json(await app.etcdAccess.read(id));
});
