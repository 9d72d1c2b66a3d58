'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { ClusterStatus, MemberView } from '@/lib/cluster/status-types';
import { MAINTENANCE_ACTIONS, type MaintenanceAction } from '@/lib/maintenance/maintenance-types';
import { ApiRequestError } from '@/lib/query/fetch-json';
import {
  maintenanceRunsQuery,
  planMaintenance,
  startMaintenance,
  type DryRun,
  type MaintenanceBody,
  type StartedRun,
} from '@/lib/query/maintenance-queries';
import { ACTION_TEXT, mib } from './maintenance-style';
import { PlanView } from './plan-view';

interface FormState {
  action: MaintenanceAction;
  /** defragment: every member, or the ones ticked. */
  scope: 'all' | 'chosen';
  chosen: string[];
  /** compact: keep the newest N revisions, or compact to one revision. */
  compactTo: 'keep' | 'revision';
  keep: string;
  revision: string;
  target: string;
}

const INITIAL: FormState = {
  action: 'defragment',
  scope: 'all',
  chosen: [],
  compactTo: 'keep',
  keep: '',
  revision: '',
  target: '',
};

const wholeNumber = (s: string) => (/^\d{1,15}$/.test(s.trim()) ? Number(s.trim()) : null);

/** The request the form describes, or what is missing from it. */
function toBody(f: FormState): { body: MaintenanceBody } | { problem: string } {
  switch (f.action) {
    case 'defragment':
      if (f.scope === 'all') return { body: { action: 'defragment', members: 'all' } };
      if (f.chosen.length === 0) return { problem: 'Tick at least one member to defragment.' };
      return { body: { action: 'defragment', members: f.chosen } };
    case 'compact': {
      if (f.compactTo === 'keep') {
        if (f.keep.trim() === '') return { body: { action: 'compact' } };
        const keep = wholeNumber(f.keep);
        if (keep === null) return { problem: 'Revisions to keep: a whole number, 0 or more.' };
        return { body: { action: 'compact', keepRevisions: keep } };
      }
      const revision = wholeNumber(f.revision);
      if (revision === null || revision < 1) return { problem: 'Revision: a whole number, 1 or more.' };
      return { body: { action: 'compact', revision } };
    }
    case 'move-leader':
      if (!f.target) return { problem: 'Choose the member to move the leader to.' };
      return { body: { action: 'move-leader', target: f.target } };
    default:
      return { body: { action: f.action } };
  }
}

const roleOf = (m: MemberView) => (m.isLearner ? 'learner' : m.status?.isLeader ? 'leader' : 'follower');

function reclaimable(m: MemberView): string {
  if (!m.status) return 'size unknown';
  return `${mib(m.status.dbSize)}, ${mib(Math.max(0, m.status.dbSize - m.status.dbSizeInUse))} reclaimable`;
}

const INPUT =
  'mt-1 block rounded-md border border-slate-300 bg-white px-2 py-1.5 dark:border-slate-700 dark:bg-slate-900';

/**
 * Choose an action, plan it (a dry run: the ordered steps, the warnings, whether it is safe now) and start exactly
 * what was planned. Any change to the inputs sets the plan aside: it was for other inputs.
 */
export function ActionForm({
  clusterId,
  status,
  now,
  keepRevisions,
  pauseBetweenMembersMs,
  onStarted,
}: {
  clusterId: string;
  status: ClusterStatus | undefined;
  now: number;
  keepRevisions: number;
  pauseBetweenMembersMs: number;
  onStarted: (run: StartedRun) => void;
}) {
  const qc = useQueryClient();
  const [form, setForm] = useState<FormState>(INITIAL);
  const [planned, setPlanned] = useState<{ key: string; body: MaintenanceBody; plan: DryRun; at: number } | null>(null);
  const request = toBody(form);
  const key = 'body' in request ? JSON.stringify(request.body) : '';
  const current = planned && planned.key === key ? planned : null;

  const plan = useMutation({
    mutationFn: (body: MaintenanceBody) => planMaintenance(clusterId, body),
    onSuccess: (p, body) => setPlanned({ key: JSON.stringify(body), body, plan: p, at: Date.now() }),
  });
  const start = useMutation({
    mutationFn: (body: MaintenanceBody) => startMaintenance(clusterId, body),
    onSuccess: (run) => {
      setPlanned(null);
      onStarted(run);
    },
    // Refused because another run goes: the page shows that run at once, not at the next slow poll.
    onError: () => qc.invalidateQueries({ queryKey: maintenanceRunsQuery(clusterId).queryKey, exact: true }),
  });

  const update = (patch: Partial<FormState>) => {
    setForm((f) => ({ ...f, ...patch }));
    plan.reset();
    start.reset();
  };

  const members = (status?.members ?? []).filter((m): m is MemberView & { id: string } => m.id !== null);
  const canStart = current !== null && current.plan.refusal === null && current.plan.steps.length > 0;

  return (
    <section
      aria-label="Run maintenance"
      className="space-y-4 rounded-xl border border-slate-200 p-4 dark:border-slate-700"
    >
      <h2 className="text-lg font-semibold">Run maintenance</h2>
      <div className="flex flex-wrap items-end gap-3">
        <label className="text-sm">
          Action
          <select
            data-testid="maintenance-action"
            value={form.action}
            onChange={(e) => update({ action: e.target.value as MaintenanceAction })}
            className={INPUT}
          >
            {MAINTENANCE_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {ACTION_TEXT[a].label}
              </option>
            ))}
          </select>
        </label>
        <p className="min-w-0 flex-1 basis-64 text-sm text-slate-600 dark:text-slate-400">
          {ACTION_TEXT[form.action].what}
        </p>
      </div>

      {form.action === 'defragment' && (
        <fieldset className="space-y-2 text-sm">
          <legend className="sr-only">Members to defragment</legend>
          <div className="flex flex-wrap gap-x-4 gap-y-1">
            <label className="flex items-center gap-2 py-1">
              <input
                type="radio"
                name="defrag-scope"
                checked={form.scope === 'all'}
                onChange={() => update({ scope: 'all' })}
              />
              All members, one at a time
            </label>
            <label className="flex items-center gap-2 py-1">
              <input
                type="radio"
                name="defrag-scope"
                checked={form.scope === 'chosen'}
                onChange={() => update({ scope: 'chosen' })}
              />
              Chosen members
            </label>
          </div>
          {form.scope === 'chosen' && (
            <ul className="grid grid-cols-1 gap-1 sm:grid-cols-2 xl:grid-cols-3">
              {members.map((m) => (
                <li key={m.id}>
                  <label className="flex items-start gap-2 rounded-md border border-slate-200 px-2 py-1.5 dark:border-slate-700">
                    <input
                      type="checkbox"
                      className="mt-1"
                      checked={form.chosen.includes(m.id)}
                      onChange={(e) =>
                        update({
                          chosen: e.target.checked ? [...form.chosen, m.id] : form.chosen.filter((id) => id !== m.id),
                        })
                      }
                    />
                    <span className="min-w-0 [overflow-wrap:anywhere]">
                      <strong>{m.name}</strong> ({roleOf(m)}, {m.health}) · {reclaimable(m)}
                    </span>
                  </label>
                </li>
              ))}
            </ul>
          )}
        </fieldset>
      )}

      {form.action === 'compact' && (
        <fieldset className="space-y-2 text-sm">
          <legend className="sr-only">Compact to</legend>
          <div className="flex flex-wrap items-end gap-4">
            <label className="flex items-center gap-2 py-1">
              <input
                type="radio"
                name="compact-to"
                checked={form.compactTo === 'keep'}
                onChange={() => update({ compactTo: 'keep' })}
              />
              Keep the newest
            </label>
            <label className="text-sm">
              Revisions to keep
              <input
                inputMode="numeric"
                value={form.keep}
                placeholder={keepRevisions.toLocaleString('en')}
                onChange={(e) => update({ keep: e.target.value, compactTo: 'keep' })}
                className={`${INPUT} w-36`}
              />
            </label>
            <label className="flex items-center gap-2 py-1">
              <input
                type="radio"
                name="compact-to"
                checked={form.compactTo === 'revision'}
                onChange={() => update({ compactTo: 'revision' })}
              />
              Up to a revision
            </label>
            <label className="text-sm">
              Revision
              <input
                inputMode="numeric"
                value={form.revision}
                onChange={(e) => update({ revision: e.target.value, compactTo: 'revision' })}
                className={`${INPUT} w-36`}
              />
            </label>
          </div>
        </fieldset>
      )}

      {form.action === 'move-leader' && (
        <label className="block text-sm">
          New leader
          <select
            data-testid="maintenance-target"
            value={form.target}
            onChange={(e) => update({ target: e.target.value })}
            className={INPUT}
          >
            <option value="">choose a member</option>
            {members.map((m) => (
              <option key={m.id} value={m.id} disabled={m.isLearner || m.status?.isLeader === true}>
                {m.name} — {roleOf(m)}
                {m.status?.isLeader ? ' now' : ''}, {m.health}
              </option>
            ))}
          </select>
          {status?.leader && (
            <span className="mt-1 block text-slate-600 dark:text-slate-400">
              The leader now is <strong>{status.leader.name}</strong>.
            </span>
          )}
        </label>
      )}

      <div className="flex flex-wrap items-center gap-3">
        <button
          type="button"
          data-testid="maintenance-plan-button"
          disabled={!('body' in request) || plan.isPending}
          onClick={() => 'body' in request && plan.mutate(request.body)}
          className="rounded-md border border-sky-700 px-4 py-2 font-semibold text-sky-800 hover:bg-sky-50 disabled:opacity-60 dark:text-sky-300 dark:hover:bg-sky-950"
        >
          {plan.isPending ? 'Planning…' : 'Plan'}
        </button>
        {'problem' in request && <p className="text-sm text-slate-600 dark:text-slate-400">{request.problem}</p>}
        {!current && 'body' in request && !plan.isPending && (
          <p className="text-sm text-slate-600 dark:text-slate-400">
            Plan first: nothing changes until you start what the plan shows.
          </p>
        )}
      </div>

      {plan.isError && (
        <p role="alert" data-testid="plan-error" className="text-sm text-red-700 dark:text-red-400">
          {plan.error.message}
        </p>
      )}
      {current && (
        <PlanView
          plan={current.plan}
          body={current.body}
          plannedAt={current.at}
          now={now}
          pauseBetweenMembersMs={pauseBetweenMembersMs}
        />
      )}
      {/* Below the plan: it is read before it is started. */}
      {current && (
        <button
          type="button"
          data-testid="maintenance-start"
          disabled={!canStart || start.isPending}
          onClick={() => start.mutate(current.body)}
          className="rounded-md bg-sky-700 px-4 py-2 font-semibold text-white hover:bg-sky-800 disabled:opacity-60"
        >
          {start.isPending ? 'Starting…' : `Start ${ACTION_TEXT[current.plan.action].label.toLowerCase()}`}
        </button>
      )}
      {start.isError && (
        <p
          role="alert"
          data-testid="start-error"
          className="rounded-md border-2 border-red-700 bg-red-50 px-3 py-2 text-sm text-red-950 dark:bg-red-950 dark:text-red-50"
        >
          <strong>✕ Not started:</strong> {start.error.message}
          {start.error instanceof ApiRequestError && (
            <span className="ml-1 text-xs opacity-80">
              ({start.error.status} {start.error.code})
            </span>
          )}
        </p>
      )}
    </section>
  );
}
