// The levels a cluster is judged by: the alert rules' names and thresholds, and etcd's default quota. The only place
// these numbers live; the rules, the configuration and the charts read them from here. Shared with the browser.

/** Every built-in alert rule; lib/alerts/rules.ts gives each its check, `for` duration and advice. */
export const RULE_NAMES = [
  'no_leader',
  'insufficient_members',
  'member_down',
  'quorum_at_risk',
  'leader_changes_high',
  'wal_fsync_slow',
  'backend_commit_slow',
  'peer_rtt_high',
  'proposals_failed',
  'db_size_quota',
  'db_growth_quota',
  'db_fragmented',
  'alarm_active',
  'version_mismatch',
  'etcd_version_advisory',
  'cluster_size',
  'snapshot_stale',
  'snapshot_not_offsite',
  'cert_expiring',
  'data_stale',
  'secrets_plaintext',
  'members_diverged',
  'snapshot_restore_test',
] as const;

export type RuleName = (typeof RULE_NAMES)[number];

export interface Thresholds {
  walFsyncP99WarnMs: number;
  walFsyncP99CritMs: number;
  backendCommitP99WarnMs: number;
  backendCommitP99CritMs: number;
  peerRttP99WarnMs: number;
  leaderChangesIn15m: number;
  dbQuotaWarnRatio: number;
  dbQuotaCritRatio: number;
  dbGrowthHoursToQuota: number;
  fragmentationRatio: number;
  fragmentationMinInUseBytes: number;
  snapshotMaxAgeHours: number;
  /** A snapshot must have passed a restore test within this many hours (when restore tests are on). */
  restoreTestMaxAgeHours: number;
  certWarnDays: number;
  certCritDays: number;
  /** How long a condition must hold before it fires, per rule; the rule's own default otherwise. */
  forSeconds: Partial<Record<RuleName, number>>;
}

/** etcd's guidance and the etcd project's own Prometheus alerts (etcd-mixin), plus what SREs learn the hard way. */
export const DEFAULT_THRESHOLDS: Thresholds = {
  walFsyncP99WarnMs: 10,
  walFsyncP99CritMs: 500,
  backendCommitP99WarnMs: 25,
  backendCommitP99CritMs: 250,
  peerRttP99WarnMs: 150,
  leaderChangesIn15m: 4,
  dbQuotaWarnRatio: 0.8,
  dbQuotaCritRatio: 0.95,
  dbGrowthHoursToQuota: 4,
  fragmentationRatio: 0.5,
  fragmentationMinInUseBytes: 100 * 1024 * 1024,
  snapshotMaxAgeHours: 24,
  restoreTestMaxAgeHours: 24,
  certWarnDays: 30,
  certCritDays: 7,
  forSeconds: {},
};

/** etcd's default --quota-backend-bytes. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 ** 3;
