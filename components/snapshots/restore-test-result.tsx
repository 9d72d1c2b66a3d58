// A snapshot's restore test as the snapshot page shows it: a badge and its reason in the list, the full result in
// the details.
'use client';

import { formatAge } from '@/lib/format/units';
import type { RestoreTest, RestoreTestState, SnapshotRecord } from '@/lib/snapshots/snapshot-types';
import { formatDuration } from './duration';

/** What a row shows: a test's state, or "none" for a kept, verified snapshot no test has tried yet. */
export type RestoreTestShown = RestoreTestState | 'none';

const BADGE: Record<RestoreTestShown, { word: string; style: string }> = {
  passed: {
    word: 'restore-tested ✓',
    style: 'bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100',
  },
  failed: { word: 'restore test failed', style: 'bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100' },
  skipped: { word: 'not restore-tested', style: 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300' },
  none: { word: 'not restore-tested', style: 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300' },
  queued: { word: 'restore test queued', style: 'bg-sky-50 text-sky-900 dark:bg-sky-950 dark:text-sky-100' },
  running: { word: 'restore testing…', style: 'bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100' },
  interrupted: { word: 'interrupted', style: 'bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100' },
};

/** Whether the snapshot's file is kept and verified: what a restore test needs. */
export function restoreTestable(s: SnapshotRecord): boolean {
  return s.status === 'succeeded' && s.verified && !s.deletedAt && !s.missing;
}

/** The row's state; null when there is nothing to say (a failed or running snapshot no test touched). */
export function restoreTestShown(s: SnapshotRecord): RestoreTestShown | null {
  if (s.restoreTest) return s.restoreTest.state;
  return restoreTestable(s) ? 'none' : null;
}

// A skipped test's reason starts with the badge's own words.
const withoutPrefix = (reason: string) => reason.replace(/^not restore-tested:\s*/, '');

function hashKvWords(t: RestoreTest): string {
  if (t.hashKvEqual === true) return 'HashKV equal';
  if (t.hashKvEqual === false) return 'HashKV differs';
  return 'HashKV not compared';
}

/** The one-line account of a test, for the badge's tooltip. */
function summary(t: RestoreTest): string {
  const etcd = t.etcdVersion ? `etcd ${t.etcdVersion}` : 'no etcd';
  const took = t.durationMs !== null ? `, ${formatDuration(t.durationMs)}` : '';
  const from = t.source === 's3' ? ' from the off-site copy' : '';
  const when = ` (tested ${t.testedAt})`;
  switch (t.state) {
    case 'passed':
      return `restored${from} with ${etcd} and matched at revision ${t.revision}, ${t.totalKeys} keys, ${hashKvWords(t)}${took}${when}`;
    case 'failed':
      return `restore${from} with ${etcd} failed${took}: ${t.reason ?? 'no reason given'}${when}`;
    case 'running':
      return `being restored${from} with ${etcd} since ${t.testedAt}`;
    case 'queued':
      return `waiting for the restore test before it to end${from ? ` (to be restored${from})` : ''}`;
    default:
      return `${t.reason ?? t.state}${when}`;
  }
}

/** The line under the badge: why it failed, was skipped or interrupted, or what a passed test could not compare. */
function visibleReason(t: RestoreTest): string | null {
  if (!t.reason) return null;
  if (t.state === 'skipped') return withoutPrefix(t.reason);
  if (t.state === 'passed') return t.hashKvEqual === null ? t.reason : null;
  return t.reason;
}

export function RestoreTestBadge({ snapshot }: { snapshot: SnapshotRecord }) {
  const shown = restoreTestShown(snapshot);
  if (shown === null) return <span className="text-slate-400">—</span>;
  const t = snapshot.restoreTest;
  const reason = t ? visibleReason(t) : null;
  return (
    <>
      <span
        data-testid="restore-test-badge"
        title={t ? summary(t) : 'no restore test has tried this snapshot yet'}
        className={`whitespace-nowrap rounded px-1.5 py-0.5 text-xs font-semibold ${BADGE[shown].style}`}
      >
        {BADGE[shown].word}
      </span>
      {reason && (
        <p
          data-testid="restore-test-reason"
          className={`mt-1 max-w-xs break-words text-xs ${shown === 'failed' ? 'text-red-700 dark:text-red-400' : 'text-slate-600 dark:text-slate-400'}`}
        >
          {shown === 'passed' ? `note: ${reason}` : reason}
        </p>
      )}
    </>
  );
}

/** The whole result, for the snapshot's details. */
export function RestoreTestDetails({ snapshot, now }: { snapshot: SnapshotRecord; now: number }) {
  const t = snapshot.restoreTest;
  const shown = restoreTestShown(snapshot);
  return (
    <div data-testid="restore-test-details" data-state={shown ?? 'none'}>
      <h3 className="font-semibold">Restore test</h3>
      {!t ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">
          {shown === 'none'
            ? 'Not restore-tested yet: restoring it into a throwaway etcd proves it can be restored.'
            : 'Not restore-tested: there is no verified file to restore.'}
        </p>
      ) : (
        <dl className="mt-1 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
          <dt className="text-slate-500">Result</dt>
          <dd>
            <span className={`rounded px-1.5 py-0.5 text-xs font-semibold ${BADGE[t.state].style}`}>
              {BADGE[t.state].word}
            </span>
          </dd>
          <dt className="text-slate-500">Tested</dt>
          <dd title={t.testedAt} suppressHydrationWarning>
            {formatAge(now - Date.parse(t.testedAt))} ago
            {t.durationMs !== null && `, took ${formatDuration(t.durationMs)}`}
          </dd>
          <dt className="text-slate-500">Restored with</dt>
          <dd>
            {t.etcdVersion ? `etcd ${t.etcdVersion}` : 'no etcd of the cluster’s version'}
            {t.source === 's3' ? ', from the off-site copy' : ', from the file on the dashboard’s disk'}
          </dd>
          <dt className="text-slate-500">Revision</dt>
          <dd>
            {t.revision ?? '—'}
            {snapshot.revision !== null && ` (the snapshot says ${snapshot.revision})`}
          </dd>
          <dt className="text-slate-500">Live keys</dt>
          <dd>{t.totalKeys?.toLocaleString('en') ?? '—'}</dd>
          <dt className="text-slate-500">HashKV</dt>
          <dd>
            {t.hashKvEqual === true
              ? 'equal to the source cluster’s at that revision'
              : t.hashKvEqual === false
                ? 'differs from the source cluster’s at that revision'
                : 'not compared'}
          </dd>
          {t.reason && (
            <>
              <dt className="text-slate-500">{t.state === 'passed' ? 'Note' : 'Reason'}</dt>
              <dd
                data-testid="restore-test-details-reason"
                className={t.state === 'failed' ? 'text-red-700 dark:text-red-400' : ''}
              >
                {t.state === 'skipped' ? withoutPrefix(t.reason) : t.reason}
              </dd>
            </>
          )}
        </dl>
      )}
    </div>
  );
}
