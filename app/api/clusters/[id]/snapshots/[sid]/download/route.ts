import { handleRoute } from '@/lib/api/route-handler';
import { downloadSnapshot } from '@/lib/snapshots/snapshot-requests';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(
  async (req: Request, ctx: RouteContext<'/api/clusters/[id]/snapshots/[sid]/download'>) => {
    const { id, sid } = await ctx.params;
    return downloadSnapshot(req, id, sid);
  },
);
