import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// Anyone may sign out: the cookie it clears is the caller's own (a cross-site request is refused).
export const POST = handleRoute(async (req: Request) => {
  const res = json({ signedOut: true });
  res.headers.append('Set-Cookie', await dashboard().access.signOut(req));
  return res;
});
