'use client';

import type { DryRun, MaintenanceBody } from '@/lib/query/maintenance-queries';
import { formatAge, formatClock } from '@/lib/format/units';
import { mib, STEP_TEXT } from './maintenance-style';

/** Why the steps come in this order, in the words an etcd operator uses. */
function orderNote(plan: DryRun, pauseMs: number): string | null {
  const defrags = plan.steps.filter((s) => s.step === 'defragment').length;
  if (defrags === 0) return null;
  const pause = defrags > 1 ? ` and waits ${formatAge(pauseMs)} between two members` : '';
  return (
    'Order: followers first, the leader last. A member answers nothing while it defragments, and every write goes ' +
    'through the leader, so the leader is blocked once, at the end, when the others are done and caught up. Before ' +
    `each member the dashboard checks that every member answers and none lags behind${pause}.`
  );
}

/** A dry run: the ordered steps, the space each defragment should give back, the warnings and, if unsafe, why. */
export function PlanView({
  plan,
  body,
  plannedAt,
  now,
  pauseBetweenMembersMs,
}: {
  plan: DryRun;
  body: MaintenanceBody;
  plannedAt: number;
  now: number;
  pauseBetweenMembersMs: number;
}) {
  const reclaim = plan.steps.reduce((sum, s) => sum + (s.expectedReclaimBytes ?? 0), 0);
  const hasReclaim = plan.steps.some((s) => s.expectedReclaimBytes !== undefined);
  const note = orderNote(plan, pauseBetweenMembersMs);
  return (
    <div data-testid="maintenance-plan" data-refused={plan.refusal ? 'true' : 'false'} className="space-y-3">
      <h3 className="font-semibold">
        Plan: {plan.steps.length} step{plan.steps.length === 1 ? '' : 's'}
        <span className="ml-2 text-sm font-normal text-slate-500" suppressHydrationWarning>
          as of {formatClock(plannedAt)}
          {now - plannedAt > 60_000 ? ` (${formatAge(now - plannedAt)} ago: plan again before starting)` : ''}
        </span>
      </h3>
      {plan.refusal && (
        <div
          role="alert"
          data-testid="plan-refusal"
          className="rounded-md border-2 border-red-700 bg-red-50 px-3 py-2 text-sm text-red-950 dark:bg-red-950 dark:text-red-50"
        >
          <p className="font-bold">✕ Not safe to start now: {plan.refusal.message}</p>
          <p className="mt-1 text-xs opacity-80">
            The dashboard refuses ({plan.refusal.code}); fix the cause and plan again.
          </p>
        </div>
      )}
      {plan.steps.length > 0 && (
        <ol className="space-y-1 text-sm">
          {plan.steps.map((s, i) => (
            <li
              key={`${s.step}-${s.memberId ?? i}`}
              data-testid="plan-step"
              data-step={s.step}
              data-member={s.memberName ?? ''}
              className="flex flex-wrap items-baseline gap-x-2 rounded-md border border-slate-200 px-3 py-1.5 dark:border-slate-700"
            >
              <span className="w-5 shrink-0 text-right font-mono text-slate-500">{i + 1}.</span>
              <span className="font-semibold">
                {STEP_TEXT[s.step]}
                {s.memberName ? ` ${s.memberName}` : ''}
              </span>
              <span data-testid="plan-step-detail" className="text-slate-600 dark:text-slate-400">
                {s.detail}
              </span>
              {s.expectedReclaimBytes !== undefined && (
                <span className="ml-auto whitespace-nowrap">≈ {mib(s.expectedReclaimBytes)} to reclaim</span>
              )}
            </li>
          ))}
        </ol>
      )}
      {hasReclaim && (
        <p className="text-sm">
          Expected to reclaim about <strong>{mib(reclaim)}</strong> in all (each member&apos;s size minus its in-use
          size, as it last reported them).
        </p>
      )}
      {note && <p className="text-sm text-slate-600 dark:text-slate-400">{note}</p>}
      {plan.action === 'compact' && body.revision === undefined && (
        <p className="text-sm text-slate-600 dark:text-slate-400">
          The exact revision (the current one minus the revisions kept) is read from the cluster when the run starts.
        </p>
      )}
      {plan.warnings.length > 0 && (
        <ul className="space-y-1 rounded-md border border-amber-400 bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:bg-amber-950 dark:text-amber-50">
          {plan.warnings.map((w) => (
            <li key={w} data-testid="plan-warning">
              ⚠ {w}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
