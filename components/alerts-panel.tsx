'use client';

import { useQuery } from '@tanstack/react-query';
import type { AlertView } from '@/lib/alerts/alert-types';
import type { DeliveryRecord } from '@/lib/alerts/notify/notification-types';
import { formatAge } from '@/lib/format/units';
import { alertDeliveriesQuery, alertsQuery } from '@/lib/query/alert-queries';
import { SEVERITY_ICON } from './health-style';

const STYLE: Record<AlertView['severity'], string> = {
  critical: 'border-red-700 bg-red-50 dark:bg-red-950',
  warning: 'border-amber-500 bg-amber-50 dark:bg-amber-950',
  info: 'border-sky-500 bg-sky-50 dark:bg-sky-950',
};

export function AlertsPanel({ clusterId, now }: { clusterId: string; now: number }) {
  const alerts = useQuery(alertsQuery(clusterId));
  const deliveries = useQuery(alertDeliveriesQuery(clusterId));
  const list = alerts.data?.alerts ?? [];
  const active = list.filter((a) => a.state !== 'resolved');
  // Each receiver as its newest attempt left it: a 4xx it will not retry (a revoked webhook) counts as much as one
  // it still retries, and a receiver that has since answered is no longer failing.
  const newest = new Map<string, DeliveryRecord>();
  for (const d of deliveries.data?.deliveries ?? []) {
    const seen = newest.get(d.receiver);
    if (!seen || d.at > seen.at) newest.set(d.receiver, d); // newest first from the API: ties keep the first
  }
  const failing = [...newest.values()].filter((d) => d.outcome !== 'ok');
  return (
    <section aria-label="Alerts" className="space-y-2">
      <h2 className="text-lg font-semibold">
        Alerts {active.length > 0 ? `(${active.filter((a) => a.state === 'firing').length} firing)` : ''}
      </h2>
      {alerts.isPending && <p className="text-sm text-slate-600 dark:text-slate-400">Loading…</p>}
      {alerts.isError && (
        <p className="text-sm font-semibold text-red-700 dark:text-red-400">✕ The alerts could not be read.</p>
      )}
      {alerts.isSuccess && active.length === 0 && (
        <p className="text-sm text-slate-600 dark:text-slate-400">No alert is firing or pending.</p>
      )}
      <ul className="space-y-2">
        {active.map((a) => (
          <li
            key={a.id}
            data-testid="alert"
            data-rule={a.rule}
            data-state={a.state}
            className={`rounded-md border-l-4 px-3 py-2 text-sm ${STYLE[a.severity]}`}
          >
            <p className="font-semibold">
              <span aria-hidden>{SEVERITY_ICON[a.severity]}</span> {a.severity.toUpperCase()} ·{' '}
              {a.state === 'pending' ? 'pending' : 'firing'} {formatAge(now - Date.parse(a.since))} · {a.summary}
            </p>
            <p className="mt-0.5 text-slate-700 dark:text-slate-300">
              {a.advice}{' '}
              <a className="underline" href={`/runbooks#${a.alertname}`}>
                Runbook
              </a>
            </p>
          </li>
        ))}
      </ul>
      {failing.length > 0 && (
        <p
          role="alert"
          data-testid="delivery-failures"
          className="text-sm font-semibold text-red-700 dark:text-red-400"
        >
          ✕ {failing.length} notification deliver{failing.length === 1 ? 'y' : 'ies'} failing:{' '}
          {failing
            .slice(0, 3)
            .map((d) => `${d.receiver}: ${d.reason ?? d.outcome}`)
            .join('; ')}
        </p>
      )}
    </section>
  );
}
