'use client';

import type { Freshness } from '@/lib/cluster/freshness';
import { formatAge, formatClock } from '@/lib/format/units';

export function FreshnessLine({ freshness, now }: { freshness: Freshness; now: number }) {
  if (freshness.kind === 'waiting') {
    return (
      <p data-testid="freshness" data-fresh="false" className="text-sm text-slate-500">
        Waiting for the first poll…
      </p>
    );
  }
  if (freshness.kind === 'fresh') {
    return (
      <p
        data-testid="freshness"
        data-fresh="true"
        className="text-sm text-slate-600 dark:text-slate-400"
        suppressHydrationWarning
      >
        <span aria-hidden>●</span> Live · updated {formatAge(freshness.ageMs)} ago
      </p>
    );
  }
  const who =
    freshness.reason === 'dashboard-unreachable'
      ? 'the dashboard server is not answering'
      : 'no fresh answer from etcd';
  return (
    <p
      role="alert"
      data-testid="freshness"
      data-fresh="false"
      className="rounded-md bg-slate-800 px-3 py-2 text-sm font-semibold text-white"
      suppressHydrationWarning
    >
      ⊘ NO DATA
      {freshness.since !== null
        ? ` since ${formatClock(freshness.since)} (${formatAge(now - freshness.since)} ago)`
        : ''}
      : {who}. What is shown below is the last known state, not the current one.
    </p>
  );
}
