// What the API and the pages read: the collectors' latest results, with the staleness verdict added now.
import 'server-only';
import type { ClusterConfig } from '@/lib/config/load-config';
import { notFound } from '@/lib/errors/domain-errors';
import { computeQuorum } from '@/lib/cluster/quorum';
import { isStale } from '@/lib/cluster/staleness';
import type { ClusterStatus, ClusterSummary } from '@/lib/cluster/status-types';
import type { SecretsCensus } from '@/lib/etcd/secrets-census';
import type { ClusterCollector } from './cluster-collector';

export interface ClusterReadsDeps {
  clusters: readonly ClusterConfig[];
  collectors: ReadonlyMap<string, ClusterCollector>;
  pollIntervalMs: number;
  staleAfterMs: number;
  /** The newest verified snapshot of a cluster (the snapshot manager's). */
  lastVerifiedSnapshot(clusterId: string): ClusterStatus['lastVerifiedSnapshot'];
  /** The newest snapshot whose restore test passed; absent: not known to this reader. */
  lastRestoreTestedSnapshot?(clusterId: string): ClusterStatus['lastRestoreTestedSnapshot'];
  /** The last Secrets census of a cluster: counts only, never values. */
  secretsCensus(clusterId: string): SecretsCensus | { error: string } | undefined;
}

export class ClusterReads {
  constructor(private readonly deps: ClusterReadsDeps) {}

  list(): ClusterSummary[] {
    return this.deps.clusters.map((c) => ({ id: c.id, name: c.name, endpoints: c.endpoints }));
  }

  /** The collector of a cluster; NotFound naming the id when there is none. */
  collector(clusterId: string): ClusterCollector {
    const collector = this.deps.collectors.get(clusterId);
    if (!collector) throw notFound(`no cluster with id "${clusterId.slice(0, 64)}"`);
    return collector;
  }

  /** The last observation of a cluster, null before the first poll or for an id that is not configured. */
  latest(clusterId: string): ReturnType<ClusterCollector['current']> {
    return this.deps.collectors.get(clusterId)?.current() ?? null;
  }

  status(clusterId: string, now = Date.now()): ClusterStatus {
    const { deps } = this;
    const collector = this.collector(clusterId);
    const snapshot = deps.lastVerifiedSnapshot(clusterId);
    const restoreTested = deps.lastRestoreTestedSnapshot?.(clusterId) ?? null;
    const census = deps.secretsCensus(clusterId);
    const secretsAtRest =
      census && !('error' in census) && census.total > 0
        ? {
            total: census.total,
            encrypted: census.encrypted,
            plain: census.plain,
            byProvider: census.byProvider,
            scannedAt: census.scannedAt,
          }
        : null;
    const latest = collector.current();
    if (!latest) {
      return {
        clusterId,
        name: collector.cluster.name,
        observedAt: null,
        lastAnsweredAt: null,
        stale: true,
        servedAt: new Date(now).toISOString(),
        lastVerifiedSnapshot: snapshot,
        lastRestoreTestedSnapshot: restoreTested,
        secretsAtRest,
        pollIntervalMs: deps.pollIntervalMs,
        quorum: computeQuorum([], false),
        leader: null,
        members: [],
        alarms: [],
        warnings: ['waiting for the first poll to complete'],
        quotaBackendBytes: null,
        quotaSource: null,
      };
    }
    return {
      ...latest,
      lastAnsweredAt: collector.lastAnsweredAt(),
      stale: isStale(latest.observedAt, now, deps.staleAfterMs),
      servedAt: new Date(now).toISOString(),
      lastVerifiedSnapshot: snapshot,
      lastRestoreTestedSnapshot: restoreTested,
      secretsAtRest,
    };
  }

  /** Which cluster a page shows: the ?cluster= parameter, else the first configured one. */
  select(requested: string | string[] | undefined): {
    clusters: ClusterSummary[];
    selected: ClusterSummary | undefined;
    /** The id asked for that does not exist, to say so on the page. */
    unknown: string | null;
  } {
    const clusters = this.list();
    const id = typeof requested === 'string' ? requested : undefined;
    const match = clusters.find((c) => c.id === id);
    return { clusters, selected: match ?? clusters[0], unknown: id !== undefined && !match ? id : null };
  }
}
