import { requireRole } from '@/lib/access/guard';
import { handleRoute, json } from '@/lib/api/route-handler';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute((req: Request) => {
  const { actor, role, method } = requireRole(req, 'viewer');
  return json({ actor, role, method });
});
