import { Suspense } from 'react';
import { dehydrate, HydrationBoundary } from '@tanstack/react-query';
import { HistoryView } from '@/components/history/history-view';
import { SiteHeader } from '@/components/site-header';
import { UnknownClusterNotice } from '@/components/unknown-cluster-notice';
import { dashboard } from '@/lib/app/dashboard';
import { DEFAULT_THRESHOLDS } from '@/lib/cluster/thresholds';
import { prefetchHistoryCharts } from '@/lib/query/history-prefetch';
import { chartThresholds, DEFAULT_RANGE, isRangePreset } from '@/lib/history/range-presets';
import { clusterStatusQuery } from '@/lib/query/cluster-queries';
import { getQueryClient } from '@/lib/query/get-query-client';
import { DomainError } from '@/lib/errors/domain-errors';

export const dynamic = 'force-dynamic';

const one = (v: string | string[] | undefined) => (typeof v === 'string' && v !== '' ? v : undefined);

export default async function HistoryPage({ searchParams }: PageProps<'/history'>) {
  const params = await searchParams;
  const viewer = await dashboard().access.requirePage('/history');
  const { clusters, selected, unknown } = dashboard().clusters.select(params.cluster);
  if (!selected) return <main className="p-6">No cluster is configured.</main>;
  // The charts draw the levels this cluster's alerts fire at, as configured.
  const thresholds =
    dashboard().config.clusters.find((c) => c.id === selected.id)?.alerts.thresholds ?? DEFAULT_THRESHOLDS;

  // A preset range is live ("the last hour"); from/to (as event links give) is a fixed window.
  const from = one(params.from);
  const range = isRangePreset(one(params.range))
    ? (one(params.range) as typeof DEFAULT_RANGE)
    : from
      ? null
      : DEFAULT_RANGE;
  const win = {
    clusterId: selected.id,
    from: range ? `-${range}` : (from as string),
    to: range ? 'now' : (one(params.to) ?? 'now'),
    live: range !== null,
  };

  const queryClient = getQueryClient();
  queryClient.setQueryData(clusterStatusQuery(selected.id).queryKey, dashboard().clusters.status(selected.id));
  try {
    // With the history database refusing writes, a read would only wait to fail: the charts ask for themselves.
    if (dashboard().history.recorder.historyAvailable.ok) {
      await prefetchHistoryCharts(queryClient, dashboard().history.reads, win, one(params.member));
    }
  } catch (err) {
    // A range or member the API refuses, or the database's error: the page is drawn all the same, and the charts
    // ask for themselves and show the API's message.
    if (!(err instanceof DomainError)) {
      console.error(`history page: prefetch failed: ${err instanceof Error ? err.name : typeof err}`);
    }
  }

  return (
    <main className="mx-auto max-w-[2400px] space-y-4 p-4 sm:p-6">
      <SiteHeader clusters={clusters} selected={selected} current="/history" viewer={viewer} />
      <UnknownClusterNotice requested={unknown} shown={selected.name} />
      <HydrationBoundary state={dehydrate(queryClient)}>
        <Suspense>
          <HistoryView
            clusterId={selected.id}
            range={range}
            from={win.from}
            to={win.to}
            at={one(params.at) ?? null}
            thresholds={chartThresholds(thresholds)}
          />
        </Suspense>
      </HydrationBoundary>
    </main>
  );
}
