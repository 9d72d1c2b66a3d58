// The alerts the API returns and the pages (the NOC wall included) show; shared with the browser.
import type { Severity } from '@/lib/cluster/severity';

// Part of what an alert says, so the browser's alert views find it here too.
export type { Severity };
export type AlertState = 'pending' | 'firing' | 'resolved';

export interface AlertView {
  id: string;
  clusterId: string;
  rule: string;
  /** The name Alertmanager and /metrics carry: `etcdDashboardMemberDown` for `member_down`. */
  alertname: string;
  severity: Severity;
  state: AlertState;
  /** When the alert entered its current state. */
  since: string;
  summary: string;
  /** What it means and what to do, in the operator's words. */
  advice: string;
  memberId: string | null;
  memberName: string | null;
  /** When it started firing; null while pending. */
  firedAt: string | null;
  /** When it resolved; null while pending or firing. */
  resolvedAt: string | null;
}

export interface AlertsResponse {
  alerts: AlertView[];
}

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
