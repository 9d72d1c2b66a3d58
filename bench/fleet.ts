// Figure 9 (issue 18): a fleet of clusters sharded across dashboard replicas on PostgreSQL. The claim measured: etcd's
// load does not grow with the number of replicas, because each cluster is polled by exactly one of them (its shard
// owner) and the others show the view it publishes. In one run, with the same etcd members up: (a) one dashboard
// process on PostgreSQL, (b) three replicas on a fresh database of the same PostgreSQL server; each watches the same N
// configured clusters at a 1 s poll, and etcd counts the requests it receives.
// Run alone with `npx tsx bench/fleet.ts [--quick]`; bench/run.ts runs it and writes the numbers to docs/.
// BENCH_FLEET_KEEP_LOGS=<dir> copies the dashboards' and PostgreSQL's logs there before the work folder is removed.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import { ETCD_RELEASES } from '../scripts/lib/etcd-versions';
import type { LocalCluster } from '../scripts/lib/local-cluster';
import { postgresTestParent, startPostgres, type PostgresServer } from '../scripts/lib/postgres';
import { writeDashboardConfig } from '../e2e/support/config-file';
import type { NocResponse } from '../lib/alerts/noc-types';
import { fallbackAfterMs, followEveryMs, shardLeases, staleAfterMs } from '../lib/cluster/staleness';
import { ownerOf } from '../lib/replicas/rendezvous';
import type { ClusterStatus } from '../lib/cluster/status-types';
import { buildId, distDir, ROOT } from './lib/machine';
import { FLEET_DASHBOARD_PORTS, FLEET_ETCD_BASE, FLEET_POSTGRES_PORT } from './lib/ports';
import { cpuSeconds, watchProcess, type ProcessUsage } from './lib/proc';
import { fetchMetrics, sumCounter } from './lib/prom-text';
import { figureMain } from './lib/results';
import {
  assertBuild,
  assertPortFree,
  describeStatus,
  emptyWorkDir,
  freshCluster,
  isAllHealthy,
  LOW_CPU_ETCD_ENV,
  readStatus,
  requestsPerPoll,
  sleep,
  stopOnInterrupt,
  tail,
} from './lib/stack';
import { round3 } from './lib/stats';

const WORK = path.join(ROOT, '.cluster', 'bench-fleet');
const MEMBERS = 3;
const REQUESTS_PER_POLL = requestsPerPoll(MEMBERS);
/** Goal for (b) ÷ (a): three replicas may add at most 5 % to etcd's load (unsharded, it would be about 3). */
const TARGET_RATIO = 1.05;
/** Written in the file beside the poll interval (the dashboard's default), so the timings below follow from both. */
const PROBE_TIMEOUT_MS = 800;
/**
 * Each member's /metrics scraped every 15 s, as Prometheus commonly scrapes etcd, rather than the dashboard's 5 s
 * default for a handful of clusters: 900 members at 5 s would be 180 mTLS connections a second for the scrapes alone.
 */
const METRICS_INTERVAL_MS = 15_000;
/** Goal for each replica of (b): under one core. */
const TARGET_CPU_PERCENT = 100;
/** Goal after a replica is killed: every cluster polled again, as every survivor shows it, within 10 s. */
const TARGET_REASSIGN_SECONDS = 10;

/** The low-CPU settings for many members on a small machine (bench/lib/stack.ts). */
const ETCD_ENV = LOW_CPU_ETCD_ENV;

interface Settings {
  /** Real 3-member etcd clusters. */
  etcdClusters: number;
  /** Entries in the dashboard's configuration, spread round-robin over the real clusters under their own ids. */
  dashboardClusters: number;
  /** The configured poll interval of every cluster (the file's `pollIntervalMs`). */
  pollIntervalMs: number;
  warmupSeconds: number;
  windowSeconds: number;
  /** The replicas' split must hold unchanged this long before the warm-up starts. */
  settledSeconds: number;
}

// 300 configured clusters on 5 real ones are polled every 10 s: 30 polls a second, which this 2-core machine carries
// beside the 15 etcd members (one Go thread each: on 3 real clusters, 100 clients' polls and scrapes per member kept
// the members from answering within the probe deadline), PostgreSQL and three replicas; at 5 s one process kept up
// (62 % of a core) but three replicas beside everything else overloaded the machine. At a 1 s poll the fleet would
// ask 300 polls a second (2,400 etcd requests): more than two cores for the dashboards alone. The CPU per poll
// measured here is what carries over to other intervals.
const FULL: Settings = {
  etcdClusters: 5,
  dashboardClusters: 300,
  pollIntervalMs: 10_000,
  warmupSeconds: 20,
  windowSeconds: 60,
  settledSeconds: 3,
};
const QUICK: Settings = {
  etcdClusters: 3,
  dashboardClusters: 9,
  pollIntervalMs: 1000,
  warmupSeconds: 10,
  windowSeconds: 30,
  settledSeconds: 3,
};

/** What a replica's /readyz said about its shards. */
export interface ShardsReading {
  owned: number;
  of: number;
  /** Clusters it polled itself only because their owner's view had gone old. */
  fallback: number;
}

export interface ReplicaWindow {
  port: number;
  /** The replica's id and whether it led, as /readyz said right after the window. */
  replicaId: string | null;
  leads: boolean;
  usage: ProcessUsage;
  /** Owned clusters when the window began and ended, and the range seen in the once-a-second /readyz reads. */
  ownedAtStart: number;
  ownedAtEnd: number;
  ownedMin: number;
  ownedMax: number;
  /** The most clusters it polled as a fallback in any /readyz read of the window, and in how many reads any. */
  fallbackMax: number;
  readsWithFallback: number;
  readyzReads: number;
  /** Seconds into the window of the reads that showed fallback polling, with how many clusters: "12.0 s: 15". */
  fallbackSeen: string[];
  /**
   * Fallback polls begun during the window, counted in the replica's log ("polling cluster <id> itself: …"): each is
   * at least one poll more than sharding alone sends. Most end within a /readyz interval, so the reads above miss them.
   */
  fallbackStarts: number;
  /** The same log's "… its owner's view is fresh again" lines: fallback polling that ended within the window. */
  fallbackEnds: number;
}

export interface StatusProbe {
  /** The clusters read on every replica once a second. */
  clusterIds: string[];
  reads: number;
  /** Answers flagged `stale` by the dashboard. */
  stale: number;
  /** Answers not fresh with three healthy members and a healthy quorum (nothing was broken). */
  notAllHealthy: number;
  /** Requests that failed (HTTP error or no answer within 2 s). */
  failed: number;
  /** servedAt − observedAt: how old the poll shown was. */
  ageP50Ms: number;
  ageMaxMs: number;
  /** The longest round of the probe (every read of one second, together), in ms: over 1000 when answers were slow. */
  longestRoundMs: number;
  /** The first few unexpected answers, as one line each, with the seconds into the window they were answered. */
  examples: string[];
}

/** What the survivors showed after one of the three replicas was killed with SIGKILL (run (b) only). */
export interface Reassignment {
  killedPort: number;
  killedLed: boolean;
  /** Clusters the killed replica polled for the record when it was killed. */
  killedOwned: number;
  /**
   * Seconds from the SIGKILL until every cluster the killed replica polled, on every surviving replica's NOC wall,
   * showed a poll observed after the kill (null: not within the deadline). The goal is for this one.
   */
  reassignedRepolledSeconds: number | null;
  /** The same for the median (survivor, reassigned cluster) pair. */
  reassignedRepolledP50Seconds: number | null;
  /**
   * The same as reassignedRepolledSeconds for every configured cluster: the survivors' own clusters are polled at
   * their usual phase, so this is about a poll interval (plus a view read) whatever the reassignment takes.
   */
  everyClusterRepolledSeconds: number | null;
  /**
   * The oldest poll a survivor's NOC wall showed meanwhile (ms between its observation and the read): for the killed
   * replica's clusters (their gap) and for the others (never more than a poll interval and a view read).
   */
  oldestShownMs: { reassigned: number; others: number };
  /** Seconds until the survivors' shards checks added up to every cluster with none polled as a fallback. */
  shardsSettledSeconds: number | null;
  /** Seconds until a survivor led, when the killed replica had led; null otherwise or not within the deadline. */
  leaderTakeoverSeconds: number | null;
  /** The survivors' NOC wall read every 500 ms meanwhile: tiles shown stale, not all healthy, and failed reads. */
  nocReads: number;
  tilesRead: number;
  staleTiles: number;
  notHealthyTiles: number;
  failedReads: number;
  nocLongestMs: number;
  /**
   * Summed over the survivors' /metrics at the end: polls not shown because the replica was held up, and first polls
   * after the takeover held back (a call missed its deadline), since each started.
   */
  pollsHeldUp: number | null;
  pollsHeldBack: number | null;
  examples: string[];
  meetsTarget: boolean;
}

export interface FleetRun {
  label: 'one' | 'three';
  replicas: number;
  seconds: number;
  /** gRPC requests every member of every real cluster accepted (grpc_server_started_total), per second. */
  etcdRequestsPerSecond: number;
  /** The same divided by the configured clusters and the 8 calls of a poll: about 1 when each is polled once a second. */
  pollsPerSecondPerCluster: number;
  /** Requests per second by gRPC method, summed over every member. */
  etcdRequestsByMethod: Record<string, number>;
  perReplica: ReplicaWindow[];
  /** The replicas together: CPU as % of one core, mean and peak of the summed RSS samples (sum of means, sum of peaks). */
  total: { cpuPercentOfOneCore: number; rssMeanBytes: number; rssPeakSumBytes: number };
  /** The PostgreSQL server: postmaster and every backend, CPU from /proc (children reaped meanwhile included). */
  postgresCpuPercentOfOneCore: number;
  /** Every etcd member's CPU over the window, as % of one core. */
  etcdCpuPercentOfOneCore: number;
  leaderChanges: number;
  probe: StatusProbe;
  /** From every replica starting to the split settled and every cluster healthy on every replica. */
  settleSeconds: number;
  loadAverage1m: number;
  /** After the window of (b): one replica killed, the survivors watched. */
  reassignment: Reassignment | null;
}

export interface FleetResult {
  etcdVersion: string;
  etcdClusters: number;
  membersPerCluster: number;
  dashboardClusters: number;
  /** Whether the configuration accepted several entries (own ids) for the same etcd endpoints: it does. */
  duplicateEndpointsAllowed: boolean;
  pollIntervalMs: number;
  /** What the poll interval and probe timeout make of the replicas' timings (lib/cluster/staleness.ts). */
  timing: {
    probeTimeoutMs: number;
    staleAfterMs: number;
    fallbackAfterMs: number;
    followEveryMs: number;
    /** The cluster and membership leases' length and how often a replica renews them (older records: 6000 / 2000). */
    shardLeaseMs?: number;
    shardRenewMs?: number;
    /** How often a replica runs a shard round; older records renewed in the round (shardRoundMs, no shardRenewMs). */
    shardRoundMs?: number;
  };
  /** Every member's /metrics scraped this often (the file's metricsIntervalMs). */
  metricsIntervalMs?: number;
  warmupSeconds: number;
  windowSeconds: number;
  etcdEnvironment: Record<string, string>;
  postgres: { version: string; sameServerForBoth: boolean };
  one: FleetRun;
  three: FleetRun;
  /** (b) ÷ (a) of etcd requests/s. */
  ratio: number;
  targetRatio: number;
  meetsTarget: boolean;
  /** Every replica of (b) under one core (as % of one core: the busiest). */
  busiestReplicaCpuPercent: number;
  targetCpuPercent: number;
  meetsCpuTarget: boolean;
  targetReassignSeconds: number;
}

function timingOf(pollIntervalMs: number): FleetResult['timing'] {
  const stale = staleAfterMs(pollIntervalMs, PROBE_TIMEOUT_MS);
  return {
    probeTimeoutMs: PROBE_TIMEOUT_MS,
    staleAfterMs: stale,
    fallbackAfterMs: fallbackAfterMs(pollIntervalMs, PROBE_TIMEOUT_MS, stale),
    followEveryMs: followEveryMs(pollIntervalMs),
    ...shardLeases,
  };
}

function log(line: string): void {
  console.log(`fleet: ${line}`);
}

const clusterId = (i: number) => `fleet-${String(i).padStart(3, '0')}`;

/**
 * N entries over the K real clusters (entry i on cluster i mod K), with anonymous viewing and `pollIntervalMs` in the
 * file itself. The configuration refuses only duplicate ids, so one etcd cluster may be watched under several.
 */
function writeConfig(file: string, clusters: LocalCluster[], entries: number, pollIntervalMs: number): string {
  writeDashboardConfig(
    file,
    Array.from({ length: entries }, (_, i) => {
      const c = clusters[i % clusters.length] as LocalCluster;
      return { id: clusterId(i), name: `${clusterId(i)} (${c.state.name})`, cluster: c.state };
    }),
    { anonymous: 'viewer' },
  );
  const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(
    file,
    stringify({ pollIntervalMs, probeTimeoutMs: PROBE_TIMEOUT_MS, metricsIntervalMs: METRICS_INTERVAL_MS, ...doc }),
  );
  return file;
}

// ── readings from etcd, PostgreSQL and the replicas ──

/** grpc_server_started_total by grpc_method (a regex over the exposition text, as bench/lib/prom-text.ts does). */
function startedByMethod(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^grpc_server_started_total\{([^}]*)\}\s+(\S+)/gm)) {
    const method = /grpc_method="([^"]*)"/.exec(m[1] ?? '')?.[1] ?? '?';
    out.set(method, (out.get(method) ?? 0) + Number(m[2]));
  }
  return out;
}

interface EtcdCounters {
  at: number;
  started: number;
  byMethod: Map<string, number>;
  leaderChanges: number;
  cpuSeconds: number;
  pids: Array<number | null>;
}

async function readEtcd(clusters: LocalCluster[]): Promise<EtcdCounters> {
  const members = clusters.flatMap((c) => c.state.members);
  const texts = await Promise.all(members.map((m) => fetchMetrics(m.metricsUrl)));
  const byMethod = new Map<string, number>();
  for (const t of texts) for (const [k, v] of startedByMethod(t)) byMethod.set(k, (byMethod.get(k) ?? 0) + v);
  return {
    at: performance.now(),
    started: texts.reduce((sum, t) => sum + sumCounter(t, 'grpc_server_started_total'), 0),
    byMethod,
    leaderChanges: texts.reduce((sum, t) => sum + sumCounter(t, 'etcd_server_leader_changes_seen_total'), 0),
    cpuSeconds: members.reduce((sum, m) => sum + (m.pid === null ? 0 : (cpuSeconds(m.pid) ?? 0)), 0),
    pids: members.map((m) => m.pid),
  };
}

/** USER_HZ, the unit of the times in /proc/<pid>/stat (100 on every common Linux). */
const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime + cutime + cstime (its own CPU and that of its children it has reaped), seconds; 0 once gone. */
function cpuWithReaped(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / clockTicks;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * The PostgreSQL server's CPU so far: the postmaster with what it reaped, plus every live backend and auxiliary
 * process (its direct children). A backend that exits between two readings moves from the second sum to the first,
 * so a difference of two readings counts it once.
 */
function postgresCpuSeconds(postmaster: number): number {
  return childrenOf(postmaster).reduce((sum, p) => sum + cpuWithReaped(p), cpuWithReaped(postmaster));
}

const SHARDS_RE = /polls (\d+) of (\d+) cluster\(s\) for the record(?:; (\d+) more itself)?/;

interface Readyz {
  replicaId: string | null;
  leads: boolean;
  shards: ShardsReading | null;
}

async function readReadyz(d: DashboardProcess): Promise<Readyz> {
  const res = await fetch(`${d.url}/readyz`, { signal: AbortSignal.timeout(3000) });
  const body = (await res.json()) as { checks?: Array<{ name: string; detail: string }> };
  const checks = body.checks ?? [];
  const leader = checks.find((c) => c.name === 'leader')?.detail ?? '';
  const m = SHARDS_RE.exec(checks.find((c) => c.name === 'shards')?.detail ?? '');
  return {
    replicaId: /^replica (\S+)/.exec(leader)?.[1] ?? null,
    leads: / leads \(generation \d+\)$/.test(leader),
    shards: m ? { owned: Number(m[1]), of: Number(m[2]), fallback: Number(m[3] ?? 0) } : null,
  };
}

const statusUrl = (d: DashboardProcess, id: string) => `${d.url}/api/clusters/${id}/status`;

/** The NOC wall's one request: every configured cluster's status on one replica. */
async function readNoc(d: DashboardProcess, timeoutMs = 5000): Promise<NocResponse> {
  const res = await fetch(`${d.url}/api/noc`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${d.url}/api/noc: HTTP ${res.status}`);
  return (await res.json()) as NocResponse;
}

/** Every replica shows every configured cluster healthy and fresh (its NOC tiles). Returns what is not, for the log. */
async function notHealthyEverywhere(replicas: DashboardProcess[], ids: string[]): Promise<string[]> {
  const out: string[] = [];
  await Promise.all(
    replicas.map(async (d) => {
      try {
        const byId = new Map((await readNoc(d)).tiles.map((t) => [t.status.clusterId, t.status]));
        for (const id of ids) {
          const s = byId.get(id);
          if (!s) out.push(`${d.port} ${id}: no tile`);
          else if (!isAllHealthy(s, MEMBERS)) out.push(`${d.port} ${id}: ${describeStatus(s)}`);
        }
      } catch (err) {
        out.push(`${d.port}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  );
  return out;
}

/**
 * Waits until every replica shows every cluster healthy and the replicas' owned counts sum to N with no replica
 * polling a cluster as a fallback, and that split has held unchanged for `settledSeconds`.
 */
async function waitSettled(
  replicas: DashboardProcess[],
  ids: string[],
  settings: Settings,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing read yet';
  let stableSince: number | null = null;
  let lastSplit = '';
  while (Date.now() < deadline) {
    try {
      const unhealthy = await notHealthyEverywhere(replicas, ids);
      const shards = await Promise.all(replicas.map((d) => readReadyz(d)));
      const owned = shards.map((r) => r.shards?.owned ?? -1);
      const fallback = shards.reduce((sum, r) => sum + (r.shards?.fallback ?? 0), 0);
      const split = owned.join('+');
      const settled =
        unhealthy.length === 0 &&
        fallback === 0 &&
        owned.every((o) => o >= 0) &&
        owned.reduce((a, b) => a + b) === ids.length;
      last = `owned ${split} of ${ids.length}, ${fallback} fallback, ${unhealthy.length} answers not healthy${unhealthy[0] ? ` (${unhealthy[0]})` : ''}`;
      if (settled && split === lastSplit && stableSince !== null) {
        if (Date.now() - stableSince >= settings.settledSeconds * 1000) return;
      } else {
        stableSince = settled ? Date.now() : null;
      }
      lastSplit = split;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
      stableSince = null;
    }
    await sleep(1000);
  }
  throw new Error(`the replicas did not settle within ${timeoutMs} ms (last: ${last})`);
}

/** Once a second until stopped: each replica's status for a few clusters, and its /readyz. */
function startProbe(replicas: DashboardProcess[], ids: string[]) {
  const ages: number[] = [];
  const examples: string[] = [];
  const counts = { reads: 0, stale: 0, notAllHealthy: 0, failed: 0 };
  const readyz = new Map<number, Array<{ at: number; shards: ShardsReading | null }>>(
    replicas.map((d) => [d.port, []]),
  );
  const start = performance.now();
  const since = () => Math.round((performance.now() - start) / 100) / 10;
  const note = (line: string) => {
    if (examples.length < 10) examples.push(`${since()} s: ${line}`);
  };
  let longestRoundMs = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      await Promise.all(
        replicas.flatMap((d) => [
          ...ids.map(async (id) => {
            counts.reads++;
            let s: ClusterStatus;
            try {
              s = await readStatus(statusUrl(d, id), 2000);
            } catch (err) {
              counts.failed++;
              note(`${d.port} ${id}: ${err instanceof Error ? err.message : String(err)}`);
              return;
            }
            if (s.stale) counts.stale++;
            if (!isAllHealthy(s, MEMBERS)) {
              counts.notAllHealthy++;
              note(`${d.port} ${id}: ${describeStatus(s)} (observed ${s.observedAt}, served ${s.servedAt})`);
            }
            if (s.observedAt) ages.push(Date.parse(s.servedAt) - Date.parse(s.observedAt));
          }),
          (async () => {
            const at = since();
            try {
              readyz.get(d.port)?.push({ at, shards: (await readReadyz(d)).shards });
            } catch {
              readyz.get(d.port)?.push({ at, shards: null });
            }
          })(),
        ]),
      );
      const took = performance.now() - t0;
      longestRoundMs = Math.max(longestRoundMs, Math.round(took));
      await sleep(Math.max(0, 1000 - took));
    }
  })();
  return {
    async stop(): Promise<{
      probe: StatusProbe;
      readyz: Map<number, Array<{ at: number; shards: ShardsReading | null }>>;
    }> {
      running = false;
      await loop;
      const sorted = [...ages].sort((a, b) => a - b);
      return {
        probe: {
          clusterIds: ids,
          ...counts,
          ageP50Ms: sorted[Math.max(0, Math.ceil(sorted.length / 2) - 1)] ?? 0,
          ageMaxMs: sorted.at(-1) ?? 0,
          longestRoundMs,
          examples,
        },
        readyz,
      };
    },
  };
}

// ── a replica killed ──

/**
 * Kills the replica that polls the most clusters (SIGKILL: no lease given back) and reads the survivors' NOC wall and
 * /readyz every 500 ms until every cluster shows a poll observed after the kill on every survivor, their shards add up
 * again with no fallback, and (when the killed one led) one of them leads; or until `deadlineMs`.
 */
async function killOne(replicas: DashboardProcess[], ids: string[], deadlineMs = 60_000): Promise<Reassignment> {
  const before = await Promise.all(replicas.map((d) => readReadyz(d)));
  const victimIndex = before.reduce(
    (best, r, i) => ((r.shards?.owned ?? -1) > (before[best]?.shards?.owned ?? -1) ? i : best),
    0,
  );
  const victim = replicas[victimIndex] as DashboardProcess;
  const survivors = replicas.filter((d) => d !== victim);
  const killedLed = before[victimIndex]?.leads ?? false;
  // Which clusters it polled: rendezvous hashing over the three replicas, as they split them; checked against the
  // count its /readyz gave.
  const replicaIds = before.map((r) => r.replicaId);
  const victimId = before[victimIndex]?.replicaId;
  if (!victimId || replicaIds.some((id) => id === null)) throw new Error('a replica did not say its id in /readyz');
  const reassigned = new Set(ids.filter((c) => ownerOf(c, replicaIds as string[]) === victimId));
  if (reassigned.size !== before[victimIndex]?.shards?.owned) {
    throw new Error(
      `replica ${victimId} said it polls ${before[victimIndex]?.shards?.owned} clusters; rendezvous hashing gives it ${reassigned.size}`,
    );
  }
  const killAt = Date.now();
  await victim.stop('SIGKILL');
  log(
    `three: killed ${victim.port} (PID ${victim.pid}${killedLed ? ', the leader' : ''}, polled ${reassigned.size} clusters)`,
  );
  const seconds = (ms: number) => Math.round(ms / 100) / 10;
  const repolled = new Map<string, number>();
  const examples: string[] = [];
  const counts = { nocReads: 0, tilesRead: 0, staleTiles: 0, notHealthyTiles: 0, failedReads: 0 };
  const oldestShownMs = { reassigned: 0, others: 0 };
  let nocLongestMs = 0;
  let shardsSettledAt: number | null = null;
  let leaderAt: number | null = null;
  const note = (line: string) => {
    if (examples.length < 10) examples.push(`${seconds(Date.now() - killAt)} s: ${line}`);
  };
  const pairs = (of: (id: string) => boolean) => survivors.length * ids.filter(of).length;
  while (Date.now() - killAt < deadlineMs) {
    const round = Date.now();
    await Promise.all([
      ...survivors.map(async (d) => {
        const t0 = performance.now();
        let noc: NocResponse;
        try {
          noc = await readNoc(d, 5000);
        } catch (err) {
          counts.failedReads++;
          note(`${d.port}: ${err instanceof Error ? err.message : String(err)}`);
          return;
        } finally {
          nocLongestMs = Math.max(nocLongestMs, Math.round(performance.now() - t0));
        }
        counts.nocReads++;
        const at = Date.now();
        for (const { status: s } of noc.tiles) {
          counts.tilesRead++;
          if (s.stale) counts.staleTiles++;
          if (!isAllHealthy(s, MEMBERS)) {
            counts.notHealthyTiles++;
            note(`${d.port} ${s.clusterId}: ${describeStatus(s)} (observed ${s.observedAt})`);
          }
          const observed = s.observedAt ? Date.parse(s.observedAt) : Number.NaN;
          const group = reassigned.has(s.clusterId) ? 'reassigned' : 'others';
          // Aged at the moment the replica served it: a NOC read that took long does not age what it showed.
          const served = Date.parse(noc.servedAt);
          if (!Number.isNaN(observed)) oldestShownMs[group] = Math.max(oldestShownMs[group], served - observed);
          const key = `${d.port} ${s.clusterId}`;
          if (observed > killAt && !repolled.has(key)) repolled.set(key, at - killAt);
        }
      }),
      (async () => {
        try {
          const r = await Promise.all(survivors.map((d) => readReadyz(d)));
          const owned = r.reduce((sum, x) => sum + (x.shards?.owned ?? 0), 0);
          const fallback = r.reduce((sum, x) => sum + (x.shards?.fallback ?? 0), 0);
          if (shardsSettledAt === null && owned === ids.length && fallback === 0) shardsSettledAt = Date.now() - killAt;
          if (killedLed && leaderAt === null && r.some((x) => x.leads)) leaderAt = Date.now() - killAt;
        } catch {
          // A slow /readyz is a miss of this round, not the end of the measurement.
        }
      })(),
    ]);
    const done = repolled.size === pairs(() => true) && shardsSettledAt !== null && (!killedLed || leaderAt !== null);
    if (done) break;
    await sleep(Math.max(0, 500 - (Date.now() - round)));
  }
  /** The slowest and the median of the (survivor, cluster) pairs among `of`; nulls when one never was repolled. */
  const repolledOf = (of: (id: string) => boolean) => {
    const times = [...repolled]
      .filter(([key]) => of(key.slice(key.indexOf(' ') + 1)))
      .map(([, ms]) => ms)
      .sort((x, y) => x - y);
    const complete = times.length === pairs(of);
    return {
      all: complete ? seconds(times.at(-1) as number) : null,
      p50: times.length ? seconds(times[Math.ceil(times.length / 2) - 1] as number) : null,
    };
  };
  const moved = repolledOf((id) => reassigned.has(id));
  const every = repolledOf(() => true);
  const held = await Promise.all(
    survivors.map(async (d) => {
      const text = await fetchMetrics(d.url);
      return {
        up: sumCounter(text, 'etcd_dashboard_polls_held_up_total'),
        back: sumCounter(text, 'etcd_dashboard_polls_held_back_total'),
      };
    }),
  ).catch((err: unknown) => {
    log(`three: the survivors' /metrics not read: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  });
  const result: Reassignment = {
    killedPort: victim.port,
    killedLed,
    killedOwned: reassigned.size,
    reassignedRepolledSeconds: moved.all,
    reassignedRepolledP50Seconds: moved.p50,
    everyClusterRepolledSeconds: every.all,
    oldestShownMs,
    shardsSettledSeconds: shardsSettledAt === null ? null : seconds(shardsSettledAt),
    leaderTakeoverSeconds: leaderAt === null ? null : seconds(leaderAt),
    ...counts,
    nocLongestMs,
    pollsHeldUp: held ? held.reduce((n, h) => n + h.up, 0) : null,
    pollsHeldBack: held ? held.reduce((n, h) => n + h.back, 0) : null,
    examples,
    meetsTarget: moved.all !== null && moved.all <= TARGET_REASSIGN_SECONDS,
  };
  log(
    `three: after the kill the ${reassigned.size} clusters it polled were repolled on every survivor in ` +
      `${moved.all ?? `more than ${deadlineMs / 1000}`} s (median ${moved.p50} s); every cluster in ${every.all} s; ` +
      `shards settled in ${result.shardsSettledSeconds} s` +
      (killedLed ? `, a new leader in ${result.leaderTakeoverSeconds} s` : '') +
      `; oldest poll shown ${oldestShownMs.reassigned} ms (reassigned) / ${oldestShownMs.others} ms (others); ` +
      `${counts.staleTiles} stale / ${counts.notHealthyTiles} not healthy of ${counts.tilesRead} tiles, ${counts.failedReads} failed NOC reads (longest ${nocLongestMs} ms); ` +
      `polls held up ${result.pollsHeldUp}, first polls held back ${result.pollsHeldBack}`,
  );
  return result;
}

// ── one run: one dashboard process, or three replicas ──

async function createDatabase(postgres: PostgresServer, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return postgres.url.replace(/\/postgres$/, `/${name}`);
}

function startReplica(port: number, config: string, databaseUrl: string): Promise<DashboardProcess> {
  return startDashboard({
    port,
    env: {
      ETCD_DASHBOARD_CONFIG: config,
      DATABASE_URL: databaseUrl,
      // The poll interval comes from the file; nothing from the environment overrides it.
      ETCD_DASHBOARD_POLL_INTERVAL_MS: '',
      ETCDCTL_ENDPOINTS: '',
    },
    dataDir: path.join(WORK, `data-${port}`),
    logFile: path.join(WORK, `dashboard-${port}.log`),
    stampLines: true,
    // BENCH_FLEET_NODE_ARGS: node's own options for the replicas, space-separated (`--cpu-prof --cpu-prof-dir=…`).
    nodeArgs: (process.env.BENCH_FLEET_NODE_ARGS ?? '').split(' ').filter(Boolean),
    timeoutMs: 90_000,
  });
}

async function measure(
  label: FleetRun['label'],
  ports: readonly number[],
  clusters: LocalCluster[],
  config: string,
  postgres: PostgresServer,
  settings: Settings,
): Promise<FleetRun> {
  const databaseUrl = await createDatabase(postgres, `fleet_${label}`);
  const ids = Array.from({ length: settings.dashboardClusters }, (_, i) => clusterId(i));
  const n = ids.length;
  const probeIds = [...new Set([0, Math.round(n / 3) + 1, Math.round((2 * n) / 3) + 2, n - 1])]
    .filter((i) => i < n)
    .map(clusterId);
  const replicas: DashboardProcess[] = [];
  const forget = stopOnInterrupt(async () => {
    await Promise.allSettled(replicas.map((r) => r.stop()));
  });
  try {
    const t0 = performance.now();
    // As e2e/replicas.spec.ts: the first migrates the database; then the others together.
    const [first, ...rest] = ports;
    if (first === undefined) throw new Error('no port');
    replicas.push(await startReplica(first, config, databaseUrl));
    replicas.push(...(await Promise.all(rest.map((p) => startReplica(p, config, databaseUrl)))));
    log(`${label}: ${replicas.length} process(es) up (${replicas.map((r) => `${r.port}: PID ${r.pid}`).join(', ')})`);
    await waitSettled(replicas, ids, settings, 180_000);
    const settleSeconds = (performance.now() - t0) / 1000;
    log(`${label}: settled after ${settleSeconds.toFixed(1)} s; ${settings.warmupSeconds} s warm-up`);
    await sleep(settings.warmupSeconds * 1000);

    const startReadyz = await Promise.all(replicas.map((d) => readReadyz(d)));
    const logOffsets = replicas.map((d) => statSync(d.logFile).size);
    const before = await readEtcd(clusters);
    const pgBefore = postgresCpuSeconds(postgres.pid);
    const usage = replicas.map((d) => watchProcess(d.pid));
    const probe = startProbe(replicas, probeIds);
    await sleep(settings.windowSeconds * 1000);
    const probed = await probe.stop();
    const usages = usage.map((u) => u.stop());
    const pgAfter = postgresCpuSeconds(postgres.pid);
    const after = await readEtcd(clusters);
    const endReadyz = await Promise.all(replicas.map((d) => readReadyz(d)));
    const windowLogs = replicas.map((d, i) => readFileSync(d.logFile).subarray(logOffsets[i]).toString('utf8'));
    const countLines = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;
    if (after.pids.some((p, i) => p === null || p !== before.pids[i])) {
      throw new Error('an etcd member restarted during the window: its counters reset');
    }
    const reassignment = label === 'three' ? await killOne(replicas, ids) : null;
    const elapsed = (after.at - before.at) / 1000;
    const rate = (after.started - before.started) / elapsed;
    const byMethod: Record<string, number> = {};
    for (const [k, v] of [...after.byMethod].sort((a, b) => b[1] - a[1])) {
      const d = (v - (before.byMethod.get(k) ?? 0)) / elapsed;
      if (d > 0) byMethod[k] = Math.round(d * 100) / 100;
    }
    const perReplica: ReplicaWindow[] = replicas.map((d, i) => {
      const reads = probed.readyz.get(d.port) ?? [];
      const owned = reads.flatMap((r) => (r.shards ? [r.shards.owned] : []));
      const fallbacks = reads.map((r) => r.shards?.fallback ?? 0);
      return {
        port: d.port,
        replicaId: endReadyz[i]?.replicaId ?? null,
        leads: endReadyz[i]?.leads ?? false,
        usage: usages[i] as ProcessUsage,
        ownedAtStart: startReadyz[i]?.shards?.owned ?? -1,
        ownedAtEnd: endReadyz[i]?.shards?.owned ?? -1,
        ownedMin: owned.length ? Math.min(...owned) : -1,
        ownedMax: owned.length ? Math.max(...owned) : -1,
        fallbackMax: Math.max(0, ...fallbacks),
        readsWithFallback: fallbacks.filter((f) => f > 0).length,
        readyzReads: reads.length,
        fallbackSeen: reads.flatMap((r) => (r.shards?.fallback ? [`${r.at} s: ${r.shards.fallback}`] : [])),
        fallbackStarts: countLines(windowLogs[i] ?? '', /polling cluster \S+ itself/),
        fallbackEnds: countLines(windowLogs[i] ?? '', /its owner's view is fresh again/),
      };
    });
    const run: FleetRun = {
      label,
      replicas: replicas.length,
      seconds: round3(elapsed),
      etcdRequestsPerSecond: Math.round(rate * 100) / 100,
      pollsPerSecondPerCluster: round3(rate / n / REQUESTS_PER_POLL),
      etcdRequestsByMethod: byMethod,
      perReplica,
      total: {
        cpuPercentOfOneCore: Math.round(usages.reduce((s, u) => s + u.cpuPercentOfOneCore, 0) * 10) / 10,
        rssMeanBytes: usages.reduce((s, u) => s + u.rssMeanBytes, 0),
        rssPeakSumBytes: usages.reduce((s, u) => s + u.rssPeakBytes, 0),
      },
      postgresCpuPercentOfOneCore: Math.round(((pgAfter - pgBefore) / elapsed) * 1000) / 10,
      etcdCpuPercentOfOneCore: Math.round(((after.cpuSeconds - before.cpuSeconds) / elapsed) * 1000) / 10,
      leaderChanges: after.leaderChanges - before.leaderChanges,
      probe: probed.probe,
      settleSeconds: Math.round(settleSeconds * 10) / 10,
      loadAverage1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
      reassignment,
    };
    log(
      `${label}: ${run.etcdRequestsPerSecond} etcd requests/s (${run.pollsPerSecondPerCluster} polls/s per cluster); ` +
        perReplica
          .map(
            (r) =>
              `${r.port} owns ${r.ownedAtStart}→${r.ownedAtEnd}, CPU ${r.usage.cpuPercentOfOneCore} %, RSS ${(r.usage.rssMeanBytes / 2 ** 20).toFixed(0)} MiB` +
              `, ${r.fallbackStarts} fallback polls begun` +
              (r.fallbackMax > 0 ? `, fallback up to ${r.fallbackMax}` : ''),
          )
          .join('; ') +
        `; PostgreSQL ${run.postgresCpuPercentOfOneCore} %; etcd ${run.etcdCpuPercentOfOneCore} %; ` +
        `probe ${run.probe.stale} stale / ${run.probe.notAllHealthy} not healthy / ${run.probe.failed} failed of ${run.probe.reads}; ` +
        `load ${run.loadAverage1m}`,
    );
    return run;
  } catch (err) {
    for (const r of replicas) console.error(`--- dashboard ${r.port} (${r.logFile})\n${tail(r.logFile, 30)}`);
    throw err;
  } finally {
    forget();
    await Promise.allSettled(replicas.map((r) => r.stop()));
  }
}

export async function runFleet(quick = false): Promise<FleetResult> {
  const settings = quick ? QUICK : FULL;
  assertBuild();
  // Others may rebuild the production build while this runs (an hour of a shared machine): a run that spans two builds
  // is refused, as withStack refuses one (bench/lib/stack.ts).
  const build = buildId();
  for (const p of [FLEET_DASHBOARD_PORTS.one, ...FLEET_DASHBOARD_PORTS.three, FLEET_POSTGRES_PORT])
    await assertPortFree(p);
  // Stops by PID what a killed run left in c0…c9, and clears its configs and dashboard data.
  await emptyWorkDir(WORK);

  const clusters: LocalCluster[] = [];
  const forgets: Array<() => void> = [];
  let postgres: PostgresServer | null = null;
  const pgParent = postgresTestParent();
  forgets.push(stopOnInterrupt(async () => postgres?.destroy()));
  try {
    const pgStarted = startPostgres({ parent: pgParent, port: FLEET_POSTGRES_PORT });
    for (let i = 0; i < settings.etcdClusters; i++) {
      const { cluster: c, forget } = await freshCluster({
        dir: path.join(WORK, `c${i}`),
        members: MEMBERS,
        basePort: FLEET_ETCD_BASE + i * MEMBERS * 3,
        name: `fleet-${i}`,
        env: ETCD_ENV,
      });
      clusters.push(c);
      forgets.push(forget);
      await c.start(60_000);
      log(`etcd cluster ${i + 1} of ${settings.etcdClusters} up`);
    }
    const pgServer = await pgStarted;
    postgres = pgServer;
    const pgVersion = await (async () => {
      const client = new pg.Client({ connectionString: pgServer.url });
      await client.connect();
      try {
        return String((await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version);
      } finally {
        await client.end();
      }
    })();
    log(`PostgreSQL ${pgVersion} on ${FLEET_POSTGRES_PORT} (PID ${pgServer.pid})`);
    for (const c of clusters) await c.waitHealthy(30_000);

    const config = writeConfig(
      path.join(WORK, 'dashboard.yaml'),
      clusters,
      settings.dashboardClusters,
      settings.pollIntervalMs,
    );
    const one = await measure('one', [FLEET_DASHBOARD_PORTS.one], clusters, config, pgServer, settings);
    const three = await measure('three', FLEET_DASHBOARD_PORTS.three, clusters, config, pgServer, settings);
    if (buildId() !== build) throw new Error(`${distDir()} was rebuilt while the figure ran (was ${build}); run again`);
    const ratio = round3(three.etcdRequestsPerSecond / one.etcdRequestsPerSecond);
    const line = clusters[0]?.binaries.line ?? '3.4';
    // The record's machine line names the members' etcd, not the one on PATH (bench/lib/machine.ts runs ETCD_BIN).
    if (clusters[0]) process.env.ETCD_BIN = clusters[0].binaries.etcd;
    const busiest = Math.max(...three.perReplica.map((r) => r.usage.cpuPercentOfOneCore));
    log(`ratio three / one: ${ratio} (target ≤ ${TARGET_RATIO}); busiest replica ${busiest} % of a core`);
    return {
      etcdVersion: ETCD_RELEASES[line].version,
      etcdClusters: clusters.length,
      membersPerCluster: MEMBERS,
      dashboardClusters: settings.dashboardClusters,
      duplicateEndpointsAllowed: true,
      pollIntervalMs: settings.pollIntervalMs,
      timing: timingOf(settings.pollIntervalMs),
      metricsIntervalMs: METRICS_INTERVAL_MS,
      warmupSeconds: settings.warmupSeconds,
      windowSeconds: settings.windowSeconds,
      etcdEnvironment: { ...ETCD_ENV },
      postgres: { version: pgVersion, sameServerForBoth: true },
      one,
      three,
      ratio,
      targetRatio: TARGET_RATIO,
      meetsTarget: ratio <= TARGET_RATIO,
      busiestReplicaCpuPercent: busiest,
      targetCpuPercent: TARGET_CPU_PERCENT,
      meetsCpuTarget: busiest < TARGET_CPU_PERCENT,
      targetReassignSeconds: TARGET_REASSIGN_SECONDS,
    };
  } finally {
    for (const forget of forgets) forget();
    const keep = process.env.BENCH_FLEET_KEEP_LOGS;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      for (const f of readdirSync(WORK).filter((n) => n.endsWith('.log')))
        copyFileSync(path.join(WORK, f), path.join(keep, f));
      if (postgres) copyFileSync(postgres.logFile, path.join(keep, 'postgres.log'));
    }
    await Promise.allSettled([...clusters.map((c) => c.destroy()), postgres?.destroy()]);
    rmSync(pgParent, { recursive: true, force: true });
    rmSync(WORK, { recursive: true, force: true });
  }
}

if (require.main === module) {
  figureMain('fleet', ({ quick }) => runFleet(quick));
}
