import { SiteHeader } from '@/components/site-header';
import { SnapshotsView } from '@/components/snapshots/snapshots-view';
import { UnknownClusterNotice } from '@/components/unknown-cluster-notice';
import { requirePageIdentity } from '@/lib/access/page-identity';
import { roleAtLeast } from '@/lib/auth/roles';
import { selectCluster } from '@/lib/collector/select-cluster';

export const dynamic = 'force-dynamic';

export default async function SnapshotsPage({ searchParams }: PageProps<'/snapshots'>) {
  const params = await searchParams;
  const viewer = await requirePageIdentity('/snapshots');
  const { clusters, selected, unknown } = selectCluster(params.cluster);
  if (!selected) return <main className="p-6">No cluster is configured.</main>;
  const canAct = viewer.method !== 'anonymous' && roleAtLeast(viewer.role, 'operator');
  return (
    <main className="mx-auto max-w-7xl space-y-4 p-4 sm:p-6">
      <SiteHeader clusters={clusters} selected={selected} current="/snapshots" viewer={viewer} />
      <UnknownClusterNotice requested={unknown} shown={selected.name} />
      <SnapshotsView clusterId={selected.id} canAct={canAct} />
    </main>
  );
}
