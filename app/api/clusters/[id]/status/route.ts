import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// server/server.mjs answers this route itself (lib/app/fast-routes.ts) once the dashboard has started.
export const GET = handleRoute(async (req: Request, ctx: RouteContext<'/api/clusters/[id]/status'>) => {
  const { id } = await ctx.params;
  const app = dashboard();
  await app.access.requireRole(req, 'viewer');
  return json(app.clusters.status(id));
});
