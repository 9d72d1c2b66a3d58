import { signOut } from '@/lib/access/sessions';
import { handleRoute, json } from '@/lib/api/route-handler';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const POST = handleRoute((req: Request) => {
  const res = json({ signedOut: true });
  res.headers.append('Set-Cookie', signOut(req));
  return res;
});
