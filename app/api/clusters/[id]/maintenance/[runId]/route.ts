import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';
import { snapshotActor } from '@/lib/snapshots/snapshot-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type Ctx = RouteContext<'/api/clusters/[id]/maintenance/[runId]'>;

export const GET = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id, runId } = await ctx.params;
  const app = dashboard();
  await app.access.requireRole(req, 'viewer');
  return json(await app.maintenance.get(id, runId));
});

/** Cancels the run before its next step; a member's defragment in progress is never cut short. */
export const DELETE = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id, runId } = await ctx.params;
  const app = dashboard();
  const who = await app.access.requireRole(req, 'operator', { action: 'maintenance.cancel', clusterId: id });
  return json(await app.maintenance.cancel(id, runId, snapshotActor(who)), 202);
});
