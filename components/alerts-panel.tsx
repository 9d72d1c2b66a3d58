'use client';

import { useQuery } from '@tanstack/react-query';
import { groupAlerts, RULE_TITLES, type AlertGroup } from '@/lib/alerts/alert-groups';
import type { AlertView } from '@/lib/alerts/alert-types';
import type { RuleName } from '@/lib/cluster/thresholds';
import type { DeliveryRecord } from '@/lib/alerts/notify/notification-types';
import { formatAge } from '@/lib/format/units';
import { alertDeliveriesQuery, alertsQuery } from '@/lib/query/alert-queries';
import { SEVERITY_ICON } from './health-style';

const STYLE: Record<AlertView['severity'], string> = {
  critical: 'border-red-700 bg-red-50 dark:bg-red-950',
  warning: 'border-amber-500 bg-amber-50 dark:bg-amber-950',
  info: 'border-sky-500 bg-sky-50 dark:bg-sky-950',
};

/** How many firing groups show in full on the overview's first screen; the rest fold under "N more". */
const SHOWN_FIRST = 2;

function GroupRow({ group, now, quiet = false }: { group: AlertGroup; now: number; quiet?: boolean }) {
  const many = group.alerts.length > 1;
  return (
    <li
      data-testid="alert"
      data-rule={group.rule}
      data-state={group.state}
      data-count={group.alerts.length}
      className={
        quiet
          ? 'rounded-md border-l-4 border-slate-300 px-3 py-1 text-sm text-slate-700 dark:border-slate-600 dark:text-slate-300'
          : `rounded-md border-l-4 px-3 py-2 text-sm ${STYLE[group.severity]}`
      }
    >
      <p className={quiet ? '' : 'font-semibold'}>
        <span aria-hidden>{SEVERITY_ICON[group.severity]}</span> {group.severity.toUpperCase()} ·{' '}
        {group.state === 'pending' ? 'pending' : 'firing'} {formatAge(now - Date.parse(group.since))} · {group.headline}
      </p>
      {many && (
        <details className="mt-0.5">
          <summary className="cursor-pointer text-slate-700 dark:text-slate-300">all {group.alerts.length}</summary>
          <ul className="ml-4 list-disc">
            {group.alerts.map((a) => (
              <li key={a.id}>{a.summary}</li>
            ))}
          </ul>
        </details>
      )}
      {!quiet && (
        <p className="mt-0.5 text-slate-700 dark:text-slate-300">
          {group.advice}{' '}
          <a className="underline" href={`/runbooks#${group.alertname}`}>
            Runbook
          </a>
        </p>
      )}
    </li>
  );
}

export function AlertsPanel({ clusterId, now }: { clusterId: string; now: number }) {
  const alerts = useQuery(alertsQuery(clusterId));
  const deliveries = useQuery(alertDeliveriesQuery(clusterId));
  const list = alerts.data?.alerts ?? [];
  const active = list.filter((a) => a.state !== 'resolved');
  const groups = groupAlerts(active);
  const firing = groups.filter((g) => g.state === 'firing');
  const pending = groups.filter((g) => g.state === 'pending');
  const [first, rest] = [firing.slice(0, SHOWN_FIRST), firing.slice(SHOWN_FIRST)];
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
        {first.map((g) => (
          <GroupRow key={g.key} group={g} now={now} />
        ))}
      </ul>
      {rest.length > 0 && (
        <details data-testid="more-alerts">
          <summary className="cursor-pointer text-sm font-semibold">
            {rest.length} more firing: {rest.map((g) => RULE_TITLES[g.rule as RuleName] ?? g.rule).join(', ')}
          </summary>
          <ul className="mt-2 space-y-2">
            {rest.map((g) => (
              <GroupRow key={g.key} group={g} now={now} />
            ))}
          </ul>
        </details>
      )}
      {pending.length > 0 && (
        <details data-testid="pending-alerts" className="text-sm text-slate-600 dark:text-slate-400">
          <summary className="cursor-pointer">
            {pending.length} pending, not firing yet:{' '}
            {pending.map((g) => RULE_TITLES[g.rule as RuleName] ?? g.rule).join(', ')}
          </summary>
          <ul className="mt-1 space-y-1">
            {pending.map((g) => (
              <GroupRow key={g.key} group={g} now={now} quiet />
            ))}
          </ul>
        </details>
      )}
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
