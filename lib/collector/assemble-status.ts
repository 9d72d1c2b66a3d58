// Joins one poll's probes with the member list and alarms into the status view: pure, so it is unit-tested.
import type { AlarmEntry, MemberListEntry } from '@/lib/etcd/cluster-calls';
import type { MemberProbeResult } from '@/lib/etcd/member-probe';
import { computeQuorum } from '@/lib/cluster/quorum';
import type { MemberHealth, MemberView, Observation, QuotaSource } from '@/lib/cluster/status-types';

export interface PollOutcome {
  clusterId: string;
  name: string;
  pollIntervalMs: number;
  observedAt: string;
  /** The last member list that was read; null when none has ever been read. */
  memberList: MemberListEntry[] | null;
  probes: MemberProbeResult[];
  /** Endpoint → member id, remembered from earlier answers so a dead member keeps its endpoint. */
  endpointMembers: ReadonlyMap<string, string>;
  alarms: AlarmEntry[];
  warnings: string[];
  /** From the members' metrics; null until scraped. Status's own quota (3.6+) is preferred where a member sends it. */
  quotaBackendBytes?: number | null;
  /** Ids of the members whose latest metrics say a defragmentation is running. */
  defragmenting?: ReadonlySet<string>;
}

export function normalizeUrl(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    return `${u.protocol}//${u.hostname.toLowerCase()}:${port}`;
  } catch {
    return url;
  }
}

function judge(
  probe: MemberProbeResult | undefined,
  memberAlarms: AlarmEntry[],
): {
  health: MemberHealth;
  error: string | null;
} {
  if (!probe) return { health: 'unreachable', error: 'not probed: no endpoint known for this member' };
  if (!probe.status && statusRefused(probe)) {
    if (!probe.health.ok) return { health: 'unhealthy', error: probe.health.failure?.message ?? 'health read failed' };
    return { health: 'healthy', error: null };
  }
  if (!probe.status) return { health: 'unreachable', error: probe.statusFailure?.message ?? 'no answer' };
  if (!probe.health.ok) return { health: 'unhealthy', error: probe.health.failure?.message ?? 'health read failed' };
  // As `etcdctl endpoint health`: an active alarm makes the member unhealthy even though it answers.
  if (memberAlarms.length > 0) {
    return { health: 'unhealthy', error: `alarm active: ${memberAlarms.map((a) => a.alarm).join(', ')}` };
  }
  if (probe.status.errors.length > 0) return { health: 'unhealthy', error: probe.status.errors.join('; ') };
  return { health: 'healthy', error: null };
}

/** etcd refused Status to the dashboard's etcd user (3.5.28+, 3.6.0–3.6.11 without the root role): it did answer. */
function statusRefused(probe: MemberProbeResult): boolean {
  return probe.statusRefused === true;
}

/** The leader that the members with the newest raft term agree on; null when they know none. */
function electedLeader(probes: MemberProbeResult[]): string | null {
  const votes = new Map<string, { term: number; count: number }>();
  for (const p of probes) {
    const s = p.status;
    if (!s || s.leader === '0') continue;
    const v = votes.get(s.leader);
    if (!v) votes.set(s.leader, { term: s.raftTerm, count: 1 });
    else votes.set(s.leader, { term: Math.max(v.term, s.raftTerm), count: v.count + 1 });
  }
  let best: { id: string; term: number; count: number } | null = null;
  for (const [id, v] of votes) {
    if (!best || v.term > best.term || (v.term === best.term && v.count > best.count)) best = { id, ...v };
  }
  return best?.id ?? null;
}

/**
 * The quota Status reports (3.6+) where a member sends it, else the metric. With several, the smallest: the member
 * that reaches its own quota first raises NOSPACE for the whole cluster.
 */
function clusterQuota(poll: PollOutcome): { bytes: number | null; source: QuotaSource | null } {
  const reported = poll.probes.map((p) => p.status?.dbSizeQuota ?? null).filter((q) => q !== null);
  if (reported.length > 0) return { bytes: Math.min(...reported), source: 'status' };
  const metric = poll.quotaBackendBytes ?? null;
  return { bytes: metric, source: metric === null ? null : 'metrics' };
}

export function assembleStatus(poll: PollOutcome): Observation {
  const byMemberId = new Map<string, MemberProbeResult>();
  const byEndpoint = new Map<string, MemberProbeResult>();
  for (const p of poll.probes) {
    byEndpoint.set(normalizeUrl(p.endpoint), p);
    const id = p.status?.memberId ?? poll.endpointMembers.get(p.endpoint);
    if (id && !byMemberId.has(id)) byMemberId.set(id, p);
  }

  const leaderId = electedLeader(poll.probes);
  const used = new Set<MemberProbeResult>();
  const members: MemberView[] = [];

  const view = (
    base: Omit<MemberView, 'health' | 'error' | 'probeMs' | 'status' | 'endpoint'>,
    probe: MemberProbeResult | undefined,
  ): MemberView => {
    if (probe) used.add(probe);
    const memberAlarms = poll.alarms.filter((a) => a.memberId === base.id);
    const defragmenting = base.id !== null && (poll.defragmenting?.has(base.id) ?? false);
    const judged = judge(probe, memberAlarms);
    const { health } = judged;
    // Reads wait while a member defragments: a failed health read then means busy, not down.
    const error =
      defragmenting && health !== 'healthy'
        ? `busy defragmenting: reads and writes wait until it ends (${judged.error ?? 'no answer'})`
        : judged.error;
    const s = probe?.status ?? null;
    return {
      ...base,
      endpoint: probe?.endpoint ?? null,
      health,
      error,
      probeMs: probe?.health.tookMs != null ? Math.round(probe.health.tookMs * 10) / 10 : null,
      status: s
        ? {
            version: s.version,
            dbSize: s.dbSize,
            dbSizeInUse: s.dbSizeInUse,
            raftTerm: s.raftTerm,
            raftIndex: s.raftIndex,
            raftAppliedIndex: s.raftAppliedIndex,
            revision: s.revision,
            isLeader: s.memberId === leaderId,
            errors: s.errors,
            storageVersion: s.storageVersion,
            downgrade: s.downgrade,
          }
        : null,
      defragmenting,
    };
  };

  for (const m of poll.memberList ?? []) {
    const probe =
      byMemberId.get(m.id) ??
      m.clientURLs.map((u) => byEndpoint.get(normalizeUrl(u))).find((p) => p !== undefined && !p.status);
    members.push(
      view(
        {
          id: m.id,
          name: m.name || '(unstarted)',
          peerURLs: m.peerURLs,
          clientURLs: m.clientURLs,
          isLearner: m.isLearner,
        },
        probe,
      ),
    );
  }
  // Endpoints that match no listed member: shown by endpoint, so an unreachable cluster still has rows.
  for (const p of poll.probes) {
    if (used.has(p)) continue;
    const id = p.status?.memberId ?? poll.endpointMembers.get(p.endpoint) ?? null;
    members.push(
      view(
        {
          id,
          name: p.endpoint.replace(/^https?:\/\//, ''),
          peerURLs: [],
          clientURLs: [p.endpoint],
          isLearner: p.status?.isLearner ?? false,
        },
        p,
      ),
    );
  }

  const leaderMember = leaderId ? members.find((m) => m.id === leaderId) : undefined;
  // A leader that the dashboard cannot reach has most likely just died; its followers have not noticed yet.
  // Without Status the leader has no name, but a linearizable read that succeeded needed one (and a quorum) to confirm it.
  const leaderUnnamed = leaderId === null && poll.probes.some((p) => !p.status && statusRefused(p) && p.health.ok);
  const hasLeader = (leaderId !== null && leaderMember?.health !== 'unreachable') || leaderUnnamed;
  const quorum = computeQuorum(members, hasLeader);
  const quota = clusterQuota(poll);
  return {
    clusterId: poll.clusterId,
    name: poll.name,
    observedAt: poll.observedAt,
    pollIntervalMs: poll.pollIntervalMs,
    quorum,
    leader: hasLeader && leaderId ? { id: leaderId, name: leaderMember?.name ?? leaderId } : null,
    members,
    alarms: poll.alarms,
    warnings: leaderUnnamed
      ? [
          ...poll.warnings,
          "etcd refuses Status to the dashboard's etcd user: leader, raft index and DB size are unknown (see etcd access below)",
        ]
      : poll.warnings,
    quotaBackendBytes: quota.bytes,
    quotaSource: quota.source,
  };
}
