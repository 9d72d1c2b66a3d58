// The NOC wall's one request: statuses, worst alerts and the newest consistency check of every configured cluster.
import 'server-only';
import type { ConsistencyCheck } from '@/lib/cluster/consistency-types';
import { boundedRead } from '@/lib/db/bounded-read';
import type { ClusterReads } from '@/lib/collector/cluster-reads';
import type { DashboardConfig } from '@/lib/config/load-config';
import type { AlertService } from './alert-service';
import type { NocResponse } from './noc-types';

export interface NocDeps {
  alerts: AlertService;
  clusters: ClusterReads;
  config: Pick<DashboardConfig, 'clusters'>;
  /** The maintenance checker's newest check of a cluster. */
  consistency: { latest(clusterId: string): Promise<ConsistencyCheck | null> };
}

export async function nocTiles(deps: NocDeps, now = Date.now()): Promise<NocResponse> {
  const alerts = deps.alerts.active(undefined, now).filter((a) => a.state === 'firing');
  const clusters = deps.clusters.list();
  // Read before the tiles are built, so every tile is of the same moment. The wall never waits on the database: a
  // check it cannot read in time is shown as none, and the live state is there regardless.
  const checks = await Promise.all(clusters.map((c) => boundedRead(deps.consistency.latest(c.id), null)));
  return {
    servedAt: new Date(now).toISOString(),
    tiles: clusters.map((c, i) => {
      const mine = alerts.filter((a) => a.clusterId === c.id && a.severity !== 'info');
      const intervalMs = deps.config.clusters.find((x) => x.id === c.id)?.maintenance.consistencyCheckMs ?? 0;
      return {
        status: deps.clusters.status(c.id, now),
        worstAlert: mine[0] ?? null,
        firingCount: mine.length,
        consistency: { check: checks[i] ?? null, intervalMs },
      };
    }),
  };
}
