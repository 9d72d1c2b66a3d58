import { fileResponse } from '@/lib/api/file-response';
import { handleRoute } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';
import { snapshotActor } from '@/lib/snapshots/snapshot-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type Ctx = RouteContext<'/api/clusters/[id]/snapshots/[sid]/download'>;

/**
 * Streams the verified file. HEAD makes the same checks and answers the same headers without a body, and is audited
 * as snapshot.head: it is not a download.
 */
const download = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id, sid } = await ctx.params;
  const head = req.method === 'HEAD';
  const app = dashboard();
  const who = await app.access.requireRole(req, 'operator', {
    action: head ? 'snapshot.head' : 'snapshot.download',
    clusterId: id,
  });
  return fileResponse(await app.snapshots.downloadable(id, sid, snapshotActor(who), { head }));
});

export const GET = download;
export const HEAD = download;
