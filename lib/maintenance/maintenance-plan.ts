// What a maintenance action will do, in which order, and whether it is safe now: pure functions of the collector's
// latest observation, so every refusal and every order is unit-tested.
import type { MemberView, Observation } from '@/lib/cluster/status-types';
import type { MaintenancePlan, MaintenanceRequest, PlanStep, Refusal } from './maintenance-types';

/** What the gates look at besides the observation. */
export interface GateContext {
  /** The observation is older than a few poll intervals: nothing about the cluster is known for sure. */
  stale: boolean;
  /** Another maintenance run of this cluster, or null. */
  runningMaintenance: string | null;
  /** A snapshot of this cluster being taken, or null. */
  runningSnapshot: string | null;
}

/** A member that lags the leader by more than this many raft entries is not caught up. */
export const CAUGHT_UP_ENTRIES = 1000;

const voters = (obs: Observation) => obs.members.filter((m) => !m.isLearner);

/**
 * A database above this share of the quota has not had its space reclaimed. etcd raises NOSPACE when a write would
 * pass the quota, so an alarmed member can sit a write's size below it: a disarm there is undone by the next writes.
 */
export const NEAR_QUOTA_RATIO = 0.95;

/** Members whose database is still above NEAR_QUOTA_RATIO of the quota (none while the quota is unknown). */
export function membersNearQuota(obs: Observation): MemberView[] {
  const quota = obs.quotaBackendBytes;
  if (quota === null) return [];
  return obs.members.filter((m) => (m.status?.dbSize ?? 0) > quota * NEAR_QUOTA_RATIO);
}

function leaderOf(obs: Observation): MemberView | null {
  return obs.members.find((m) => m.status?.isLeader) ?? null;
}

/** Members that stand in the way of a safe action, with why; `allowAlarm` lets a member whose only fault is the alarm pass. */
function unhealthyMembers(obs: Observation, allowAlarm: boolean): string[] {
  return obs.members
    .filter((m) => m.health !== 'healthy')
    .filter((m) => !(allowAlarm && alarmOnly(m)))
    .map((m) => `${m.name} is ${m.health}${m.error ? ` (${m.error})` : ''}`);
}

/** etcd's Status lists every active alarm in each member's errors ("memberID:… alarm:NOSPACE"), raised or not. */
const ALARM_ERROR = /^memberID:\s*\d+\s+alarm:\s*NOSPACE\s*$/;

/** Unhealthy only because a NOSPACE alarm is active (its own, or the cluster's as Status reports it). */
const alarmOnly = (m: MemberView) =>
  m.health === 'unhealthy' &&
  ((m.error?.startsWith('alarm active') ?? false) ||
    (m.status !== null && m.status.errors.length > 0 && m.status.errors.every((e) => ALARM_ERROR.test(e))));

/**
 * Quorum as raft has it. An alarm makes a member fail `etcdctl endpoint health`, so the status counts it unhealthy,
 * but raft runs on: for the actions that clear an alarm, a member unhealthy only because of it still counts.
 */
function quorumLost(obs: Observation, recovering: boolean): boolean {
  if (obs.quorum.state !== 'lost') return false;
  if (!recovering || !obs.leader) return true;
  const voting = voters(obs);
  const alive = voting.filter((m) => m.health === 'healthy' || alarmOnly(m)).length;
  return alive < Math.floor(voting.length / 2) + 1;
}

/** The first reason the action is unsafe now, or null. */
export function refusal(obs: Observation | null, req: MaintenanceRequest, ctx: GateContext): Refusal | null {
  if (!obs || !obs.observedAt) {
    return { code: 'no_observation', message: 'the cluster has not been observed yet: wait for the first poll' };
  }
  if (ctx.stale) {
    return {
      code: 'stale_observation',
      message: 'the dashboard has no fresh view of the cluster: it will not change a cluster it cannot see',
    };
  }
  if (ctx.runningMaintenance) {
    return {
      code: 'maintenance_running',
      message: `another maintenance run is in progress for this cluster: ${ctx.runningMaintenance}`,
    };
  }
  if (ctx.runningSnapshot && req.action !== 'disarm') {
    return {
      code: 'snapshot_running',
      message: `a snapshot is being taken: ${ctx.runningSnapshot}; wait for it to finish`,
    };
  }
  const recovering = req.action === 'nospace-recovery' || req.action === 'disarm';
  if (quorumLost(obs, recovering)) {
    return { code: 'quorum_lost', message: 'the cluster has no quorum: nothing can be changed until it is back' };
  }
  // A member already defragmenting fails its health read: named as busy, before the generic "not healthy".
  const busy = obs.members.filter((m) => m.defragmenting);
  if (busy.length > 0) {
    return {
      code: 'defragment_in_progress',
      message: `${busy.map((m) => m.name).join(', ')} is already defragmenting (etcd_disk_defrag_inflight)`,
    };
  }
  const corrupt = obs.alarms.filter((a) => a.alarm === 'CORRUPT');
  if (corrupt.length > 0) {
    const names = corrupt.map((a) => obs.members.find((m) => m.id === a.memberId)?.name ?? a.memberId);
    return {
      code: 'corrupt_alarm',
      message: `a CORRUPT alarm is active on ${names.join(', ')}: its data diverged; replace the member rather than run maintenance on the cluster`,
    };
  }
  const down = unhealthyMembers(obs, recovering);
  if (down.length > 0) {
    return { code: 'cluster_unhealthy', message: `not every member is healthy: ${down.join('; ')}` };
  }
  if (!leaderOf(obs)) return { code: 'no_leader', message: 'no member reports being the leader' };
  const missingStatus = obs.members.filter((m) => !m.status || !m.id);
  if (missingStatus.length > 0) {
    return {
      code: 'status_unavailable',
      message: `no Status from ${missingStatus.map((m) => m.name).join(', ')}: sizes and raft indexes are unknown`,
    };
  }
  const nospace = obs.alarms.filter((a) => a.alarm === 'NOSPACE');
  switch (req.action) {
    case 'disarm': {
      if (nospace.length === 0) return { code: 'no_alarm', message: 'no NOSPACE alarm is active' };
      const quota = obs.quotaBackendBytes;
      if (quota === null) {
        return {
          code: 'quota_unknown',
          message: 'the quota (--quota-backend-bytes) is not known yet: disarming could raise the alarm again at once',
        };
      }
      const full = membersNearQuota(obs);
      if (full.length > 0) {
        return {
          code: 'space_not_reclaimed',
          message: `${full.map((m) => m.name).join(', ')} still above ${NEAR_QUOTA_RATIO * 100} % of the quota: compact and defragment first (run the NOSPACE recovery)`,
        };
      }
      return null;
    }
    case 'nospace-recovery':
      return nospace.length === 0 ? { code: 'no_alarm', message: 'no NOSPACE alarm is active' } : null;
    case 'move-leader':
      return moveLeaderRefusal(obs, req.target);
    case 'defragment':
      return membersRefusal(obs, req.members);
    case 'compact':
      return null;
  }
}

function membersRefusal(obs: Observation, members: MaintenanceRequest['members']): Refusal | null {
  if (!members || members === 'all') return null;
  if (members.length === 0) return { code: 'bad_request', message: 'members: name at least one member, or "all"' };
  for (const id of members) {
    if (!obs.members.some((m) => m.id === id)) {
      return { code: 'bad_request', message: `members: "${id.slice(0, 40)}" is not a member of this cluster` };
    }
  }
  return null;
}

function moveLeaderRefusal(obs: Observation, target: string | undefined): Refusal | null {
  if (!target) return { code: 'bad_request', message: 'target: the member to move the leader to is required' };
  const m = obs.members.find((x) => x.id === target);
  if (!m) return { code: 'bad_request', message: `target: "${target.slice(0, 40)}" is not a member of this cluster` };
  if (m.isLearner) return { code: 'target_learner', message: `${m.name} is a learner: it cannot lead` };
  if (m.status?.isLeader) return { code: 'already_leader', message: `${m.name} is already the leader` };
  const leader = leaderOf(obs);
  const lag = (leader?.status?.raftIndex ?? 0) - (m.status?.raftAppliedIndex ?? 0);
  if (lag > CAUGHT_UP_ENTRIES) {
    return {
      code: 'target_behind',
      message: `${m.name} is ${lag} raft entries behind the leader: wait until it catches up`,
    };
  }
  return null;
}

/** Followers first (learners, then voters, each by name), the leader last: each member blocks while it defragments. */
export function defragmentOrder(obs: Observation, members: MaintenanceRequest['members']): MemberView[] {
  const chosen = obs.members.filter((m) => !members || members === 'all' || (m.id !== null && members.includes(m.id)));
  const rank = (m: MemberView) => (m.status?.isLeader ? 2 : m.isLearner ? 0 : 1);
  return [...chosen].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

function defragmentSteps(obs: Observation, members: MaintenanceRequest['members']): PlanStep[] {
  return defragmentOrder(obs, members).map((m) => {
    const reclaim = Math.max(0, (m.status?.dbSize ?? 0) - (m.status?.dbSizeInUse ?? 0));
    return {
      memberId: m.id,
      memberName: m.name,
      step: 'defragment' as const,
      detail: m.status?.isLeader ? 'the leader, last' : m.isLearner ? 'a learner' : 'a follower',
      expectedReclaimBytes: reclaim,
    };
  });
}

/** The plan for `req` on `obs`; `currentRevision` is the cluster's revision now (for compaction). */
export function buildPlan(
  obs: Observation,
  req: MaintenanceRequest,
  currentRevision: number | null,
  defaultKeepRevisions: number,
): MaintenancePlan {
  const steps: PlanStep[] = [];
  const warnings: string[] = [];
  const leader = leaderOf(obs);
  const nospace = obs.alarms.filter((a) => a.alarm === 'NOSPACE');
  switch (req.action) {
    case 'defragment': {
      steps.push(...defragmentSteps(obs, req.members));
      if (voters(obs).length === 1) {
        warnings.push('a single-member cluster answers nothing while it defragments');
      }
      break;
    }
    case 'compact': {
      const to = compactTarget(req, currentRevision, defaultKeepRevisions);
      steps.push({ memberId: null, memberName: null, step: 'compact', detail: `to revision ${to ?? '?'}` });
      warnings.push(
        `watchers and reads of revisions older than ${to ?? 'the target'} fail with "required revision has been compacted"; clients re-list and watch again`,
      );
      warnings.push('the freed space is returned to the disk only by a defragment');
      break;
    }
    case 'disarm': {
      for (const a of nospace) {
        const m = obs.members.find((x) => x.id === a.memberId);
        steps.push({ memberId: a.memberId, memberName: m?.name ?? null, step: 'disarm', detail: 'NOSPACE' });
      }
      steps.push({ memberId: null, memberName: null, step: 'write-check', detail: 'a write succeeds again' });
      break;
    }
    case 'nospace-recovery': {
      steps.push({
        memberId: null,
        memberName: null,
        step: 'compact',
        detail: `to the current revision ${currentRevision ?? '?'}: keeps only the newest value of each key`,
      });
      steps.push(...defragmentSteps(obs, 'all'));
      for (const a of nospace) {
        const m = obs.members.find((x) => x.id === a.memberId);
        steps.push({ memberId: a.memberId, memberName: m?.name ?? null, step: 'disarm', detail: 'NOSPACE' });
      }
      steps.push({ memberId: null, memberName: null, step: 'write-check', detail: 'a write succeeds again' });
      warnings.push('compacting to the current revision drops every older revision: watchers re-list');
      break;
    }
    case 'move-leader': {
      const target = obs.members.find((m) => m.id === req.target);
      steps.push({
        memberId: req.target ?? null,
        memberName: target?.name ?? null,
        step: 'move-leader',
        detail: `from ${leader?.name ?? 'the leader'} to ${target?.name ?? req.target ?? '?'}`,
      });
      break;
    }
  }
  return { action: req.action, clusterId: obs.clusterId, steps, warnings };
}

/** The revision a compaction goes to: the one asked for, else the current revision less the revisions kept. */
export function compactTarget(
  req: MaintenanceRequest,
  currentRevision: number | null,
  defaultKeepRevisions: number,
): number | null {
  if (req.revision !== undefined) return req.revision;
  if (currentRevision === null) return null;
  return Math.max(1, currentRevision - (req.keepRevisions ?? defaultKeepRevisions));
}
