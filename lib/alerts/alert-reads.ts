// The alerts API's answers: the query validated, the service's current alerts or their history.
import 'server-only';
import type { ClusterReads } from '@/lib/collector/cluster-reads';
import { parseTimeRange } from '@/lib/history/time-range';
import type { AlertService } from './alert-service';
import type { AlertsResponse } from './alert-types';

export interface AlertsQuery {
  clusterId: string | null;
  /** Absent: what is pending or firing now, and what resolved in the last hour. */
  range: { from: number; to: number } | null;
}

export function parseAlertsQuery(params: URLSearchParams, now = Date.now()): AlertsQuery {
  const clusterId = params.get('cluster');
  if (!params.has('from') && !params.has('to')) return { clusterId, range: null };
  return { clusterId, range: parseTimeRange({ from: params.get('from'), to: params.get('to') }, now, '-24h') };
}

interface AlertReadsDeps {
  alerts: AlertService;
  clusters: Pick<ClusterReads, 'collector'>;
}

/**
 * Without a range: pending and firing alerts, and those resolved in the last hour. With one: the history, every
 * alert that fired in the range or was firing then (from the database, newest first).
 */
export async function listAlerts(deps: AlertReadsDeps, q: AlertsQuery, now = Date.now()): Promise<AlertsResponse> {
  if (q.clusterId !== null) deps.clusters.collector(q.clusterId);
  if (!q.range) return { alerts: await deps.alerts.list(q.clusterId ?? undefined, now) };
  return {
    alerts: await deps.alerts.history({ ...q.range, ...(q.clusterId !== null ? { clusterId: q.clusterId } : {}) }),
  };
}

export function listDeliveries(deps: AlertReadsDeps, clusterId: string) {
  deps.clusters.collector(clusterId);
  return { deliveries: deps.alerts.deliveries(clusterId) };
}
