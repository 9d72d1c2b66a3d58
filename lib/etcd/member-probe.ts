// Asks one member for its Maintenance Status and times a linearizable read, as `etcdctl endpoint health` does.
import 'server-only';
import type { Etcd3 } from 'etcd3';
import { describeEtcdError, isAuthRefusal, type EtcdFailure } from './etcd-error';
import type { StatusClient } from './member-client';
import { memberIdToHex } from './member-id';

export interface MemberStatusReading {
  memberId: string;
  clusterId: string;
  version: string;
  dbSize: number;
  dbSizeInUse: number;
  /** Hex id of the leader this member believes in; "0" when it knows none. */
  leader: string;
  raftTerm: number;
  raftIndex: number;
  raftAppliedIndex: number;
  /** The member's current revision (its response header's); what a compaction counts back from. */
  revision: number;
  isLearner: boolean;
  errors: string[];
  /** --quota-backend-bytes as the member reports it (3.6+); null before 3.6, which only has the metric. */
  dbSizeQuota: number | null;
  /** The storage version of the member's db file (3.6+); null before 3.6. */
  storageVersion: string | null;
  /** The cluster's downgrade state as this member knows it (3.6+); null before 3.6. */
  downgrade: { enabled: boolean; targetVersion: string } | null;
}

export interface HealthReading {
  ok: boolean;
  /** Time the linearizable read took, ms; null when it failed. */
  tookMs: number | null;
  failure: EtcdFailure | null;
}

export interface MemberProbeResult {
  endpoint: string;
  status: MemberStatusReading | null;
  statusFailure: EtcdFailure | null;
  /** etcd refused Status for auth (3.5.28+, 3.6.0–3.6.11 without the root role): the member did answer. */
  statusRefused?: boolean;
  health: HealthReading;
}

// etcd counts fit in a double for any real cluster (2^53 bytes is 8 PiB).
const num = (s: string): number => Number(s);

export type StatusResult = { status: MemberStatusReading; failure: null } | { status: null; failure: EtcdFailure };

/** Maintenance Status of one member. Never throws: a member that cannot be asked is data, not an exception. */
export async function readMemberStatus(client: StatusClient): Promise<StatusResult> {
  try {
    const s = await client.status();
    const quota = num(s.dbSizeQuota);
    return {
      status: {
        memberId: memberIdToHex(s.header?.member_id ?? '0'),
        clusterId: memberIdToHex(s.header?.cluster_id ?? '0'),
        version: s.version,
        dbSize: num(s.dbSize),
        dbSizeInUse: num(s.dbSizeInUse),
        leader: memberIdToHex(s.leader),
        raftTerm: num(s.raftTerm),
        raftIndex: num(s.raftIndex),
        raftAppliedIndex: num(s.raftAppliedIndex),
        revision: num(s.header?.revision ?? '0'),
        isLearner: s.isLearner,
        errors: s.errors ?? [],
        // Before 3.6 these fields are not on the wire and decode to their zero values.
        dbSizeQuota: Number.isFinite(quota) && quota > 0 ? quota : null,
        storageVersion: s.storageVersion || null,
        downgrade: s.downgradeInfo
          ? { enabled: s.downgradeInfo.enabled, targetVersion: s.downgradeInfo.targetVersion }
          : null,
      },
      failure: null,
    };
  } catch (err) {
    return { status: null, failure: describeEtcdError(err) };
  }
}

/** A health verdict reached without asking, when the answer is already known. */
export function knownUnhealthy(message: string): HealthReading {
  return { ok: false, tookMs: null, failure: { kind: 'error', message } };
}

/** A timed linearizable read of the key "health", as `etcdctl endpoint health` does. Never throws. */
export async function timedHealthRead(client: Etcd3, isLearner: boolean): Promise<HealthReading> {
  const started = performance.now();
  try {
    // A learner does not serve linearizable reads in 3.4; a serializable one shows it is up and applying.
    const read = client.get('health');
    await (isLearner ? read.serializable(true) : read).string();
    return { ok: true, tookMs: performance.now() - started, failure: null };
  } catch (err) {
    const failure = describeEtcdError(err);
    // etcdctl counts "permission denied" as healthy: the member answered through raft.
    if (failure.kind === 'permission-denied') return { ok: true, tookMs: performance.now() - started, failure: null };
    return { ok: false, tookMs: null, failure };
  }
}

/**
 * Socket errors that mean the member's process is gone, not that the network is slow: the first call after a
 * SIGKILL fails with ECONNRESET, the next ones with ECONNREFUSED. A timeout is never taken as such: the
 * dashboard may be the one cut off.
 */
const PROCESS_GONE = new Set(['ECONNREFUSED', 'ECONNRESET']);

export interface ProbeTarget {
  endpoint: string;
  /** Asks Status (our own proto, for the 3.6+ fields). */
  statusClient: StatusClient;
  /** Does the health read. */
  client: Etcd3;
  isLearner: boolean;
  /** The member id this endpoint answered with before, if it ever did. */
  knownMemberId: string | null;
}

/**
 * Status of every target first, then the health reads. A read is not sent when its answer is already known:
 * to a member that knows no leader, or whose leader refuses or resets connections (the process is gone and an election
 * is pending). Such reads would hang until the deadline and hold the whole poll back.
 */
export async function probeMembers(targets: ProbeTarget[]): Promise<MemberProbeResult[]> {
  const statuses = await Promise.all(targets.map((t) => readMemberStatus(t.statusClient)));
  const refused = new Set(
    targets
      .filter((t, i) => PROCESS_GONE.has(statuses[i]?.failure?.code ?? '') && t.knownMemberId)
      .map((t) => t.knownMemberId as string),
  );
  return Promise.all(
    targets.map(async (t, i): Promise<MemberProbeResult> => {
      const { status, failure } = statuses[i] ?? { status: null, failure: null };
      let health: HealthReading;
      // etcd 3.5.28+ and 3.6.0–3.6.11 refuse Status to a user without the root role: the member answered, so the
      // health read still tells whether it commits through raft.
      const statusRefused = !status && failure !== null && isAuthRefusal(failure);
      if (statusRefused) health = await timedHealthRead(t.client, t.isLearner);
      else if (!status) health = { ok: false, tookMs: null, failure };
      else if (status.leader === '0') health = knownUnhealthy('no leader: this member knows of no elected leader');
      else if (refused.has(status.leader)) {
        health = knownUnhealthy(
          `its leader ${status.leader} is down (connection refused or reset); an election is due`,
        );
      } else health = await timedHealthRead(t.client, t.isLearner);
      return { endpoint: t.endpoint, status, statusFailure: failure, statusRefused, health };
    }),
  );
}
