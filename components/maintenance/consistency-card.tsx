'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { formatAge } from '@/lib/format/units';
import { clusterStatusQuery } from '@/lib/query/cluster-queries';
import { checkConsistencyNow, consistencyQuery } from '@/lib/query/maintenance-queries';
import { useNow } from '../use-now';
import {
  estimateInterval,
  judgeConsistency,
  STALE_AFTER_INTERVALS,
  type ConsistencyVerdict,
} from './consistency-verdict';

const STYLE: Record<ConsistencyVerdict['kind'], string> = {
  agree:
    'border-emerald-300 bg-emerald-50 text-emerald-950 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-50',
  differs: 'border-2 border-red-700 bg-red-50 text-red-950 dark:bg-red-950 dark:text-red-50',
  stale: 'border-amber-400 bg-amber-50 text-amber-950 dark:bg-amber-950 dark:text-amber-50',
  unknown: 'border-slate-300 bg-slate-50 text-slate-800 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-200',
  off: 'border-slate-300 bg-slate-50 text-slate-800 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-200',
};

const rev = (r: number | null) => (r === null ? 'an unknown revision' : `revision ${r.toLocaleString('en')}`);

/**
 * Do the members hold the same data? The newest HashKV comparison in one line: green only while it is recent,
 * red with what to do when a member differs. `intervalMs` is the configured check interval where the page knows it;
 * otherwise it is read from the checks' own history.
 */
export function ConsistencyCard({
  clusterId,
  intervalMs,
  canCheck = false,
}: {
  clusterId: string;
  intervalMs?: number;
  canCheck?: boolean;
}) {
  const qc = useQueryClient();
  const now = useNow(5000);
  const report = useQuery(consistencyQuery(clusterId));
  const status = useQuery(clusterStatusQuery(clusterId));
  const checkNow = useMutation({
    mutationFn: async () => {
      const before = qc.getQueryData(consistencyQuery(clusterId).queryKey)?.checkedAt ?? null;
      const after = await checkConsistencyNow(clusterId);
      return { compared: after.checkedAt !== null && after.checkedAt !== before };
    },
    // The answer carries one past check only: the full report (its history dates the interval) is read again.
    onSuccess: () => qc.invalidateQueries({ queryKey: consistencyQuery(clusterId).queryKey }),
  });

  // The server's clock, as the last status answer showed it: a wrong browser clock cannot make a check look new.
  const offset = status.data && status.dataUpdatedAt > 0 ? Date.parse(status.data.servedAt) - status.dataUpdatedAt : 0;
  const r = report.data;
  const interval = intervalMs ?? estimateInterval(r?.history ?? []);
  const verdict: ConsistencyVerdict | null = r
    ? judgeConsistency(r, now + (Number.isNaN(offset) ? 0 : offset), interval)
    : null;
  const members = status.data?.members ?? [];

  let body;
  if (!verdict) {
    body = report.isError ? (
      <p>? Consistency not known: the dashboard is not answering ({report.error.message}).</p>
    ) : (
      <p className="opacity-70">Consistency: loading…</p>
    );
  } else if (verdict.kind === 'agree') {
    body = (
      <p>
        <span aria-hidden>✓ </span>
        <strong>Members agree</strong> at {rev(verdict.revision)} · checked {formatAge(verdict.ageMs)} ago
        {verdict.note && <span className="opacity-80"> · {verdict.note}</span>}
      </p>
    );
  } else if (verdict.kind === 'differs') {
    const suspect = verdict.suspect ? members.find((m) => m.name === verdict.suspect) : undefined;
    body = (
      <>
        <p className="font-bold">
          <span aria-hidden>✖ </span>
          {verdict.suspect
            ? `${verdict.suspect} differs from the majority at ${rev(verdict.revision)} — stop it, remove it, re-add it from a healthy member`
            : `The members' data differs at ${rev(verdict.revision)} and no majority agrees — stop writes and restore from a verified snapshot`}
        </p>
        <p className="mt-1">
          {verdict.suspect
            ? 'Every read it serves may be wrong. Stop its etcd, '
            : 'Which member is right cannot be told from the hashes. '}
          {suspect && (
            <>
              <code className="[overflow-wrap:anywhere]">etcdctl member remove {suspect.id ?? '<id>'}</code>, wipe its
              data directory,{' '}
              <code className="[overflow-wrap:anywhere]">
                etcdctl member add {suspect.name} --peer-urls={suspect.peerURLs.join(',') || '<peer URL>'}
              </code>{' '}
              and start it with <code>--initial-cluster-state existing</code> so it copies the data from the
              leader.{' '}
            </>
          )}
          Checked {formatAge(verdict.ageMs)} ago{verdict.stale ? ' (no newer check since)' : ''}.
          {verdict.note && <> {verdict.note}.</>}
        </p>
      </>
    );
  } else if (verdict.kind === 'stale') {
    body = (
      <p>
        <span aria-hidden>⚠ </span>
        <strong>No recent consistency check:</strong> the last one, {formatAge(verdict.ageMs)} ago, found the members
        agreeing at {rev(verdict.revision)}; checks should run every {formatAge(interval)} and one older than{' '}
        {STALE_AFTER_INTERVALS} intervals proves nothing about now.
      </p>
    );
  } else if (verdict.kind === 'unknown') {
    body = (
      <p>
        <span aria-hidden>? </span>
        {verdict.ageMs === null ? (
          <>
            <strong>Members not compared yet</strong>: the dashboard compares them (HashKV at one revision) every{' '}
            {formatAge(interval)}.
          </>
        ) : (
          <>
            <strong>Consistency not known</strong>: {verdict.note ?? 'the last check could not compare the members'} ·
            checked {formatAge(verdict.ageMs)} ago
          </>
        )}
      </p>
    );
  } else {
    body = (
      <p>
        Consistency checks are off for this cluster (<code>maintenance.consistencyCheckMinutes: 0</code>).
      </p>
    );
  }

  return (
    <section
      aria-label="Consistency"
      role={verdict?.kind === 'differs' ? 'alert' : undefined}
      data-testid="consistency-card"
      data-verdict={verdict?.kind ?? 'loading'}
      className={`rounded-lg border px-3 py-2 text-sm ${STYLE[verdict?.kind ?? 'unknown']}`}
      suppressHydrationWarning
    >
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0 flex-1">{body}</div>
        {canCheck && (
          <button
            type="button"
            data-testid="consistency-check-now"
            disabled={checkNow.isPending}
            onClick={() => checkNow.mutate()}
            className="shrink-0 rounded-md border border-current px-2 py-0.5 text-xs font-semibold disabled:opacity-60"
          >
            {checkNow.isPending ? 'Comparing…' : 'Check now'}
          </button>
        )}
      </div>
      {checkNow.data && !checkNow.data.compared && (
        <p className="mt-1 text-xs">
          Not compared now: a maintenance run or another check is in progress. The next scheduled check will.
        </p>
      )}
      {checkNow.isError && (
        <p role="alert" className="mt-1 text-xs text-red-700 dark:text-red-400">
          {checkNow.error.message}
        </p>
      )}
    </section>
  );
}
