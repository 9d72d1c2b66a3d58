import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';
import { consistencyReport, parseConsistencyQuery } from '@/lib/maintenance/maintenance-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type Ctx = RouteContext<'/api/clusters/[id]/consistency'>;

export const GET = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id } = await ctx.params;
  const app = dashboard();
  await app.access.requireRole(req, 'viewer');
  const { limit } = parseConsistencyQuery(new URL(req.url).searchParams);
  const { cluster } = app.clusters.collector(id);
  return json(await consistencyReport(app.consistency, id, limit, cluster.maintenance.consistencyCheckMs));
});

/** Compares the members now instead of at the next interval. */
export const POST = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id } = await ctx.params;
  const app = dashboard();
  await app.access.requireRole(req, 'operator');
  const { cluster } = app.clusters.collector(id);
  const check = await app.consistency.checkOnce(id);
  return json(
    await consistencyReport(app.consistency, id, 50, cluster.maintenance.consistencyCheckMs),
    check ? 200 : 202,
  );
});
