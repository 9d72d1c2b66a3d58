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
// Its own export, or Next.js would run GET for it: the file opened, and a HEAD audited as a download.
export const HEAD = download;
