// How long after a member dies does GET /api/clusters/default/status show it? Measured against a real cluster.
// Run alone with `npx tsx bench/detect-time.ts [--quick]`; bench/run.ts runs it and writes the numbers to docs/.
import type { ClusterStatus, MemberHealth, QuorumState } from '../lib/cluster/status-types';
import { summarize, type Summary } from './lib/stats';
import { isAllHealthy, readStatus, sleep, waitForStatus, withStack, type BenchStack } from './lib/stack';
import { stackFigureMain } from './lib/stack-figure';

/** How often the benchmark reads the API while it waits for a verdict (the brief asks for 20–50 ms). */
const API_POLL_MS = 25;
const DETECT_TIMEOUT_MS = 30_000;

type Role = 'follower' | 'leader';

export interface KillTrial {
  trial: number;
  killed: string;
  role: Role;
  /** Random wait before the kill, so kills land at every phase of the dashboard's poll cycle. */
  jitterMs: number;
  /** From just before SIGKILL to the first API answer that shows the verdict; null when it never came. */
  detectedMs: number | null;
  /** The same, but to the collector's observedAt of that answer (wall clock): the poll that saw it. */
  observedMs: number | null;
  /** The quorum state in that first answer. */
  quorumShown: QuorumState | null;
  /** Every member's health in that first answer, by name. */
  membersShown: Record<string, MemberHealth> | null;
  /** Leader kills only: until the API names a different, reachable leader. */
  newLeaderMs?: number | null;
  /** Second-member kills only: the member that was already down. */
  alreadyDown?: string;
}

export interface DetectResult {
  trialsPerScenario: number;
  pollIntervalMs: number;
  apiPollMs: number;
  followerKilled: { summary: Summary | null; failures: number; trials: KillTrial[] };
  leaderKilled: {
    unreachable: Summary | null;
    newLeader: Summary | null;
    failures: number;
    trials: KillTrial[];
  };
  secondKilled: {
    summary: Summary | null;
    byRole: Record<Role, Summary | null>;
    failures: number;
    trials: KillTrial[];
  };
}

interface Seen {
  ms: number;
  status: ClusterStatus;
}

/**
 * Reads the API every API_POLL_MS from `t0` on and records, per condition, the first answer for which it holds.
 * Times are taken when the answer has arrived, so they include the API's own latency (a few ms).
 */
async function watchApi<K extends string>(
  url: string,
  t0: number,
  conditions: Record<K, (s: ClusterStatus) => boolean>,
  timeoutMs: number,
): Promise<Record<K, Seen | null>> {
  const keys = Object.keys(conditions) as K[];
  const seen = Object.fromEntries(keys.map((k) => [k, null])) as Record<K, Seen | null>;
  while (performance.now() - t0 < timeoutMs && keys.some((k) => seen[k] === null)) {
    const started = performance.now();
    try {
      const status = await readStatus(url);
      const at = performance.now();
      for (const k of keys) if (seen[k] === null && conditions[k](status)) seen[k] = { ms: at - t0, status };
    } catch {
      // the API itself never depends on etcd; a failed read is simply retried
    }
    await sleep(Math.max(0, API_POLL_MS - (performance.now() - started)));
  }
  return seen;
}

function memberByName(s: ClusterStatus, name: string) {
  return s.members.find((m) => m.name === name);
}

/** Starts whatever is down, then waits until etcd and the API both say all three members are healthy. */
async function restoreAll(stack: BenchStack): Promise<ClusterStatus> {
  const { cluster } = stack;
  for (let i = 0; i < cluster.state.members.length; i++) if (!cluster.isRunning(i)) cluster.startMember(i);
  await cluster.waitHealthy(30_000);
  return waitForStatus(stack.statusUrl, (s) => isAllHealthy(s), 30_000, 'all members healthy');
}

/** Restores the cluster, waits a random part of a poll interval, and returns a fresh all-healthy status. */
async function readyForKill(
  stack: BenchStack,
  pollIntervalMs: number,
): Promise<{ status: ClusterStatus; jitterMs: number }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    await restoreAll(stack);
    const jitterMs = Math.round(Math.random() * pollIntervalMs);
    await sleep(jitterMs);
    const status = await readStatus(stack.statusUrl);
    if (isAllHealthy(status)) return { status, jitterMs };
  }
  throw new Error('the cluster did not stay healthy long enough to start a trial');
}

function split(stack: BenchStack, s: ClusterStatus): { leader: string; followers: string[] } {
  const leader = s.leader?.name;
  if (!leader) throw new Error('no leader in an all-healthy status');
  const followers = s.members.map((m) => m.name).filter((n) => n !== leader);
  // Resolve now, so a name that is not one of ours fails before anything is killed.
  for (const n of [leader, ...followers]) stack.cluster.indexOfName(n);
  return { leader, followers };
}

/** SIGKILLs one member (timestamp right before the signal) and watches the API for the given verdicts. */
async function killAndWatch<K extends string>(
  stack: BenchStack,
  name: string,
  conditions: Record<K, (s: ClusterStatus) => boolean>,
): Promise<{ seen: Record<K, Seen | null>; killedAtWallMs: number }> {
  const index = stack.cluster.indexOfName(name);
  const killedAtWallMs = Date.now();
  const t0 = performance.now();
  // stopMember sends the signal synchronously, then waits for the exit; the API is watched meanwhile.
  const killing = stack.cluster.stopMember(index, 'SIGKILL');
  const [seen] = await Promise.all([watchApi(stack.statusUrl, t0, conditions, DETECT_TIMEOUT_MS), killing]);
  return { seen, killedAtWallMs };
}

/** What a trial records of the first answer that showed its verdict, or nulls when none came. */
function firstVerdict(seen: Seen | null | undefined, killedAtWallMs: number) {
  const observedAt = seen?.status.observedAt;
  return {
    detectedMs: seen?.ms ?? null,
    observedMs: observedAt ? Date.parse(observedAt) - killedAtWallMs : null,
    quorumShown: seen?.status.quorum.state ?? null,
    membersShown: seen ? Object.fromEntries(seen.status.members.map((m) => [m.name, m.health])) : null,
  } satisfies Partial<KillTrial>;
}

function collect(trials: KillTrial[], pick: (t: KillTrial) => number | null | undefined): number[] {
  return trials.map(pick).filter((v): v is number => typeof v === 'number');
}

function log(line: string): void {
  console.log(`detect-time: ${line}`);
}

function fmt(ms: number | null | undefined): string {
  return typeof ms === 'number' ? `${Math.round(ms)} ms` : 'timed out';
}

/** 20 trials per scenario (BENCH_TRIALS; the issue asks for at least 10); `quick` runs 3, to try the benchmark out. */
export async function runDetectTime(quick = false): Promise<DetectResult> {
  const trials = quick ? 3 : Number(process.env.BENCH_TRIALS ?? 20);
  if (!Number.isInteger(trials) || trials < (quick ? 1 : 10))
    throw new Error(`BENCH_TRIALS must be an integer ≥ 10, got ${trials}`);
  return withStack('detect', async (stack) => {
    const first = await restoreAll(stack);
    const pollIntervalMs = first.pollIntervalMs;
    log(`cluster and dashboard up (poll interval ${pollIntervalMs} ms); ${trials} trials per scenario`);

    // (a) a follower killed: that member unreachable and quorum at-risk.
    const follower: KillTrial[] = [];
    for (let t = 0; t < trials; t++) {
      const { status, jitterMs } = await readyForKill(stack, pollIntervalMs);
      const { followers } = split(stack, status);
      const victim = followers[t % followers.length];
      if (!victim) throw new Error('no follower to kill');
      const { seen, killedAtWallMs } = await killAndWatch(stack, victim, {
        detected: (s) => memberByName(s, victim)?.health === 'unreachable' && s.quorum.state === 'at-risk',
      });
      follower.push({
        trial: t + 1,
        killed: victim,
        role: 'follower',
        jitterMs,
        ...firstVerdict(seen.detected, killedAtWallMs),
      });
      log(`(a) follower ${victim} killed: at-risk after ${fmt(seen.detected?.ms)}`);
    }

    // (b) the leader killed: old leader unreachable; separately, a new leader in the API.
    const leader: KillTrial[] = [];
    for (let t = 0; t < trials; t++) {
      const { status, jitterMs } = await readyForKill(stack, pollIntervalMs);
      const old = status.leader;
      if (!old) throw new Error('no leader');
      const { seen, killedAtWallMs } = await killAndWatch(stack, old.name, {
        unreachable: (s) => memberByName(s, old.name)?.health === 'unreachable',
        newLeader: (s) =>
          s.leader !== null &&
          s.leader.id !== old.id &&
          memberByName(s, s.leader.name)?.health === 'healthy' &&
          s.quorum.state === 'at-risk',
      });
      leader.push({
        trial: t + 1,
        killed: old.name,
        role: 'leader',
        jitterMs,
        ...firstVerdict(seen.unreachable, killedAtWallMs),
        newLeaderMs: seen.newLeader?.ms ?? null,
      });
      log(
        `(b) leader ${old.name} killed: unreachable after ${fmt(seen.unreachable?.ms)} ` +
          `(quorum shown: ${seen.unreachable?.status.quorum.state ?? '-'}), new leader after ${fmt(seen.newLeader?.ms)}`,
      );
    }

    // (c) one follower already down, a second member killed: quorum lost.
    // The second victim alternates between the other follower and the leader; both are recorded.
    const second: KillTrial[] = [];
    for (let t = 0; t < trials; t++) {
      const ready = await readyForKill(stack, pollIntervalMs);
      const before = split(stack, ready.status);
      const down = before.followers[t % before.followers.length];
      if (!down) throw new Error('no follower to stop');
      await stack.cluster.stopMember(stack.cluster.indexOfName(down), 'SIGKILL');
      const atRisk = await waitForStatus(
        stack.statusUrl,
        (s) => !s.stale && memberByName(s, down)?.health === 'unreachable' && s.quorum.state === 'at-risk',
        30_000,
        `${down} unreachable and quorum at-risk`,
      );
      const jitterMs = Math.round(Math.random() * pollIntervalMs);
      await sleep(jitterMs);
      const leaderName = atRisk.leader?.name;
      const otherFollower = atRisk.members.map((m) => m.name).find((n) => n !== down && n !== leaderName);
      const role: Role = t % 2 === 0 ? 'follower' : 'leader';
      const victim = role === 'leader' ? leaderName : otherFollower;
      if (!victim) throw new Error(`no ${role} left to kill`);
      const { seen, killedAtWallMs } = await killAndWatch(stack, victim, {
        lost: (s) => s.quorum.state === 'lost',
      });
      second.push({
        trial: t + 1,
        killed: victim,
        role,
        alreadyDown: down,
        jitterMs,
        ...firstVerdict(seen.lost, killedAtWallMs),
      });
      log(`(c) ${down} down, ${role} ${victim} killed: lost after ${fmt(seen.lost?.ms)}`);
    }
    await restoreAll(stack);

    const failures = (ts: KillTrial[]) => ts.filter((t) => t.detectedMs === null).length;
    return {
      trialsPerScenario: trials,
      pollIntervalMs,
      apiPollMs: API_POLL_MS,
      followerKilled: {
        summary: summarize(collect(follower, (t) => t.detectedMs)),
        failures: failures(follower),
        trials: follower,
      },
      leaderKilled: {
        unreachable: summarize(collect(leader, (t) => t.detectedMs)),
        newLeader: summarize(collect(leader, (t) => t.newLeaderMs)),
        failures: failures(leader) + leader.filter((t) => t.newLeaderMs === null).length,
        trials: leader,
      },
      secondKilled: {
        summary: summarize(collect(second, (t) => t.detectedMs)),
        byRole: {
          follower: summarize(
            collect(
              second.filter((t) => t.role === 'follower'),
              (t) => t.detectedMs,
            ),
          ),
          leader: summarize(
            collect(
              second.filter((t) => t.role === 'leader'),
              (t) => t.detectedMs,
            ),
          ),
        },
        failures: failures(second),
        trials: second,
      },
    };
  });
}

if (require.main === module) {
  stackFigureMain('detect-time', ({ quick }) => runDetectTime(quick));
}
