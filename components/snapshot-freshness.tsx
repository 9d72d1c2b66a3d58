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
      {s.offsite ? ', copied off-site' : ', not copied off-site'}; <RestoreTested status={status} now={now} />.{' '}
      <Link href={href} className="underline">
        Snapshots
      </Link>
    </p>
  );
}

/**
 * "last restore-tested snapshot 3 h ago": the newest snapshot proven restorable, by its age as the alert rule and
 * /metrics judge it; said in red when the newest snapshot failed its test.
 */
function RestoreTested({ status, now }: { status: ClusterStatus; now: number }) {
  const newest = status.lastVerifiedSnapshot?.restoreTest ?? null;
  const tested = status.lastRestoreTestedSnapshot ?? null;
  const testedAge = tested ? now - Date.parse(tested.finishedAt) : null;
  const last =
    tested && testedAge !== null ? (
      <span
        title={`snapshot ${tested.id}, finished ${tested.finishedAt}, restore test passed at ${tested.testedAt}`}
        suppressHydrationWarning
      >
        last restore-tested snapshot {formatAge(testedAge)} ago
      </span>
    ) : (
      'no snapshot restore-tested yet'
    );
  if (newest?.state === 'failed') {
    return (
      <span
        data-testid="restore-test-freshness"
        data-state="failed"
        className="font-semibold text-red-700 dark:text-red-400"
      >
        ✕ the newest snapshot failed its restore test{newest.reason ? ` (${newest.reason})` : ''}; {last}
      </span>
    );
  }
  const state = tested ? (testedAge !== null && testedAge > DAY_MS ? 'old' : 'passed') : (newest?.state ?? 'none');
  // Why the newest is not (yet) the one proven restorable; its skip reason reads "not restore-tested: …".
  const note =
    newest?.state === 'running' || newest?.state === 'queued'
      ? ' (the newest is being tested)'
      : newest?.state === 'skipped'
        ? ` (newest ${newest.reason ?? 'not restore-tested'})`
        : newest?.state === 'interrupted'
          ? ' (the newest’s test was interrupted)'
          : '';
  return (
    <span
      data-testid="restore-test-freshness"
      data-state={state}
      className={state === 'old' ? 'font-semibold text-amber-800 dark:text-amber-300' : undefined}
    >
      {state === 'old' ? '⚠ ' : ''}
      {last}
      {note}
    </span>
  );
}
