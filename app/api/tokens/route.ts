import { createToken, createTokenInput } from '@/lib/access/api-tokens';
import { parseJsonBody } from '@/lib/api/parse-body';
import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request) => {
  const app = dashboard();
  await app.access.requireRole(req, 'admin');
  return json({ tokens: await app.auth.tokens.list(Date.now()) });
});

export const POST = handleRoute(async (req: Request) => {
  const app = dashboard();
  const who = await app.access.requireRole(req, 'admin', { action: 'token.create' });
  // A bad body is a failed token.create in the audit log, as a refused one is.
  const created = await app.access.audited(who, 'token.create', {}, async () =>
    createToken(app.auth, who, await parseJsonBody(req, createTokenInput)),
  );
  return json(created, 201);
});
