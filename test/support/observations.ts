// Observations as the collector assembles them, and the members' HashKV answers, for pure tests of what is judged
// from them (alert rules, maintenance gates and plans, the consistency verdict): no cluster needed.
import type { ConsistencyMember } from '@/lib/cluster/consistency-types';
import { computeQuorum } from '@/lib/cluster/quorum';
import type { AlarmName, AlarmView, MemberHealth, MemberView, Observation } from '@/lib/cluster/status-types';

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
/** When the tests run: the observation was made a second before. */
export const NOW = Date.parse('2025-06-02T09:30:00.000Z');

// Three members as scripts/local-cluster.ts runs them; ids as etcdctl prints them.
export const IDS = ['8211f1d0f64f3269', '91bc3c398fb3c146', 'fd422379fda50e48'] as const;
export const NAMES = ['etcd-0', 'etcd-1', 'etcd-2'] as const;
export type Index = 0 | 1 | 2;

/** Member i's hex id: one of IDS, made up past the third member. */
export const memberId = (i: number): string => IDS[i] ?? `a${i}0000000000000${i}`.slice(0, 16);
/** Member i's name: etcd-i. */
export const memberName = (i: number): string => NAMES[i] ?? `etcd-${i}`;

/** The raft index every member has applied unless told otherwise. */
export const RAFT_INDEX = 184_233;

export interface MemberSpec {
  health?: MemberHealth;
  error?: string | null;
  isLearner?: boolean;
  isLeader?: boolean;
  /** Its metrics say etcd_disk_defrag_inflight is 1. */
  defragmenting?: boolean;
  /** null: the member did not answer Status. */
  status?: {
    dbSize?: number;
    dbSizeInUse?: number;
    version?: string;
    raftIndex?: number;
    raftAppliedIndex?: number;
  } | null;
}

export function member(i: number, spec: MemberSpec = {}): MemberView {
  const health = spec.health ?? 'healthy';
  const port = 2379 + i * 20000;
  const answered = spec.status !== null && health !== 'unreachable';
  return {
    id: memberId(i),
    name: memberName(i),
    peerURLs: [`https://127.0.0.1:${port + 1}`],
    clientURLs: [`https://127.0.0.1:${port}`],
    endpoint: `https://127.0.0.1:${port}`,
    isLearner: spec.isLearner ?? false,
    health,
    probeMs: health === 'healthy' ? 2.4 : null,
    error:
      spec.error !== undefined
        ? spec.error
        : health === 'unreachable'
          ? `connect ECONNREFUSED 127.0.0.1:${port}`
          : health === 'unhealthy'
            ? 'health read failed: etcdserver: request timed out'
            : null,
    status: answered
      ? {
          version: spec.status?.version ?? '3.5.21',
          dbSize: spec.status?.dbSize ?? 64 * MiB,
          dbSizeInUse: spec.status?.dbSizeInUse ?? 48 * MiB,
          raftTerm: 7,
          raftIndex: spec.status?.raftIndex ?? RAFT_INDEX,
          raftAppliedIndex: spec.status?.raftAppliedIndex ?? RAFT_INDEX,
          isLeader: spec.isLeader ?? i === 0,
          errors: [],
        }
      : null,
    ...(spec.defragmenting === undefined ? {} : { defragmenting: spec.defragmenting }),
  };
}

export interface ObservationSpec {
  /** One spec per member; three healthy members by default, etcd-0 leading. */
  members?: MemberSpec[];
  /** Defaults to the healthy member whose status says it leads; null when none does. */
  leader?: { id: string; name: string } | null;
  /** Whether a leader is elected (for the quorum); defaults to whether `leader` names one. */
  hasLeader?: boolean;
  alarms?: { member: Index; alarm: AlarmName }[];
  quotaBackendBytes?: number | null;
}

/** An observation as the collector assembles it: quorum from the members, alarms making their member unhealthy. */
export function observation(spec: ObservationSpec = {}): Observation {
  const alarms: AlarmView[] = (spec.alarms ?? []).map((a) => ({ memberId: IDS[a.member], alarm: a.alarm }));
  const members = (spec.members ?? [{}, {}, {}]).map((m, i) => {
    const own = alarms.filter((a) => a.memberId === IDS[i]).map((a) => a.alarm);
    // As `etcdctl endpoint health`: an active alarm makes the member unhealthy even though it answers.
    return own.length > 0 && !m.health
      ? member(i, { ...m, health: 'unhealthy', error: `alarm active: ${own.join(', ')}` })
      : member(i, m);
  });
  const leading = members.find((m) => m.health === 'healthy' && m.status?.isLeader);
  const leader = spec.leader !== undefined ? spec.leader : leading ? { id: leading.id!, name: leading.name } : null;
  return {
    clusterId: 'prod-eu1',
    name: 'prod-eu1',
    observedAt: new Date(NOW - 1_000).toISOString(),
    pollIntervalMs: 5_000,
    quorum: computeQuorum(members, spec.hasLeader ?? leader !== null),
    leader,
    members,
    alarms,
    warnings: [],
    quotaBackendBytes: spec.quotaBackendBytes !== undefined ? spec.quotaBackendBytes : 2 * GiB,
  };
}

/**
 * What each member's HashKV answered, member i being etcd-i: its hash, or null when it did not answer. Every member
 * that answered reports `compactRevision`, or its own from a list.
 */
export function hashKVs(
  hashes: readonly (number | null)[],
  compactRevision: number | readonly number[] = 1_000,
): ConsistencyMember[] {
  return hashes.map((hash, i) => {
    const base = { id: memberId(i), name: memberName(i) };
    if (hash === null) return { ...base, hash: null, compactRevision: null, error: 'context deadline exceeded' };
    const compacted = typeof compactRevision === 'number' ? compactRevision : (compactRevision[i] ?? null);
    return { ...base, hash, compactRevision: compacted, error: null };
  });
}
