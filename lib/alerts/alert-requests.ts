// The alerts API: validated parameters, the viewer role, the service's answer.
import 'server-only';
import { requireRole } from '@/lib/access/guard';
import { notFound } from '@/lib/api/api-error';
import { getRuntime } from '@/lib/collector/runtime';
import type { AlertsResponse } from './alert-types';

export function listAlerts(req: Request): AlertsResponse {
  requireRole(req, 'viewer');
  const rt = getRuntime();
  const cluster = new URL(req.url).searchParams.get('cluster');
  if (cluster !== null && !rt.collectors.has(cluster)) throw notFound(`no cluster with id "${cluster.slice(0, 64)}"`);
  return { alerts: rt.alerts.list(cluster ?? undefined) };
}

export function listDeliveries(req: Request, clusterId: string) {
  requireRole(req, 'viewer');
  const rt = getRuntime();
  if (!rt.collectors.has(clusterId)) throw notFound(`no cluster with id "${clusterId.slice(0, 64)}"`);
  return { deliveries: rt.alerts.deliveries(clusterId) };
}
