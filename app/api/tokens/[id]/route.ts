import { revokeToken } from '@/lib/access/api-tokens';
import { handleRoute, json } from '@/lib/api/route-handler';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const DELETE = handleRoute(async (req: Request, ctx: RouteContext<'/api/tokens/[id]'>) => {
  await revokeToken(req, (await ctx.params).id);
  return json({ revoked: true });
});
