// The built-in alert rules: what each checks, how long it must hold, and what to do about it. Pure: every input is
// in the RuleContext, so each rule is unit-tested without a cluster.
import type { ConsistencyCheck } from '@/lib/cluster/consistency-types';
import { etcdAdvisory } from '@/lib/cluster/etcd-advisories';
import type { Severity } from '@/lib/cluster/severity';
import type { Observation } from '@/lib/cluster/status-types';
import { DEFAULT_QUOTA_BYTES, type RuleName, type Thresholds } from '@/lib/cluster/thresholds';
import type { MemberMetrics } from '@/lib/collector/cluster-collector';

export interface CertificateFact {
  /** "the dashboard's client certificate", "the CA", "etcd-0's server certificate" */
  what: string;
  memberId: string | null;
  validTo: number;
}

export interface RuleContext {
  now: number;
  observation: Observation | null;
  /** The dashboard's own data for the cluster is stale (or has never arrived). */
  stale: boolean;
  /** When the last good observation was made; null when there never was one. */
  observedAt: number | null;
  metrics: ReadonlyMap<string, MemberMetrics>;
  leaderChangesIn15m: number;
  /** Hours until the fastest-growing member reaches the quota; null when not growing or unknown. */
  hoursToQuota: { memberId: string; hours: number } | null;
  snapshots: {
    lastVerifiedAt: number | null;
    lastVerifiedOffsite: boolean | null;
    /** Restore tests are on for the cluster; absent or false: the restore-test rule stays quiet. */
    restoreTestsEnabled?: boolean;
    /** The newest verified snapshot's restore test (state and why), or null when none was tried. */
    newestRestoreTest?: { state: string; reason: string | null } | null;
    /** When the newest snapshot that passed its restore test was taken; null when none has. */
    lastRestoreTestedAt?: number | null;
  };
  certificates: CertificateFact[];
  secrets: { total: number; plain: number } | null;
  /** The newest consistency check (HashKV of every member at one revision), when it is recent; null otherwise. */
  consistency?: ConsistencyCheck | null;
  thresholds: Thresholds;
}

export interface Finding {
  rule: RuleName;
  severity: Severity;
  memberId: string | null;
  memberName: string | null;
  /** Tells apart two findings of one rule for one member (two certificates, say). */
  instance?: string;
  summary: string;
}

export const RULES = {
  no_leader: {
    forSeconds: 10,
    advice:
      'No member knows a leader: etcd refuses writes and the Kubernetes API cannot change anything. Check that a majority of members run and can reach each other (peer ports, certificates, clocks); restart members that are down.',
  },
  insufficient_members: {
    forSeconds: 5,
    advice:
      'Fewer healthy voting members than quorum needs. Bring members back first; if they cannot return, restore the cluster from the newest verified snapshot (see its runbook).',
  },
  member_down: {
    forSeconds: 10,
    advice:
      'A member does not answer or fails its health read. Check its process and logs, disk and network; the cluster keeps working while quorum holds, but with less margin.',
  },
  quorum_at_risk: {
    forSeconds: 5,
    advice:
      'Quorum holds with nothing to spare: one more failure stops all writes. Restore the failed member now and postpone any maintenance.',
  },
  leader_changes_high: {
    forSeconds: 0,
    advice:
      'Frequent leader elections usually mean slow disks or a slow network between members: check WAL fsync and peer round-trip latency, CPU starvation, and that election timeouts are at least 10× the round trip.',
  },
  wal_fsync_slow: {
    forSeconds: 60,
    advice:
      "The member's disk is slow to fsync its write-ahead log: every write waits for it. Move etcd to a dedicated SSD/NVMe, away from noisy neighbours and other I/O.",
  },
  backend_commit_slow: {
    forSeconds: 60,
    advice:
      'Committing to the bbolt backend is slow: a slow disk, or a large, fragmented database. Check disk latency; defragment when the DB is fragmented.',
  },
  peer_rtt_high: {
    forSeconds: 60,
    advice:
      'Messages between members are slow: leader elections become likely. Check the network path between members, and that members sit in the same region.',
  },
  proposals_failed: {
    forSeconds: 0,
    advice:
      'Proposals are failing, usually around leader elections or without quorum. Look at the leader change and member events just before.',
  },
  db_size_quota: {
    forSeconds: 60,
    advice:
      'The database nears its quota; at the quota etcd raises NOSPACE and accepts only reads and deletes. Compact old revisions and defragment, find what grows (the snapshot keyspace breakdown shows it), or raise --quota-backend-bytes (8 GiB at most is advised).',
  },
  db_growth_quota: {
    forSeconds: 300,
    advice:
      'At its current growth the database reaches its quota within hours. Find what grows (events, leases, a runaway controller) before NOSPACE stops all writes.',
  },
  db_fragmented: {
    forSeconds: 600,
    advice:
      'Less than half of the allocated database is in use: space freed by compaction has not been returned. A slow API server often follows. Defragment each member, followers first and the leader last, while all are healthy.',
  },
  alarm_active: {
    forSeconds: 0,
    advice:
      'An etcd alarm is active. NOSPACE: free space (compact, defragment every member), then `etcdctl alarm disarm`. CORRUPT: stop writes, find the diverged member, replace it or restore from a verified snapshot.',
  },
  version_mismatch: {
    forSeconds: 600,
    advice:
      'Members run different etcd versions. That is expected only during a rolling upgrade; finish it (one member at a time, checking health in between).',
  },
  etcd_version_advisory: {
    forSeconds: 0,
    advice:
      'The etcd project advises against this release. Upgrade one member at a time to the newest patch of a supported line (3.5.20+ before 3.6; 3.6.x; 3.7.x), checking health in between; take a verified snapshot first. After 3.5.0–3.5.2, check that the members agree (etcdctl endpoint hashkv --cluster) before and after.',
  },
  cluster_size: {
    forSeconds: 0,
    advice:
      'A single member tolerates no failure, and an even number of voters adds none over the odd number below it. Run 3 or 5 voting members.',
  },
  snapshot_stale: {
    forSeconds: 0,
    advice:
      'No verified snapshot recently: a failure now could lose everything since the last one. Take a snapshot (Snapshots page) and check the schedule.',
  },
  snapshot_not_offsite: {
    forSeconds: 0,
    advice:
      'The newest verified snapshot has no off-site copy: kept on the same hosts, it dies with the cluster. Configure an off-site target, or copy it away by hand.',
  },
  snapshot_restore_test: {
    forSeconds: 0,
    advice:
      "A backup is proven only by restoring it. The newest snapshot failed its restore test, or none passed recently: the reason is on the Snapshots page. Take a new snapshot and restore-test it; if it fails again, check the members' disks and the snapshot's member, and keep the last snapshot that passed. A skipped test names what is missing (an etcd binary of the cluster's version, disk space).",
  },
  cert_expiring: {
    forSeconds: 0,
    advice:
      'A certificate expires soon; when it does, members or the dashboard can no longer talk to each other. Renew it (kubeadm certs renew etcd-*, or your PKI) and restart the members one at a time.',
  },
  data_stale: {
    forSeconds: 0,
    advice:
      "The dashboard has no fresh data from this cluster: it cannot say whether it is healthy. Check the dashboard's network path and certificates to the members, or the members themselves.",
  },
  secrets_plaintext: {
    forSeconds: 0,
    advice:
      'Kubernetes Secrets are stored in etcd unencrypted: anyone with an etcd snapshot or a backup can read them. Enable an EncryptionConfiguration on the API servers (aescbc, aesgcm, secretbox or a KMS provider), then rewrite all Secrets (kubectl get secrets -A -o json | kubectl replace -f -).',
  },
  members_diverged: {
    forSeconds: 0,
    advice:
      'The members hold different data at the same revision: one has silently diverged, and every read it serves may be wrong. Do not defragment, snapshot from or move the leader to it. Stop the member that differs, remove it (etcdctl member remove), delete its data directory, and add it back (etcdctl member add, then start it with --initial-cluster-state existing) so it copies a healthy member. Take a verified snapshot from a healthy member first.',
  },
} as const satisfies Record<RuleName, { forSeconds: number; advice: string }>;

function pct(ratio: number): string {
  return `${Math.round(ratio * 100)} %`;
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(bytes >= 1024 ** 3 ? 1 : 2)} GiB`;
}

/** Every rule's findings for one cluster now; an empty list means all clear. */
export function evaluateRules(ctx: RuleContext): Finding[] {
  const t = ctx.thresholds;
  const out: Finding[] = [];
  const add = (
    f: Omit<Finding, 'memberId' | 'memberName'> & { memberId?: string | null; memberName?: string | null },
  ) => out.push({ memberId: null, memberName: null, ...f });

  if (ctx.stale) {
    const since = ctx.observedAt === null ? 'never had any' : `none since ${new Date(ctx.observedAt).toISOString()}`;
    add({ rule: 'data_stale', severity: 'critical', summary: `no fresh data from the cluster (${since})` });
    // Without data, nothing else can be judged: other alerts keep their state (see the tracker).
    return out;
  }
  const obs = ctx.observation;
  if (!obs) return out;
  const q = obs.quorum;

  if (!obs.leader && q.voting > 0)
    add({ rule: 'no_leader', severity: 'critical', summary: 'no member knows a leader' });
  if (q.healthy + (q.busy ?? 0) < q.required) {
    add({
      rule: 'insufficient_members',
      severity: 'critical',
      summary: `${q.healthy} of ${q.voting} voting members healthy, quorum needs ${q.required}`,
    });
  } else if (q.tolerance === 0 && q.voting > 1 && q.healthy + (q.busy ?? 0) < q.voting) {
    add({
      rule: 'quorum_at_risk',
      severity: 'critical',
      summary: `${q.healthy} of ${q.voting} healthy: one more failure loses quorum`,
    });
  }
  for (const m of obs.members) {
    // Without a leader every running member fails its health read: the no-leader alert says so once, and
    // member_down keeps to the members that are really gone.
    const explainedByNoLeader = !obs.leader && m.health === 'unhealthy';
    // A member defragmenting is busy, not down: the live view says so, and it answers again when done.
    if (m.health !== 'healthy' && m.id && !explainedByNoLeader && !m.defragmenting) {
      add({
        rule: 'member_down',
        severity: 'warning',
        memberId: m.id,
        memberName: m.name,
        summary: `${m.name} is ${m.health}: ${m.error ?? 'no answer'}`,
      });
    }
  }
  if (ctx.leaderChangesIn15m >= t.leaderChangesIn15m) {
    add({
      rule: 'leader_changes_high',
      severity: 'warning',
      summary: `${ctx.leaderChangesIn15m} leader changes in the last 15 minutes`,
    });
  }

  const names = new Map(obs.members.filter((m) => m.id).map((m) => [m.id as string, m.name]));
  for (const [memberId, m] of ctx.metrics) {
    const memberName = names.get(memberId) ?? memberId;
    const base = { memberId, memberName };
    if (m.walFsyncP99Ms !== null && m.walFsyncP99Ms > t.walFsyncP99WarnMs) {
      const crit = m.walFsyncP99Ms > t.walFsyncP99CritMs;
      add({
        ...base,
        rule: 'wal_fsync_slow',
        severity: crit ? 'critical' : 'warning',
        summary: `${memberName}: WAL fsync p99 ${m.walFsyncP99Ms.toFixed(1)} ms (${crit ? `alert level ${t.walFsyncP99CritMs}` : `etcd advises < ${t.walFsyncP99WarnMs}`} ms)`,
      });
    }
    if (m.backendCommitP99Ms !== null && m.backendCommitP99Ms > t.backendCommitP99WarnMs) {
      const crit = m.backendCommitP99Ms > t.backendCommitP99CritMs;
      add({
        ...base,
        rule: 'backend_commit_slow',
        severity: crit ? 'critical' : 'warning',
        summary: `${memberName}: backend commit p99 ${m.backendCommitP99Ms.toFixed(1)} ms (${crit ? `alert level ${t.backendCommitP99CritMs}` : `etcd advises < ${t.backendCommitP99WarnMs}`} ms)`,
      });
    }
    if (m.worstPeerRttP99Ms !== null && m.worstPeerRttP99Ms > t.peerRttP99WarnMs) {
      add({
        ...base,
        rule: 'peer_rtt_high',
        severity: 'warning',
        summary: `${memberName}: peer round trip p99 ${Math.round(m.worstPeerRttP99Ms)} ms (alert level ${t.peerRttP99WarnMs} ms)`,
      });
    }
    if (m.proposalsFailedRecent !== null && m.proposalsFailedRecent > 0) {
      add({
        ...base,
        rule: 'proposals_failed',
        severity: 'warning',
        summary: `${memberName}: ${m.proposalsFailedRecent} failed proposal(s) in the last minutes`,
      });
    }
  }

  const quota = obs.quotaBackendBytes ?? DEFAULT_QUOTA_BYTES;
  for (const m of obs.members) {
    if (!m.status || !m.id) continue;
    const ratio = m.status.dbSize / quota;
    if (ratio > t.dbQuotaWarnRatio) {
      const crit = ratio > t.dbQuotaCritRatio;
      add({
        rule: 'db_size_quota',
        severity: crit ? 'critical' : 'warning',
        memberId: m.id,
        memberName: m.name,
        summary: `${m.name}: DB ${gib(m.status.dbSize)} is ${pct(ratio)} of the ${gib(quota)} quota`,
      });
    }
    const inUse = m.status.dbSizeInUse;
    if (m.status.dbSize > 0 && inUse / m.status.dbSize < t.fragmentationRatio && inUse > t.fragmentationMinInUseBytes) {
      add({
        rule: 'db_fragmented',
        severity: 'warning',
        memberId: m.id,
        memberName: m.name,
        summary: `${m.name}: only ${pct(inUse / m.status.dbSize)} of ${gib(m.status.dbSize)} in use`,
      });
    }
  }
  if (ctx.hoursToQuota && ctx.hoursToQuota.hours <= t.dbGrowthHoursToQuota) {
    const name = names.get(ctx.hoursToQuota.memberId) ?? ctx.hoursToQuota.memberId;
    add({
      rule: 'db_growth_quota',
      severity: 'warning',
      memberId: ctx.hoursToQuota.memberId,
      memberName: name,
      summary: `${name}: at its growth, the DB reaches the quota in about ${ctx.hoursToQuota.hours.toFixed(1)} h`,
    });
  }
  for (const a of obs.alarms) {
    add({
      rule: 'alarm_active',
      severity: 'critical',
      memberId: a.memberId,
      memberName: names.get(a.memberId) ?? a.memberId,
      // NOSPACE and CORRUPT on one member are two alerts, with different advice.
      instance: a.alarm,
      summary: `${a.alarm} alarm on ${names.get(a.memberId) ?? a.memberId}`,
    });
  }

  const versions = new Set(obs.members.map((m) => m.status?.version).filter((v): v is string => Boolean(v)));
  if (versions.size > 1)
    add({
      rule: 'version_mismatch',
      severity: 'warning',
      summary: `members run etcd ${[...versions].sort().join(', ')}`,
    });
  for (const m of obs.members) {
    const advisory = m.status ? etcdAdvisory(m.status.version) : null;
    if (!advisory || !m.id) continue;
    add({
      rule: 'etcd_version_advisory',
      severity: advisory.severity,
      memberId: m.id,
      memberName: m.name,
      summary: `${advisory.reason} (on ${m.name})`,
    });
  }
  if (q.voting === 1 || (q.voting > 0 && q.voting % 2 === 0)) {
    add({
      rule: 'cluster_size',
      severity: 'info',
      summary:
        q.voting === 1
          ? 'a single voting member: no failure tolerated'
          : `${q.voting} voting members: an even size adds no tolerance`,
    });
  }

  const maxAgeMs = t.snapshotMaxAgeHours * 3_600_000;
  if (ctx.snapshots.lastVerifiedAt === null || ctx.now - ctx.snapshots.lastVerifiedAt > maxAgeMs) {
    add({
      rule: 'snapshot_stale',
      severity: 'warning',
      summary:
        ctx.snapshots.lastVerifiedAt === null
          ? 'no verified snapshot of this cluster'
          : `no verified snapshot in ${t.snapshotMaxAgeHours} h`,
    });
  } else if (ctx.snapshots.lastVerifiedOffsite === false) {
    add({
      rule: 'snapshot_not_offsite',
      severity: 'warning',
      summary: 'the newest verified snapshot has no off-site copy',
    });
  }

  const r = ctx.snapshots;
  if (r.restoreTestsEnabled && ctx.snapshots.lastVerifiedAt !== null) {
    const newest = r.newestRestoreTest;
    const ageMs = t.restoreTestMaxAgeHours * 3_600_000;
    if (newest?.state === 'failed') {
      add({
        rule: 'snapshot_restore_test',
        severity: 'critical',
        summary: `the newest snapshot failed its restore test: ${newest.reason ?? 'no reason given'}`,
      });
    } else if (
      newest?.state !== 'running' &&
      newest?.state !== 'queued' &&
      // A snapshot just taken waits its turn for a test: not yet a finding.
      !(newest == null && ctx.now - ctx.snapshots.lastVerifiedAt < 3_600_000) &&
      (r.lastRestoreTestedAt == null || ctx.now - r.lastRestoreTestedAt > ageMs)
    ) {
      add({
        rule: 'snapshot_restore_test',
        severity: 'warning',
        summary:
          r.lastRestoreTestedAt == null
            ? `no snapshot has passed a restore test${newest?.state === 'skipped' && newest.reason ? ` (${newest.reason})` : ''}`
            : `no snapshot passed a restore test in ${t.restoreTestMaxAgeHours} h`,
      });
    }
  }

  for (const c of ctx.certificates) {
    const days = (c.validTo - ctx.now) / 86_400_000;
    if (days < t.certWarnDays) {
      const crit = days < t.certCritDays;
      const when = days < 0 ? `expired ${Math.ceil(-days)} day(s) ago` : `expires in ${Math.floor(days)} day(s)`;
      add({
        rule: 'cert_expiring',
        severity: crit ? 'critical' : 'warning',
        memberId: c.memberId,
        memberName: null,
        instance: c.what,
        summary: `${c.what} ${when} (${new Date(c.validTo).toISOString().slice(0, 10)})`,
      });
    }
  }
  const c = ctx.consistency;
  if (c && c.agree === false) {
    const suspect = c.suspect ? c.members.find((m) => m.id === c.suspect) : null;
    add({
      rule: 'members_diverged',
      severity: 'critical',
      memberId: suspect?.id ?? null,
      memberName: suspect?.name ?? null,
      summary: suspect
        ? `${suspect.name} differs from the majority at revision ${c.revision}: its data has diverged`
        : `the members' data differs at revision ${c.revision}: ${c.note ?? 'no majority agrees'}`,
    });
  }
  if (ctx.secrets && ctx.secrets.plain > 0) {
    add({
      rule: 'secrets_plaintext',
      severity: 'warning',
      summary: `${ctx.secrets.plain} of ${ctx.secrets.total} Secrets are stored unencrypted in etcd`,
    });
  }
  return out;
}
