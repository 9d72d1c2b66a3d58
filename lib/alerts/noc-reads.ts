// The NOC wall's one request: statuses and worst alerts of every configured cluster.
import 'server-only';
import type { ClusterReads } from '@/lib/collector/cluster-reads';
import type { AlertService } from './alert-service';
import type { NocResponse } from './noc-types';

export function nocTiles(deps: { alerts: AlertService; clusters: ClusterReads }, now = Date.now()): NocResponse {
  const alerts = deps.alerts.active(undefined, now).filter((a) => a.state === 'firing');
  return {
    servedAt: new Date(now).toISOString(),
    tiles: deps.clusters.list().map((c) => {
      const mine = alerts.filter((a) => a.clusterId === c.id && a.severity !== 'info');
      return { status: deps.clusters.status(c.id, now), worstAlert: mine[0] ?? null, firingCount: mine.length };
    }),
  };
}
