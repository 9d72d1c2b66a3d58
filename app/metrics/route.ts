import { handleRoute } from '@/lib/api/route-handler';
import { dashboard } from '@/lib/app/dashboard';
import { renderDashboardMetrics } from '@/lib/observability/dashboard-metrics';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request) => {
  const app = dashboard();
  await app.access.requireRole(req, 'viewer');
  const { body, contentType } = await renderDashboardMetrics(app);
  return new Response(body, { headers: { 'Content-Type': contentType, 'Cache-Control': 'no-store' } });
});
