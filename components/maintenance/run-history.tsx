'use client';

import type { MaintenanceRun } from '@/lib/maintenance/maintenance-types';
import { formatAge } from '@/lib/format/units';
import { ACTION_TEXT, duration, RUN_STATE_STYLE } from './maintenance-style';

/** Who ran what, when, how it ended and why: newest first. */
export function RunHistory({
  runs,
  loaded,
  selected,
  onSelect,
  now,
}: {
  runs: MaintenanceRun[];
  loaded: boolean;
  selected: string | null;
  onSelect: (id: string) => void;
  now: number;
}) {
  const reason = (r: MaintenanceRun) =>
    r.reason ?? (r.cancelRequested && r.state === 'running' ? 'cancel requested' : null);
  return (
    <section aria-label="Maintenance history" className="overflow-x-auto">
      <h2 className="mb-2 text-lg font-semibold">History</h2>
      {/* A table on a wide screen; on a phone each run is one wrapped block, its cells labelled in words. */}
      <table className="block w-full text-left text-sm sm:table sm:[&_td]:pr-3 [&_th]:pr-3">
        <thead className="hidden sm:table-header-group">
          <tr className="border-b border-slate-300 dark:border-slate-700">
            <th className="py-1">State</th>
            <th>Action</th>
            <th>Who</th>
            <th>When</th>
            <th>Took</th>
            <th>Reason</th>
            <th />
          </tr>
        </thead>
        <tbody className="block sm:table-row-group">
          {runs.map((r) => {
            const st = RUN_STATE_STYLE[r.state];
            return (
              <tr
                key={r.id}
                data-testid="maintenance-run-row"
                data-run-id={r.id}
                data-state={r.state}
                data-action={r.action}
                className={`flex flex-wrap items-baseline gap-x-3 gap-y-1 border-b border-slate-200 py-2 align-top sm:table-row sm:py-0 dark:border-slate-800 ${selected === r.id ? 'bg-sky-50 dark:bg-sky-950' : ''}`}
              >
                <td className="sm:py-1">
                  <span className={`rounded px-1.5 py-0.5 text-xs font-semibold whitespace-nowrap ${st.className}`}>
                    <span aria-hidden>{st.icon}</span> {st.word}
                  </span>
                </td>
                <td className="font-semibold whitespace-nowrap sm:font-normal">{ACTION_TEXT[r.action].label}</td>
                <td className="[overflow-wrap:anywhere]">
                  <span className="sm:hidden">by </span>
                  {r.trigger === 'schedule' ? 'schedule' : r.by}
                </td>
                <td title={r.startedAt} className="whitespace-nowrap" suppressHydrationWarning>
                  {formatAge(now - Date.parse(r.startedAt))} ago
                </td>
                <td className="whitespace-nowrap" suppressHydrationWarning>
                  <span className="sm:hidden">took </span>
                  {duration(r.startedAt, r.finishedAt, now)}
                </td>
                <td
                  className={`order-last basis-full [overflow-wrap:anywhere] sm:order-none text-slate-700 sm:max-w-md dark:text-slate-300 ${reason(r) ? '' : 'hidden sm:table-cell'}`}
                >
                  {reason(r) ?? '—'}
                </td>
                <td>
                  <button
                    type="button"
                    className="text-sky-700 underline dark:text-sky-400"
                    onClick={() => onSelect(r.id)}
                  >
                    steps
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {loaded && runs.length === 0 && <p className="mt-2 text-sm text-slate-500">No maintenance run yet.</p>}
    </section>
  );
}
