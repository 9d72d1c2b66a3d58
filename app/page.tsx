import { dehydrate, HydrationBoundary } from '@tanstack/react-query';
import { ClusterOverview } from '@/components/cluster-overview';
import { SiteHeader } from '@/components/site-header';
import { UnknownClusterNotice } from '@/components/unknown-cluster-notice';
import { dashboard } from '@/lib/app/dashboard';
import { clusterStatusQuery } from '@/lib/query/cluster-queries';
import { getQueryClient } from '@/lib/query/get-query-client';

export const dynamic = 'force-dynamic';

export default async function OverviewPage({ searchParams }: PageProps<'/'>) {
  const params = await searchParams;
  const viewer = await dashboard().access.requirePage(
    `/${typeof params.cluster === 'string' ? `?cluster=${encodeURIComponent(params.cluster)}` : ''}`,
  );
  const { clusters, selected, unknown } = dashboard().clusters.select(params.cluster);
  if (!selected) return <main className="p-6">No cluster is configured.</main>;

  const queryClient = getQueryClient();
  // The server already holds the latest poll: render it at once instead of a spinner.
  queryClient.setQueryData(clusterStatusQuery(selected.id).queryKey, dashboard().clusters.status(selected.id));

  return (
    <main className="mx-auto max-w-[2200px] space-y-4 p-4 sm:p-6">
      <SiteHeader clusters={clusters} selected={selected} current="/" viewer={viewer} />
      <UnknownClusterNotice requested={unknown} shown={selected.name} />
      <HydrationBoundary state={dehydrate(queryClient)}>
        <ClusterOverview clusterId={selected.id} />
      </HydrationBoundary>
    </main>
  );
}
