// What the API and the pages read: the collectors' latest results, with the staleness verdict added now.
import 'server-only';
import { notFound } from '@/lib/api/api-error';
import { computeQuorum } from '@/lib/cluster/quorum';
import { isStale } from '@/lib/cluster/staleness';
import type { ClusterStatus, ClusterSummary } from '@/lib/cluster/status-types';
import { getRuntime } from './runtime';

export function listClusters(): ClusterSummary[] {
  return getRuntime().config.clusters.map((c) => ({ id: c.id, name: c.name, endpoints: c.endpoints }));
}

export function getClusterStatus(clusterId: string, now = Date.now()): ClusterStatus {
  const runtime = getRuntime();
  const collector = runtime.collectors.get(clusterId);
  if (!collector) throw notFound(`no cluster with id "${clusterId}"`);
  const snapshot = runtime.snapshots.latestVerifiedSummary(clusterId);
  const census = runtime.alerts.census.get(clusterId);
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
      secretsAtRest,
      pollIntervalMs: runtime.config.pollIntervalMs,
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
    stale: isStale(latest.observedAt, now, runtime.staleAfterMs),
    servedAt: new Date(now).toISOString(),
    lastVerifiedSnapshot: snapshot,
    secretsAtRest,
  };
}
