import { parseAuditQuery } from '@/lib/access/audit-reads';
import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request) => {
  const app = dashboard();
  await app.access.requireRole(req, 'admin');
  const query = parseAuditQuery(new URL(req.url).searchParams);
  return json({ entries: await app.auth.audit.query(query) });
});
