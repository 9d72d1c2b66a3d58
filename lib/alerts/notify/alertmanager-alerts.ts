// Alerts in the shape Alertmanager's API v2 takes them (POST /api/v2/alerts), resolved ones with their end time.
import 'server-only';
import type { AlertNotification } from './notification-types';

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: { summary: string; description: string };
  startsAt: string;
  /** Set only once resolved: while firing Alertmanager keeps the alert for resolve_timeout after each re-send. */
  endsAt?: string;
  generatorURL?: string;
}

function isoOr(iso: string | null, fallback: number): string {
  const t = iso === null ? NaN : Date.parse(iso);
  return new Date(Number.isNaN(t) ? fallback : t).toISOString();
}

export function alertmanagerAlert(alert: AlertNotification, nowMs: number): AlertmanagerAlert {
  // Labels are the alert's identity in Alertmanager (grouping, silences, inhibition), so they hold only stable values.
  const labels: Record<string, string> = { alertname: alert.rule, severity: alert.severity, cluster: alert.clusterId };
  const member = alert.memberName ?? alert.memberId;
  if (member) labels.member = member;
  // With the name as `member`, the hex member id still identifies the process, as Prometheus' `instance` does.
  if (alert.memberName && alert.memberId) labels.instance = alert.memberId;

  const startsAt = isoOr(alert.since, nowMs);
  const out: AlertmanagerAlert = {
    labels,
    annotations: { summary: alert.summary, description: alert.advice },
    startsAt,
  };
  if (alert.state === 'resolved') {
    // Alertmanager rejects an alert that ends before it starts (400), which a skewed clock could produce.
    const endsAt = isoOr(alert.endsAt, nowMs);
    out.endsAt = endsAt < startsAt ? startsAt : endsAt;
  }
  if (alert.dashboardUrl !== null && /^https?:\/\//.test(alert.dashboardUrl) && URL.canParse(alert.dashboardUrl)) {
    out.generatorURL = alert.dashboardUrl;
  }
  return out;
}
