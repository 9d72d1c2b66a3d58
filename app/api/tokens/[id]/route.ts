import { revokeToken } from '@/lib/access/api-tokens';
import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const DELETE = handleRoute(async (req: Request, ctx: RouteContext<'/api/tokens/[id]'>) => {
  const { id } = await ctx.params;
  const app = dashboard();
  const who = await app.access.requireRole(req, 'admin', { action: 'token.revoke' });
  await app.access.audited(who, 'token.revoke', {}, () => revokeToken(app.auth, who, id));
  return json({ revoked: true });
});
