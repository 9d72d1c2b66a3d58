import { handleRoute } from '@/lib/api/route-handler';
import { downloadSnapshot } from '@/lib/snapshots/snapshot-requests';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type Ctx = RouteContext<'/api/clusters/[id]/snapshots/[sid]/download'>;

const download = handleRoute(async (req: Request, ctx: Ctx) => {
  const { id, sid } = await ctx.params;
  return downloadSnapshot(req, id, sid);
});

export const GET = download;
// The same handler: downloadSnapshot reads the method, checks the same, sends no body and audits snapshot.head.
export const HEAD = download;
