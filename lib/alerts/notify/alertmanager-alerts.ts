// Alerts in the shape Alertmanager's API v2 takes them (POST /api/v2/alerts), resolved ones with their end time.
import 'server-only';
import type { AlertNotification } from './notification-types';

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook_url?: string };
  startsAt: string;
  /** Set only once resolved: while firing Alertmanager keeps the alert for resolve_timeout after each re-send. */
  endsAt?: string;
  generatorURL?: string;
}

function isoOr(iso: string | null, fallback: number): string {
  const t = iso === null ? NaN : Date.parse(iso);
  return new Date(Number.isNaN(t) ? fallback : t).toISOString();
}

const httpUrl = (url: string | null): url is string => url !== null && /^https?:\/\//.test(url) && URL.canParse(url);

/**
 * Labels are the alert's identity in Alertmanager (grouping, silences, inhibition), so they hold only stable values,
 * named as the etcd project's rules and Prometheus name them: `alertname` etcd-style with a prefix of its own, the
 * member's host:port as `instance` (as on the etcd rules' alerts, so one silence or inhibition covers both), its hex id
 * as `member_id`, and the etcd cluster as `etcd_cluster` (`cluster` is usually a shared Prometheus' own label).
 */
export function alertmanagerLabels(alert: AlertNotification): Record<string, string> {
  const labels: Record<string, string> = {
    alertname: alert.alertname,
    rule: alert.rule,
    severity: alert.severity,
    etcd_cluster: alert.clusterId,
  };
  const member = alert.memberName ?? alert.memberId;
  if (member) labels.member = member;
  if (alert.memberId) labels.member_id = alert.memberId;
  if (alert.memberInstance) labels.instance = alert.memberInstance;
  return labels;
}

export function alertmanagerAlert(alert: AlertNotification, nowMs: number): AlertmanagerAlert {
  const labels = alertmanagerLabels(alert);
  const startsAt = isoOr(alert.since, nowMs);
  const out: AlertmanagerAlert = {
    labels,
    annotations: {
      summary: alert.summary,
      description: alert.advice,
      ...(httpUrl(alert.runbookUrl) ? { runbook_url: alert.runbookUrl } : {}),
    },
    startsAt,
  };
  if (alert.state === 'resolved') {
    // Alertmanager rejects an alert that ends before it starts (400), which a skewed clock could produce.
    const endsAt = isoOr(alert.endsAt, nowMs);
    out.endsAt = endsAt < startsAt ? startsAt : endsAt;
  }
  if (httpUrl(alert.dashboardUrl)) out.generatorURL = alert.dashboardUrl;
  return out;
}
