// One queryOptions per resource, used by the server prefetch and the browser's polling hooks alike.
import { queryOptions } from '@tanstack/react-query';
import type { ClusterAccess } from '@/lib/cluster/etcd-features';
import type { ClusterStatus, ClusterSummary } from '@/lib/cluster/status-types';
import { fetchJson } from './fetch-json';

/** The browser polls about once a second, like the collector. */
export const STATUS_POLL_MS = 1000;

export const clustersQuery = queryOptions({
  queryKey: ['clusters'],
  queryFn: ({ signal }) => fetchJson<{ clusters: ClusterSummary[] }>('/api/clusters', signal),
  staleTime: 60_000,
});

export function clusterStatusQuery(clusterId: string) {
  return queryOptions({
    queryKey: ['clusters', clusterId, 'status'],
    queryFn: ({ signal }) => fetchJson<ClusterStatus>(`/api/clusters/${encodeURIComponent(clusterId)}/status`, signal),
    refetchInterval: STATUS_POLL_MS,
    // A wall screen is never focused: keep polling in the background.
    refetchIntervalInBackground: true,
  });
}

/** What etcd lets the dashboard's etcd user do: changes only when someone changes etcd's auth. */
export function clusterAccessQuery(clusterId: string) {
  return queryOptions({
    queryKey: ['clusters', clusterId, 'access'],
    queryFn: ({ signal }) => fetchJson<ClusterAccess>(`/api/clusters/${encodeURIComponent(clusterId)}/access`, signal),
    staleTime: 60_000,
    refetchInterval: 60_000,
  });
}
