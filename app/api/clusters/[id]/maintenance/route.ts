import { parseJsonBody } from '@/lib/api/parse-body';
import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';
import { listRuns, maintenanceInput, startedRun, toMaintenanceRequest } from '@/lib/maintenance/maintenance-reads';
import { snapshotActor } from '@/lib/snapshots/snapshot-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type Ctx = RouteContext<'/api/clusters/[id]/maintenance'>;

export const GET = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id } = await ctx.params;
  const app = dashboard();
  await app.access.requireRole(req, 'viewer');
  return json(await listRuns(app.maintenance, id));
});

export const POST = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id } = await ctx.params;
  const app = dashboard();
  const who = await app.access.requireRole(req, 'operator', { action: 'maintenance', clusterId: id });
  // The service audits what start() does; a body it never sees is audited here.
  const body = await app.access.audited(who, 'maintenance', { clusterId: id }, () =>
    parseJsonBody(req, maintenanceInput),
  );
  const request = toMaintenanceRequest(body);
  if (request.dryRun) return json(await app.maintenance.plan(id, request));
  return json(startedRun(await app.maintenance.start(id, request, snapshotActor(who))), 202);
});
