// Alerts grouped by cause for the pages: one group per rule, severity and state, naming the members it affects, so
// slow disks on three members read as one problem, not six boxes. Shared with the browser.
import type { RuleName } from '@/lib/cluster/thresholds';
import { alertName } from './alert-names';
import { SEVERITY_RANK, type AlertView } from './alert-types';

/** Each rule in a few words, as a group's headline starts: "WAL fsync slow on 3 members". */
export const RULE_TITLES: Record<RuleName, string> = {
  no_leader: 'No leader',
  insufficient_members: 'Too few healthy members for quorum',
  member_down: 'Member down',
  quorum_at_risk: 'Quorum at risk',
  leader_changes_high: 'Frequent leader changes',
  wal_fsync_slow: 'WAL fsync slow',
  backend_commit_slow: 'Backend commit slow',
  peer_rtt_high: 'Peer round trip high',
  proposals_failed: 'Failed proposals',
  db_size_quota: 'DB size near the quota',
  db_growth_quota: 'DB growing towards the quota',
  db_fragmented: 'DB fragmented',
  alarm_active: 'Alarm active',
  version_mismatch: 'Members on different etcd versions',
  etcd_version_advisory: 'etcd release advised against',
  cluster_size: 'Cluster size without fault tolerance',
  snapshot_stale: 'No recent verified snapshot',
  snapshot_not_offsite: 'Snapshot not off-site',
  snapshot_restore_test: 'Snapshot restore test',
  cert_expiring: 'Certificate expiring',
  data_stale: 'No fresh data',
  secrets_plaintext: 'Secrets stored unencrypted',
  members_diverged: 'Members diverged',
};

/** What grouping reads of an alert: the pages' AlertView and the notifications' AlertNotification both have it. */
export type GroupableAlert = Pick<
  AlertView,
  'rule' | 'severity' | 'state' | 'since' | 'summary' | 'advice' | 'memberName' | 'memberId'
> & { alertname?: string | undefined };

export interface AlertGroup<T extends GroupableAlert = AlertView> {
  /** rule/severity/state: stable across polls, for React keys and test ids. */
  key: string;
  rule: string;
  alertname: string;
  severity: AlertView['severity'];
  state: AlertView['state'];
  /** When the group's oldest alert entered its state. */
  since: string;
  /** One line: the alert's own summary when it is alone, else the rule and the members it affects. */
  headline: string;
  /** The members named, in name order; empty when any of its alerts is not about a named member. */
  members: string[];
  /** Its alerts, by member name. */
  alerts: T[];
  advice: string;
}

const STATE_RANK: Record<AlertView['state'], number> = { firing: 0, pending: 1, resolved: 2 };

/** Critical before warning before info, then firing before pending (resolved last of all), then the oldest first. */
export function worstFirst(
  x: Pick<AlertView, 'severity' | 'state' | 'since'>,
  y: Pick<AlertView, 'severity' | 'state' | 'since'>,
): number {
  return (
    Number(x.state === 'resolved') - Number(y.state === 'resolved') ||
    SEVERITY_RANK[y.severity] - SEVERITY_RANK[x.severity] ||
    STATE_RANK[x.state] - STATE_RANK[y.state] ||
    Date.parse(x.since) - Date.parse(y.since)
  );
}

const titleOf = (rule: string): string => RULE_TITLES[rule as RuleName] ?? rule.replace(/_/g, ' ');

/** Groups `alerts` by rule, severity and state, worst group first (see worstFirst). */
export function groupAlerts<T extends GroupableAlert = AlertView>(alerts: readonly T[]): AlertGroup<T>[] {
  const byKey = new Map<string, T[]>();
  for (const a of alerts) {
    const key = `${a.rule}/${a.severity}/${a.state}`;
    const list = byKey.get(key);
    if (list) list.push(a);
    else byKey.set(key, [a]);
  }
  const groups: AlertGroup<T>[] = [];
  for (const [key, list] of byKey) {
    list.sort(
      (x, y) =>
        (x.memberName ?? x.memberId ?? '').localeCompare(y.memberName ?? y.memberId ?? '') ||
        Date.parse(x.since) - Date.parse(y.since),
    );
    const first = list[0] as T;
    // Named only when every alert of the group is about a named member (a certificate group also holds the CA's).
    const named = list.every((a) => a.memberName);
    const members = named ? [...new Set(list.map((a) => a.memberName as string))] : [];
    const since = list.reduce((min, a) => (Date.parse(a.since) < Date.parse(min) ? a.since : min), first.since);
    const headline =
      list.length === 1
        ? first.summary
        : members.length > 0
          ? `${titleOf(first.rule)} on ${members.length} member${members.length === 1 ? '' : 's'}: ${members.join(', ')}`
          : `${titleOf(first.rule)} (${list.length})`;
    groups.push({
      key,
      rule: first.rule,
      alertname: first.alertname ?? alertName(first.rule),
      severity: first.severity,
      state: first.state,
      since,
      headline,
      members,
      alerts: list,
      advice: first.advice,
    });
  }
  return groups.sort(worstFirst);
}
