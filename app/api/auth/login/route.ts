import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// Signing in is the one route without a role to check: the body is the credential (sessions.ts reads and audits it).
export const POST = handleRoute(async (req: Request) => {
  const { cookie, ...body } = await dashboard().access.signIn(req);
  const res = json(body);
  res.headers.append('Set-Cookie', cookie);
  return res;
});
