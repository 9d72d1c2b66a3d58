import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type Ctx = RouteContext<'/api/clusters/[id]/snapshots/[sid]/restore-test'>;

/** Restore-tests the snapshot now; 409 while another restore test runs (one at a time). */
export const POST = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id, sid } = await ctx.params;
  const app = dashboard();
  const who = await app.access.requireRole(req, 'operator', { action: 'snapshot.restore-test', clusterId: id });
  const restoreTest = await app.access.audited(who, 'snapshot.restore-test', { clusterId: id }, () =>
    app.restoreTests.startNow(id, sid),
  );
  app.access.audit(who, 'snapshot.restore-test', 'success', { snapshotId: sid, phase: 'started' }, { clusterId: id });
  return json({ restoreTest }, 202);
});
