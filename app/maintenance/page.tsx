import { dehydrate, HydrationBoundary } from '@tanstack/react-query';
import { MaintenanceView } from '@/components/maintenance/maintenance-view';
import { SiteHeader } from '@/components/site-header';
import { UnknownClusterNotice } from '@/components/unknown-cluster-notice';
import { dashboard } from '@/lib/app/dashboard';
import { roleAtLeast } from '@/lib/auth/roles';
import { DEFAULT_MAINTENANCE_CONFIG } from '@/lib/config/load-config';
import { clusterStatusQuery } from '@/lib/query/cluster-queries';
import { getQueryClient } from '@/lib/query/get-query-client';

export const dynamic = 'force-dynamic';

export default async function MaintenancePage({ searchParams }: PageProps<'/maintenance'>) {
  const params = await searchParams;
  const viewer = await dashboard().access.requirePage(
    `/maintenance${typeof params.cluster === 'string' ? `?cluster=${encodeURIComponent(params.cluster)}` : ''}`,
  );
  const { clusters, selected, unknown } = dashboard().clusters.select(params.cluster);
  if (!selected) return <main className="p-6">No cluster is configured.</main>;
  const canAct = viewer.method !== 'anonymous' && roleAtLeast(viewer.role, 'operator');
  const m = dashboard().config.clusters.find((c) => c.id === selected.id)?.maintenance ?? DEFAULT_MAINTENANCE_CONFIG;

  const queryClient = getQueryClient();
  // The members to choose from are known at once: the server holds the latest poll.
  queryClient.setQueryData(clusterStatusQuery(selected.id).queryKey, dashboard().clusters.status(selected.id));

  return (
    <main className="mx-auto max-w-[2400px] space-y-4 p-4 sm:p-6">
      <SiteHeader clusters={clusters} selected={selected} current="/maintenance" viewer={viewer} />
      <UnknownClusterNotice requested={unknown} shown={selected.name} />
      <HydrationBoundary state={dehydrate(queryClient)}>
        <MaintenanceView
          clusterId={selected.id}
          canAct={canAct}
          settings={{
            pauseBetweenMembersMs: m.pauseBetweenMembersMs,
            keepRevisions: m.keepRevisions,
            consistencyCheckMs: m.consistencyCheckMs,
          }}
        />
      </HydrationBoundary>
    </main>
  );
}
