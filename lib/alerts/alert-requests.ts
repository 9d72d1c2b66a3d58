// The alerts API: validated parameters, the viewer role, the service's answer.
import 'server-only';
import { requireRole } from '@/lib/access/guard';
import { notFound } from '@/lib/api/api-error';
import { parseTimeRange } from '@/lib/history/time-range';
import { getRuntime } from '@/lib/collector/runtime';
import type { AlertsResponse } from './alert-types';

/**
 * Without from/to: pending and firing alerts, and those resolved in the last hour. With from and/or to: the
 * history, every alert that fired in the range or was firing then (from the database, newest first).
 */
export function listAlerts(req: Request, now = Date.now()): AlertsResponse {
  requireRole(req, 'viewer');
  const rt = getRuntime();
  const params = new URL(req.url).searchParams;
  const cluster = params.get('cluster');
  if (cluster !== null && !rt.collectors.has(cluster)) throw notFound(`no cluster with id "${cluster.slice(0, 64)}"`);
  if (!params.has('from') && !params.has('to')) return { alerts: rt.alerts.list(cluster ?? undefined, now) };
  const range = parseTimeRange({ from: params.get('from'), to: params.get('to') }, now, '-24h');
  return { alerts: rt.alerts.history({ ...range, ...(cluster !== null ? { clusterId: cluster } : {}) }) };
}

export function listDeliveries(req: Request, clusterId: string) {
  requireRole(req, 'viewer');
  const rt = getRuntime();
  if (!rt.collectors.has(clusterId)) throw notFound(`no cluster with id "${clusterId.slice(0, 64)}"`);
  return { deliveries: rt.alerts.deliveries(clusterId) };
}
