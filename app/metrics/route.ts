import { requireRole } from '@/lib/access/guard';
import { handleRoute } from '@/lib/api/route-handler';
import { renderDashboardMetrics } from '@/lib/observability/dashboard-metrics';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute(async (req: Request) => {
  requireRole(req, 'viewer');
  const { body, contentType } = await renderDashboardMetrics();
  return new Response(body, { headers: { 'Content-Type': contentType, 'Cache-Control': 'no-store' } });
});
