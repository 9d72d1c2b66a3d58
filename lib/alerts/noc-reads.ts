// The NOC wall's one request: statuses, worst alerts and the newest consistency check of every configured cluster.
import 'server-only';
import type { ConsistencyCheck } from '@/lib/cluster/consistency-types';
import type { ClusterReads } from '@/lib/collector/cluster-reads';
import type { DashboardConfig } from '@/lib/config/load-config';
import type { AlertService } from './alert-service';
import type { NocResponse } from './noc-types';

export interface NocDeps {
  alerts: AlertService;
  clusters: ClusterReads;
  config: Pick<DashboardConfig, 'clusters'>;
  /** The maintenance checker's newest check of a cluster. */
  consistency: { latest(clusterId: string): ConsistencyCheck | null };
}

export function nocTiles(deps: NocDeps, now = Date.now()): NocResponse {
  const alerts = deps.alerts.active(undefined, now).filter((a) => a.state === 'firing');
  return {
    servedAt: new Date(now).toISOString(),
    tiles: deps.clusters.list().map((c) => {
      const mine = alerts.filter((a) => a.clusterId === c.id && a.severity !== 'info');
      const intervalMs = deps.config.clusters.find((x) => x.id === c.id)?.maintenance.consistencyCheckMs ?? 0;
      return {
        status: deps.clusters.status(c.id, now),
        worstAlert: mine[0] ?? null,
        firingCount: mine.length,
        consistency: { check: deps.consistency.latest(c.id), intervalMs },
      };
    }),
  };
}
