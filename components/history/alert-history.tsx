'use client';

import { useQuery } from '@tanstack/react-query';
import { formatAge, formatDateTime } from '@/lib/format/units';
import type { HistoryWindow } from '@/lib/history/history-params';
import { alertHistoryQuery } from '@/lib/query/history-queries';
import { SEVERITY_ICON } from '../health-style';

const when = (iso: string) => formatDateTime(iso);

/** Every alert that fired in the window (or was firing then): what went wrong, when, and for how long. */
export function AlertHistory({ win, now }: { win: HistoryWindow; now: number }) {
  const { data, isPending, isError } = useQuery(alertHistoryQuery(win));
  const alerts = data?.alerts ?? [];
  return (
    <section aria-label="Alert history" className="space-y-2">
      <h2 className="text-lg font-semibold">Alerts in this range {data ? `(${alerts.length})` : ''}</h2>
      {isPending && <p className="text-sm text-slate-600 dark:text-slate-400">Loading…</p>}
      {isError && <p className="text-sm text-red-700 dark:text-red-400">✕ The alert history could not be read.</p>}
      {data && alerts.length === 0 && (
        <p className="text-sm text-slate-600 dark:text-slate-400">No alert fired in this range.</p>
      )}
      <ul className="divide-y divide-slate-200 text-sm dark:divide-slate-800">
        {alerts.map((a) => {
          const firedAt = a.firedAt ?? a.since;
          const ended = a.resolvedAt ? Date.parse(a.resolvedAt) : now;
          return (
            <li key={a.id} data-testid="alert-history-item" data-rule={a.rule} data-state={a.state} className="py-1.5">
              <span aria-hidden>{SEVERITY_ICON[a.severity]} </span>
              <span className="font-semibold">{a.severity.toUpperCase()}</span> · {a.summary}
              <span className="block text-xs text-slate-600 dark:text-slate-400">
                fired {when(firedAt)} ·{' '}
                {a.resolvedAt
                  ? `resolved ${when(a.resolvedAt)} after ${formatAge(ended - Date.parse(firedAt))}`
                  : `still firing (${formatAge(ended - Date.parse(firedAt))})`}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
