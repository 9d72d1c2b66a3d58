import { signIn } from '@/lib/access/sessions';
import { handleRoute, json } from '@/lib/api/route-handler';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const POST = handleRoute(async (req: Request) => {
  const { cookie, ...body } = await signIn(req);
  const res = json(body);
  res.headers.append('Set-Cookie', cookie);
  return res;
});
