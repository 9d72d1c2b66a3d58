'use client';

import Link from 'next/link';
import type { ClusterStatus } from '@/lib/cluster/status-types';
import { formatAge } from '@/lib/format/units';

const DAY_MS = 86_400_000;

/** "Last verified snapshot 3 h ago": the first thing to know before a risky change. */
export function SnapshotFreshness({ status, now }: { status: ClusterStatus; now: number }) {
  const s = status.lastVerifiedSnapshot;
  const href = `/snapshots?cluster=${encodeURIComponent(status.clusterId)}`;
  if (!s) {
    return (
      <p
        data-testid="snapshot-freshness"
        data-state="none"
        className="text-sm font-semibold text-amber-800 dark:text-amber-300"
      >
        ⚠ No verified snapshot of this cluster.{' '}
        <Link href={href} className="underline">
          Take one
        </Link>{' '}
        before any risky change.
      </p>
    );
  }
  const age = now - Date.parse(s.finishedAt);
  const old = age > DAY_MS;
  return (
    <p
      data-testid="snapshot-freshness"
      data-state={old ? 'old' : 'fresh'}
      className={`text-sm ${old ? 'font-semibold text-amber-800 dark:text-amber-300' : 'text-slate-600 dark:text-slate-400'}`}
      suppressHydrationWarning
    >
      {old ? '⚠ ' : ''}Last verified snapshot {formatAge(age)} ago
      {s.offsite ? ', copied off-site' : ', not copied off-site'}.{' '}
      <Link href={href} className="underline">
        Snapshots
      </Link>
    </p>
  );
}
