// The NOC wall's one request: statuses and worst alerts of every configured cluster.
import 'server-only';
import { requireRole } from '@/lib/access/guard';
import { getClusterStatus } from '@/lib/collector/cluster-reads';
import { getRuntime } from '@/lib/collector/runtime';
import type { NocResponse } from './noc-types';

export function nocTiles(req: Request, now = Date.now()): NocResponse {
  requireRole(req, 'viewer');
  const rt = getRuntime();
  const alerts = rt.alerts.active(undefined, now).filter((a) => a.state === 'firing');
  return {
    servedAt: new Date(now).toISOString(),
    tiles: rt.config.clusters.map((c) => {
      const mine = alerts.filter((a) => a.clusterId === c.id && a.severity !== 'info');
      return { status: getClusterStatus(c.id, now), worstAlert: mine[0] ?? null, firingCount: mine.length };
    }),
  };
}
