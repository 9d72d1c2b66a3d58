// Which cluster a page shows: the ?cluster= parameter, else the first configured one.
import 'server-only';
import type { ClusterSummary } from '@/lib/cluster/status-types';
import { listClusters } from './cluster-reads';

export function selectCluster(requested: string | string[] | undefined): {
  clusters: ClusterSummary[];
  selected: ClusterSummary | undefined;
  /** The id asked for that does not exist, to say so on the page. */
  unknown: string | null;
} {
  const clusters = listClusters();
  const id = typeof requested === 'string' ? requested : undefined;
  const match = clusters.find((c) => c.id === id);
  return { clusters, selected: match ?? clusters[0], unknown: id !== undefined && !match ? id : null };
}
