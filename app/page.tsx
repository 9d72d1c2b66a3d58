import { dehydrate, HydrationBoundary } from '@tanstack/react-query';
import { ClusterOverview } from '@/components/cluster-overview';
import { ClusterSwitcher } from '@/components/cluster-switcher';
import { getClusterStatus, listClusters } from '@/lib/collector/cluster-reads';
import { clusterStatusQuery } from '@/lib/query/cluster-queries';
import { getQueryClient } from '@/lib/query/get-query-client';

export const dynamic = 'force-dynamic';

export default async function OverviewPage({ searchParams }: PageProps<'/'>) {
  const params = await searchParams;
  const clusters = listClusters();
  const requested = typeof params.cluster === 'string' ? params.cluster : undefined;
  const selected = clusters.find((c) => c.id === requested) ?? clusters[0];
  if (!selected) return <main className="p-6">No cluster is configured.</main>;

  const queryClient = getQueryClient();
  // The server already holds the latest poll: render it at once instead of a spinner.
  queryClient.setQueryData(clusterStatusQuery(selected.id).queryKey, getClusterStatus(selected.id));

  return (
    <main className="mx-auto max-w-7xl space-y-4 p-4 sm:p-6">
      <header className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-bold">
          etcd · <span data-testid="cluster-name">{selected.name}</span>
        </h1>
        <ClusterSwitcher clusters={clusters} selected={selected.id} />
      </header>
      {requested !== undefined && requested !== selected.id && (
        <p role="alert" className="rounded-md bg-amber-100 px-3 py-2 text-sm text-amber-950">
          There is no cluster “{requested}”; showing {selected.name}.
        </p>
      )}
      <HydrationBoundary state={dehydrate(queryClient)}>
        <ClusterOverview clusterId={selected.id} />
      </HydrationBoundary>
    </main>
  );
}
