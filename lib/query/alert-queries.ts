// react-query resources for the overview's alerts panel: the alerts of a cluster and their notification deliveries.
import { queryOptions } from '@tanstack/react-query';
import type { AlertsResponse } from '@/lib/alerts/alert-types';
import type { DeliveryRecord } from '@/lib/alerts/notify/notification-types';
import { fetchJson } from './fetch-json';

/** Firing and pending alerts change with the status: polled as often as the rules are judged, in the background too. */
export function alertsQuery(clusterId: string) {
  return queryOptions({
    queryKey: ['alerts', clusterId],
    queryFn: ({ signal }) => fetchJson<AlertsResponse>(`/api/alerts?cluster=${encodeURIComponent(clusterId)}`, signal),
    refetchInterval: 2000,
    refetchIntervalInBackground: true,
  });
}

export function alertDeliveriesQuery(clusterId: string) {
  return queryOptions({
    queryKey: ['alerts', clusterId, 'deliveries'],
    queryFn: ({ signal }) =>
      fetchJson<{ deliveries: DeliveryRecord[] }>(
        `/api/clusters/${encodeURIComponent(clusterId)}/alerts/deliveries`,
        signal,
      ),
    refetchInterval: 10_000,
  });
}
