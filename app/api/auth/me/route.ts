import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request) => {
  const { actor, role, method } = await dashboard().access.requireRole(req, 'viewer');
  return json({ actor, role, method });
});
