// Quorum arithmetic as etcd's raft does it: learners do not vote, a majority of voters must be healthy.
import type { MemberHealth, Quorum, QuorumState } from './status-types';

export interface QuorumInput {
  isLearner: boolean;
  health: MemberHealth;
  /** Defragmenting: it blocks reads and writes while it runs, but keeps its raft log and still votes. */
  defragmenting?: boolean;
}

export function requiredForQuorum(voting: number): number {
  return Math.floor(voting / 2) + 1;
}

export function computeQuorum(members: QuorumInput[], hasLeader: boolean): Quorum {
  const voters = members.filter((m) => !m.isLearner);
  const voting = voters.length;
  const healthy = voters.filter((m) => m.health === 'healthy').length;
  // A member that fails its health read only because it is defragmenting is busy, not down: it still votes.
  const busy = voters.filter((m) => m.health !== 'healthy' && m.defragmenting).length;
  const required = requiredForQuorum(voting);
  const tolerance = healthy + busy - required;
  let state: QuorumState;
  if (voting === 0 || healthy + busy < required || !hasLeader) state = 'lost';
  else if (healthy + busy === voting) state = 'healthy';
  else if (tolerance === 0) state = 'at-risk';
  else state = 'degraded';
  return { members: members.length, voting, healthy, required, tolerance, state, ...(busy > 0 ? { busy } : {}) };
}

/** "2 of 3 healthy, quorum 2, can lose 0 more" */
export function describeQuorum(q: Quorum): string {
  // Enough healthy voters but state lost means no leader (an election is under way or failing).
  const lose =
    q.tolerance < 0
      ? `${-q.tolerance} short of quorum`
      : q.state === 'lost'
        ? 'no leader elected'
        : `can lose ${q.tolerance} more`;
  const busy = q.busy ? `, ${q.busy} busy defragmenting` : '';
  return `${q.healthy} of ${q.voting} healthy${busy}, quorum ${q.required}, ${lose}`;
}

/** Sizes that etcd operators are warned about: no fault tolerance, or a voter that adds none. */
export function sizeWarning(voting: number): string | null {
  if (voting === 1) return 'Single-member cluster: it tolerates no failure. Run 3 or 5 members in production.';
  if (voting > 0 && voting % 2 === 0) {
    return `${voting} voting members tolerate no more failures than ${voting - 1}: an even size adds risk, not safety.`;
  }
  return null;
}

type TroubleInput = { name: string; isLearner: boolean; health: MemberHealth; defragmenting?: boolean };

/**
 * The voting members not healthy, by name: "down" when they do not answer, "unhealthy" when they answer but fail the
 * health read (as every member does without quorum). Busy (defragmenting) members are neither.
 */
export function memberTrouble(members: ReadonlyArray<TroubleInput>): { down: string[]; unhealthy: string[] } {
  // By name, so the line reads the same at every poll whatever order the member list comes in.
  const voters = members
    .filter((m) => !m.isLearner && m.health !== 'healthy' && !m.defragmenting)
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    down: voters.filter((m) => m.health === 'unreachable').map((m) => m.name),
    unhealthy: voters.filter((m) => m.health === 'unhealthy').map((m) => m.name),
  };
}

/** "down: m1, m2 · unhealthy: m0", or null when every voting member is healthy or busy. */
export function troubleText(members: ReadonlyArray<TroubleInput>): string | null {
  const { down, unhealthy } = memberTrouble(members);
  const parts = [
    ...(down.length > 0 ? [`down: ${down.join(', ')}`] : []),
    ...(unhealthy.length > 0 ? [`unhealthy: ${unhealthy.join(', ')}`] : []),
  ];
  return parts.length > 0 ? parts.join(' · ') : null;
}

export type LeaderLine =
  { kind: 'leader'; name: string; id: string } | { kind: 'unnamed' } | { kind: 'none'; lastLeader: string | null };

/**
 * What to say about the leader, never contradicting the quorum state: with quorum lost, a member that still calls
 * itself leader (it steps down within an election timeout) leads nothing, so it is named only as the last leader.
 */
export function leaderLine(q: Pick<Quorum, 'state'>, leader: { name: string; id: string } | null): LeaderLine {
  if (q.state === 'lost') return { kind: 'none', lastLeader: leader?.name ?? null };
  if (leader) return { kind: 'leader', name: leader.name, id: leader.id };
  return { kind: 'unnamed' };
}
