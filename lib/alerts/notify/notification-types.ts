// The alert as notifications carry it, and the record of each attempt to deliver one; shared with the browser.

import type { Severity } from '@/lib/cluster/severity';
import type { AlertState as TrackedState } from '../alert-types';

export type AlertSeverity = Severity;
/** Notifications are sent on firing and on resolved; pending is never sent. */
export type AlertState = Exclude<TrackedState, 'pending'>;

export interface AlertNotification {
  /** Stable per alert instance: a firing and its resolved carry the same id. */
  id: string;
  clusterId: string;
  clusterName: string;
  /** The rule as the dashboard names it: `member_down`. */
  rule: string;
  /** The name outside the dashboard (Alertmanager's alertname): `etcdDashboardMemberDown`. */
  alertname: string;
  severity: AlertSeverity;
  state: AlertState;
  /** ISO time it started firing. */
  since: string;
  /** ISO time it resolved; null while firing. */
  endsAt: string | null;
  summary: string;
  advice: string;
  memberId: string | null;
  memberName: string | null;
  /** The member's client URL as host:port, as Prometheus' `instance` label names it; null when unknown. */
  memberInstance: string | null;
  dashboardUrl: string | null;
  /** The rule's entry on the dashboard's runbook page; null when the dashboard's URL is not configured. */
  runbookUrl: string | null;
}

/**
 * ok: delivered. retrying: this attempt failed, another follows at nextAttemptAt. gave-up: every attempt failed, or
 * the alert was dropped from a full queue. failed: this attempt failed and is not retried because retrying cannot help
 * (the receiver refused it with a 3xx/4xx) or a newer state of the same alert replaced it.
 */
export type DeliveryOutcome = 'ok' | 'failed' | 'retrying' | 'gave-up';

export interface DeliveryRecord {
  /** The receiver's configured name. */
  receiver: string;
  /** Where it was sent: origin and the first path segment, the rest masked (tokens sit there), no query. */
  target: string;
  alertId: string;
  state: AlertState;
  /** ISO time the attempt ended. */
  at: string;
  outcome: DeliveryOutcome;
  /** The receiver's HTTP status; null when no answer came. */
  status: number | null;
  /** One line on why it failed, without secrets; null when delivered. */
  reason: string | null;
  /** 1 for the first attempt. */
  attempt: number;
  /** ISO time of the next attempt when retrying, else null. */
  nextAttemptAt: string | null;
}
