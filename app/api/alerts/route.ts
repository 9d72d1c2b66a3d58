import { parseAlertsQuery, listAlerts } from '@/lib/alerts/alert-reads';
import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request) => {
  const app = dashboard();
  await app.access.requireRole(req, 'viewer');
  const query = parseAlertsQuery(new URL(req.url).searchParams);
  return json(await listAlerts(app, query));
});
