// The shapes the status API returns and the browser reads; no server imports here.

export type QuorumState = 'healthy' | 'degraded' | 'at-risk' | 'lost';
export type MemberHealth = 'healthy' | 'unhealthy' | 'unreachable';
export type AlarmName = 'NOSPACE' | 'CORRUPT';

export interface Quorum {
  /** Every member in the member list, learners included. */
  members: number;
  /** Members that vote: learners excluded. */
  voting: number;
  /** Healthy voting members. */
  healthy: number;
  /** floor(voting / 2) + 1 */
  required: number;
  /** healthy − required: how many more voting members may fail; negative when quorum is lost. */
  tolerance: number;
  state: QuorumState;
  /** Voting members that fail their health read only because they are defragmenting: they still vote. */
  busy?: number;
}

export interface MemberStatusView {
  version: string;
  dbSize: number;
  dbSizeInUse: number;
  raftTerm: number;
  raftIndex: number;
  raftAppliedIndex: number;
  /** The member's current revision (absent in observations from before it was recorded). */
  revision?: number;
  isLeader: boolean;
  errors: string[];
  /** The storage version of the member's db file (etcd 3.6+); null or absent before 3.6. */
  storageVersion?: string | null;
  /** The cluster's downgrade state as this member reports it (etcd 3.6+); null or absent before 3.6. */
  downgrade?: { enabled: boolean; targetVersion: string } | null;
}

export interface MemberView {
  /** Hex id as etcdctl prints it; null when the member has never answered and no member list is known. */
  id: string | null;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  /** The endpoint the dashboard probes this member at. */
  endpoint: string | null;
  isLearner: boolean;
  health: MemberHealth;
  /** Time of the linearizable health read, ms. */
  probeMs: number | null;
  /** Why the member is not healthy, in one line. */
  error: string | null;
  status: MemberStatusView | null;
  /** Its last metrics scrape said a defragmentation is running (etcd_disk_defrag_inflight): reads wait meanwhile. */
  defragmenting?: boolean;
}

export interface AlarmView {
  memberId: string;
  alarm: AlarmName;
}

export interface ClusterStatus {
  clusterId: string;
  name: string;
  /** ISO time of the last completed poll; null before the first one completes. */
  observedAt: string | null;
  /** ISO time a member last answered; null when none has since the dashboard started. */
  lastAnsweredAt: string | null;
  /** True when observedAt is older than a few poll intervals: nothing here may be shown as healthy. */
  stale: boolean;
  /** ISO time the server answered: the browser ages observedAt against this, not its own clock. */
  servedAt: string;
  /** The newest verified snapshot whose file is kept; null when there is none. */
  lastVerifiedSnapshot: {
    id: string;
    finishedAt: string;
    offsite: boolean;
    /** Its restore test, if one was tried: passed, failed, skipped (with why), running or interrupted. */
    restoreTest?: { state: string; testedAt: string; reason: string | null } | null;
  } | null;
  /** The newest snapshot whose restore test passed, and when it was tested; null when none has. */
  lastRestoreTestedSnapshot?: { id: string; finishedAt: string; testedAt: string } | null;
  /** The last census of /registry/secrets (counts only, never values); null before the first or without Secrets. */
  secretsAtRest: {
    total: number;
    encrypted: number;
    plain: number;
    byProvider: Record<string, number>;
    scannedAt: string;
  } | null;
  pollIntervalMs: number;
  quorum: Quorum;
  leader: { id: string; name: string } | null;
  members: MemberView[];
  alarms: AlarmView[];
  /** Cluster-wide calls that failed in the last poll (member list, alarm list), in one line each. */
  warnings: string[];
  /**
   * --quota-backend-bytes: from Status where a member reports it (etcd 3.6+), else from the members' metrics
   * (etcd_server_quota_backend_bytes); null until either is read.
   */
  quotaBackendBytes: number | null;
  /** Where quotaBackendBytes came from; null (or absent) while it is unknown. */
  quotaSource?: QuotaSource | null;
}

export type QuotaSource = 'status' | 'metrics';

export interface ClusterSummary {
  id: string;
  name: string;
  endpoints: string[];
}

/** What the collector keeps from a poll; the verdicts that depend on when it is read are added when served. */
export type Observation = Omit<
  ClusterStatus,
  'stale' | 'servedAt' | 'lastVerifiedSnapshot' | 'lastRestoreTestedSnapshot' | 'secretsAtRest' | 'lastAnsweredAt'
>;
