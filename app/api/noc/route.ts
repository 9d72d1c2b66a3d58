import { nocTiles } from '@/lib/alerts/noc-reads';
import { handleRoute, json } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request) => {
  const app = dashboard();
  await app.access.requireRole(req, 'viewer');
  return json(await nocTiles(app));
});
