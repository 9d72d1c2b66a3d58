import { requireRole } from '@/lib/access/guard';
import { handleRoute, json } from '@/lib/api/route-handler';
import { listClusters } from '@/lib/collector/cluster-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute((req: Request) => {
  requireRole(req, 'viewer');
  return json({ clusters: listClusters() });
});
