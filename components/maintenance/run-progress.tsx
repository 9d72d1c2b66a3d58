'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { MemberView } from '@/lib/cluster/status-types';
import type { RunStep } from '@/lib/maintenance/maintenance-types';
import { formatClock } from '@/lib/format/units';
import { cancelMaintenance, maintenanceRunQuery, maintenanceRunsQuery } from '@/lib/query/maintenance-queries';
import { ACTION_TEXT, duration, mib, RUN_STATE_STYLE, STEP_STATE_STYLE, STEP_TEXT } from './maintenance-style';

/** Before → after of one step, in the unit that step changes. */
function Figures({ step, names }: { step: RunStep; names: Map<string, string> }) {
  const b = step.before;
  const a = step.after;
  if (step.step === 'defragment') {
    const expected = step.expectedReclaimBytes !== undefined ? `expected ≈ ${mib(step.expectedReclaimBytes)}` : null;
    if (b?.dbSize === undefined) return expected ? <span>{expected}</span> : null;
    return (
      <span data-testid="run-step-sizes">
        DB {mib(b.dbSize)}
        {b.dbSizeInUse !== undefined && ` (${mib(b.dbSizeInUse)} in use)`}
        {a?.dbSize !== undefined ? (
          <>
            {' '}
            → <strong>{mib(a.dbSize)}</strong>, reclaimed {mib(Math.max(0, b.dbSize - a.dbSize))}
          </>
        ) : (
          ' → …'
        )}
        {expected && <span className="text-slate-500"> ({expected})</span>}
      </span>
    );
  }
  if (step.step === 'compact') {
    if (!b && !a) return null;
    return (
      <span>
        {b?.revision !== undefined && `revision ${b.revision.toLocaleString('en')}`}
        {a?.compactRevision !== undefined && ` → compacted up to ${a.compactRevision.toLocaleString('en')}`}
      </span>
    );
  }
  if (step.step === 'move-leader' && b?.leader) {
    const name = (id: string | null | undefined) => (id ? (names.get(id) ?? id) : '?');
    return (
      <span>
        leader {name(b.leader)}
        {a?.leader !== undefined && (
          <>
            {' '}
            → <strong>{name(a.leader)}</strong>
          </>
        )}
      </span>
    );
  }
  return null;
}

/** One run as it goes: the state of every step, sizes before and after, errors; Cancel while it runs. */
export function RunProgress({
  clusterId,
  runId,
  canAct,
  members,
  now,
}: {
  clusterId: string;
  runId: string;
  canAct: boolean;
  members: MemberView[];
  now: number;
}) {
  const qc = useQueryClient();
  const q = useQuery(maintenanceRunQuery(clusterId, runId));
  const cancel = useMutation({
    mutationFn: () => cancelMaintenance(clusterId, runId),
    onSettled: () => qc.invalidateQueries({ queryKey: maintenanceRunsQuery(clusterId).queryKey }),
  });
  const run = q.data;
  if (!run) {
    return (
      <section aria-label="Maintenance run" className="text-sm text-slate-500">
        {q.isError ? `Run ${runId}: ${q.error.message}` : `Loading run ${runId}…`}
      </section>
    );
  }
  const names = new Map(members.flatMap((m) => (m.id ? [[m.id, m.name] as const] : [])));
  const style = RUN_STATE_STYLE[run.state];
  const running = run.state === 'running';
  const done = run.steps.filter((s) => s.state === 'succeeded').length;

  return (
    <section
      aria-label="Maintenance run"
      data-testid="maintenance-run"
      data-run-id={run.id}
      data-state={run.state}
      className="space-y-3 rounded-xl border border-slate-200 p-4 dark:border-slate-700"
    >
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 className="text-lg font-semibold">
          {ACTION_TEXT[run.action].label}{' '}
          <span
            data-testid="run-state"
            className={`ml-1 rounded px-2 py-0.5 align-middle text-sm font-semibold ${style.className}`}
          >
            <span aria-hidden>{style.icon}</span> {style.word}
          </span>
        </h2>
        <p className="text-sm text-slate-600 dark:text-slate-400" suppressHydrationWarning>
          by {run.by}
          {run.trigger === 'schedule' ? ' (schedule)' : ''} · started {formatClock(run.startedAt)} ·{' '}
          {duration(run.startedAt, run.finishedAt, now)} · {done} of {run.steps.length} steps done
        </p>
      </div>

      {running && canAct && (
        <div className="flex flex-wrap items-center gap-3 rounded-md bg-slate-50 px-3 py-2 text-sm dark:bg-slate-900">
          <button
            type="button"
            data-testid="maintenance-cancel"
            disabled={run.cancelRequested || cancel.isPending}
            onClick={() => cancel.mutate()}
            className="rounded-md border border-red-700 px-3 py-1.5 font-semibold text-red-800 hover:bg-red-50 disabled:opacity-60 dark:text-red-300 dark:hover:bg-red-950"
          >
            {run.cancelRequested ? 'Cancel requested' : cancel.isPending ? 'Canceling…' : 'Cancel'}
          </button>
          <p className="min-w-0 flex-1 basis-64">
            {run.cancelRequested
              ? 'The run stops before its next step; the step in progress finishes first.'
              : 'Cancel stops the run between steps, never in the middle of one: a member being defragmented finishes its defragment (etcd cannot stop it safely), then no further member is touched.'}
          </p>
        </div>
      )}
      {cancel.isError && (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          {cancel.error.message}
        </p>
      )}

      <ol className="space-y-2">
        {run.steps.map((s, i) => {
          const st = STEP_STATE_STYLE[s.state];
          return (
            <li
              key={`${s.step}-${s.memberId ?? ''}-${i}`}
              data-testid="run-step"
              data-state={s.state}
              data-step={s.step}
              data-member={s.memberName ?? ''}
              className={`rounded-md border px-3 py-2 text-sm ${
                s.state === 'running'
                  ? 'border-sky-500 dark:border-sky-400'
                  : s.state === 'failed'
                    ? 'border-red-600'
                    : 'border-slate-200 dark:border-slate-700'
              }`}
            >
              <div className="flex flex-wrap items-baseline gap-x-2 gap-y-1">
                <span className="w-5 shrink-0 text-right font-mono text-slate-500">{i + 1}.</span>
                <span className="font-semibold">
                  {STEP_TEXT[s.step]}
                  {s.memberName ? ` ${s.memberName}` : ''}
                </span>
                <span className="text-slate-600 dark:text-slate-400">{s.detail}</span>
                <span
                  data-testid="run-step-state"
                  className={`ml-auto rounded px-2 py-0.5 text-xs font-semibold whitespace-nowrap ${st.className}`}
                >
                  <span aria-hidden>{st.icon}</span> {st.word}
                  {s.startedAt && ` · ${duration(s.startedAt, s.finishedAt, now)}`}
                </span>
              </div>
              <div className="mt-1 pl-7 [overflow-wrap:anywhere]">
                <Figures step={s} names={names} />
              </div>
              {s.error && (
                <p
                  data-testid="run-step-error"
                  className="mt-1 pl-7 [overflow-wrap:anywhere] text-red-800 dark:text-red-300"
                >
                  {s.error}
                </p>
              )}
            </li>
          );
        })}
      </ol>

      {!running && (
        <p
          data-testid="run-outcome"
          className={`rounded-md px-3 py-2 text-sm font-semibold ${style.className}`}
          suppressHydrationWarning
        >
          <span aria-hidden>{style.icon}</span>{' '}
          {run.state === 'succeeded'
            ? `Succeeded in ${duration(run.startedAt, run.finishedAt, now)}.`
            : `${style.word[0]?.toUpperCase()}${style.word.slice(1)}: ${run.reason ?? 'no reason recorded'}`}
        </p>
      )}
    </section>
  );
}
