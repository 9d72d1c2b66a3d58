import { SiteHeader } from '@/components/site-header';
import { SnapshotsView } from '@/components/snapshots/snapshots-view';
import { UnknownClusterNotice } from '@/components/unknown-cluster-notice';
import { dashboard } from '@/lib/app/dashboard';
import { roleAtLeast } from '@/lib/auth/roles';

export const dynamic = 'force-dynamic';

export default async function SnapshotsPage({ searchParams }: PageProps<'/snapshots'>) {
  const params = await searchParams;
  const viewer = await dashboard().access.requirePage('/snapshots');
  const { clusters, selected, unknown } = dashboard().clusters.select(params.cluster);
  if (!selected) return <main className="p-6">No cluster is configured.</main>;
  const canAct = viewer.method !== 'anonymous' && roleAtLeast(viewer.role, 'operator');
  return (
    <main className="mx-auto max-w-[2400px] space-y-4 p-4 sm:p-6">
      <SiteHeader clusters={clusters} selected={selected} current="/snapshots" viewer={viewer} />
      <UnknownClusterNotice requested={unknown} shown={selected.name} />
      {!canAct && (
        <p data-testid="sign-in-hint" className="text-sm text-slate-700 dark:text-slate-300">
          {viewer.method === 'anonymous' ? (
            <>
              You are viewing without signing in.{' '}
              <a
                href={`/login?next=${encodeURIComponent(`/snapshots?cluster=${selected.id}`)}`}
                className="text-sky-700 underline dark:text-sky-400"
              >
                Sign in
              </a>{' '}
              as an operator to take, download, delete or restore-test a snapshot.
            </>
          ) : (
            <>
              Taking, downloading, deleting and restore-testing snapshots needs the operator role; you are a{' '}
              {viewer.role}.
            </>
          )}
        </p>
      )}
      <SnapshotsView clusterId={selected.id} canAct={canAct} />
    </main>
  );
}
