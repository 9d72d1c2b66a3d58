// Issue 15's benchmark: the dashboard's rolling defragment (lib/maintenance/maintenance-service.ts) against doing it
// by hand as etcd's documentation says — `etcdctl --endpoints=<member> defrag`, member by member, followers first and
// the leader last — on one real 3-member mTLS cluster that is fragmented the same way before every run. For each run:
// the wall time, each member's db size before and after, and the longest stall seen by a client that keeps writing
// small keys to the leader's endpoint, and by another writing to a follower's endpoint.
//
// Run alone with `npm run bench -- --only defragment`, or `npx tsx --conditions=react-server bench/defragment.ts
// [--quick]` (the condition lets `server-only` load outside Next). It measures the etcd line the project selects
// (ETCD_DASHBOARD_ETCD_VERSION, else the newest this machine has); BENCH_DEFRAGMENT_ETCD_LINES=3.7,3.5 measures
// several, one fresh cluster each. Nothing here needs the production build.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { AuditLog } from '../lib/auth/audit-log';
import { sqliteStore } from '../lib/db/sqlite-store';
import { staleAfterMs } from '../lib/cluster/staleness';
import type { MemberView, Observation } from '../lib/cluster/status-types';
import { ClusterCollector } from '../lib/collector/cluster-collector';
import { HistoryRecorder } from '../lib/collector/history-recorder';
import {
  DEFAULT_METRICS_INTERVAL_MS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_PROBE_TIMEOUT_MS,
  loadConfig,
  type ClusterConfig,
} from '../lib/config/load-config';
import { openDatabase } from '../lib/db/database';
import { isDomainError } from '../lib/errors/domain-errors';
import { compact } from '../lib/etcd/maintenance-calls';
import {
  createMemberClient,
  createStatusClient,
  type RawMemberStatus,
  type StatusClient,
} from '../lib/etcd/member-client';
import { EventStore } from '../lib/history/event-store';
import { SampleStore } from '../lib/history/sample-store';
import { defragmentOrder } from '../lib/maintenance/maintenance-plan';
import {
  DEFAULT_MAINTENANCE_SETTINGS,
  MaintenanceService,
  type MaintenanceActor,
} from '../lib/maintenance/maintenance-service';
import { MaintenanceStore } from '../lib/maintenance/maintenance-store';
import { ETCD_LINES, etcdBinaries, parseEtcdLine, selectedEtcdLine, type EtcdLine } from '../scripts/lib/etcd-versions';
import type { LocalCluster } from '../scripts/lib/local-cluster';
import { ROOT } from './lib/machine';
import { DEFRAGMENT_ETCD_BASE } from './lib/ports';
import { figureMain } from './lib/results';
import { emptyWorkDir, freshCluster, sleep } from './lib/stack';
import { median, round3 } from './lib/stats';

const WORK = path.join(ROOT, '.cluster', 'bench-defragment');
const MIB = 1024 * 1024;
const MEMBERS = 3;
/** The keys the fragmentation writes and deletes again. */
const FRAG_PREFIX = 'bench/frag/';
/** The keys kept as live data. */
const LIVE_PREFIX = 'bench/live/';
const VALUE_BYTES = 1024;
const PUTS_PER_TXN = 128;
/** Transactions in flight while filling. */
const TXNS_IN_FLIGHT = 8;
/** The writers' pause between two puts: each writes at most about 100 keys a second. */
const WRITE_PAUSE_MS = 10;
/** A put's deadline: longer than any defragment here, so a stall shows as a gap, not as a failure. */
const PUT_TIMEOUT_MS = 60_000;
/** The writers run this long before a run starts and after it ends. */
const LEAD_MS = 1000;
/** Gaps between two acknowledged puts longer than this are kept in the record, with when they happened. */
const GAP_KEPT_MS = 100;
/** etcdctl's own default (--command-timeout 5s) would cut a long defragment short; the dashboard allows 10 min. */
const ETCDCTL_COMMAND_TIMEOUT = '600s';
/** How many times `etcdctl endpoint status` is timed, for what an etcdctl process costs besides its call. */
const ETCDCTL_CALIBRATION = 5;
const BENCH_ACTOR: MaintenanceActor = { actor: 'bench', role: 'admin', method: 'none', source: null };

interface Settings {
  /** MiB of values written, then deleted and compacted away, before every run. */
  fragmentMiB: number;
  /**
   * The scenarios, measured one after the other on the same cluster: MiB of values written once before the
   * scenario's first run and kept, so each defragment has that much live data to copy besides the free pages.
   */
  liveMiB: number[];
  valueBytes: number;
  putsPerTxn: number;
  /** Rounds of one run each way; the order alternates from round to round. */
  rounds: number;
  /** The dashboard's pause between two members' defragments in the measured runs. */
  pauseBetweenMembersMs: number;
  /** The dashboard's default pause, added by computation, not measured. */
  defaultPauseBetweenMembersMs: number;
  writePauseMs: number;
  putTimeoutMs: number;
  pollIntervalMs: number;
  probeTimeoutMs: number;
  metricsIntervalMs: number;
  etcdctlCommandTimeout: string;
}

const FULL: Omit<Settings, 'defaultPauseBetweenMembersMs'> = {
  fragmentMiB: 64,
  liveMiB: [0, 64],
  valueBytes: VALUE_BYTES,
  putsPerTxn: PUTS_PER_TXN,
  rounds: 5,
  pauseBetweenMembersMs: 0,
  writePauseMs: WRITE_PAUSE_MS,
  putTimeoutMs: PUT_TIMEOUT_MS,
  pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
  probeTimeoutMs: DEFAULT_PROBE_TIMEOUT_MS,
  metricsIntervalMs: DEFAULT_METRICS_INTERVAL_MS,
  etcdctlCommandTimeout: ETCDCTL_COMMAND_TIMEOUT,
};
const QUICK: typeof FULL = { ...FULL, fragmentMiB: 8, liveMiB: [0, 4], rounds: 1 };

export type Method = 'dashboard' | 'etcdctl';

export interface Gap {
  ms: number;
  /** From and to, in ms since the run started (negative: before it). */
  fromMs: number;
  toMs: number;
  /** The members whose defragment overlapped the gap. */
  during: string[];
}

export interface WriterRecord {
  /** The member whose endpoint it wrote to, and what it was when the run started. */
  member: string;
  role: 'leader' | 'follower';
  puts: number;
  failed: number;
  firstError: string | null;
  /** The longest time between two acknowledged puts; null when fewer than two were acknowledged. */
  longestGap: Gap | null;
  /** The longest gap while nothing was being defragmented (the writer's own rhythm and the machine's noise). */
  longestQuietGapMs: number | null;
  /** The longest gap that did not overlap the defragment of the member it wrote to (others' defragments may). */
  longestGapOutsideOwnMs: number | null;
  /** Every gap over GAP_KEPT_MS. */
  gaps: Gap[];
}

export interface MemberRecord {
  name: string;
  role: 'leader' | 'follower';
  /** Its place in the order (1 = first). */
  order: number;
  dbSizeBefore: number;
  dbSizeInUseBefore: number;
  dbSizeAfter: number;
  dbSizeInUseAfter: number;
  /**
   * Its defragment, in ms since the run started: the Defragment call for the dashboard (from its markBusy), the
   * etcdctl process for the manual run (spawn to exit).
   */
  defragFromMs: number;
  defragToMs: number;
  /** Dashboard runs: the whole step (health gate, Status, Defragment, wait until caught up). */
  stepMs: number | null;
}

export interface RunRecord {
  method: Method;
  round: number;
  /** 1 or 2: which of the round's two runs it was. */
  positionInRound: number;
  wallMs: number;
  /**
   * Wall time outside the members' defragments: the dashboard's gate, plan and catch-up waits (its defragments are
   * the Defragment calls); 0 by construction for etcdctl, whose process start-ups are inside its defragment times.
   */
  betweenMs: number;
  leaderBefore: string;
  leaderAfter: string | null;
  members: MemberRecord[];
  writers: { leader: WriterRecord; follower: WriterRecord };
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

export interface MethodSummary {
  runs: number;
  wallMs: Spread;
  betweenMs: Spread;
  /** The longest stall each run's writer saw, over the runs. */
  leaderStallMs: Spread;
  followerStallMs: Spread;
  /** Failed puts, all runs together. */
  leaderFailed: number;
  followerFailed: number;
  /** Runs whose longest stall overlapped the defragment of the member the writer wrote to. */
  leaderStallInOwnDefrag: number;
  followerStallInOwnDefrag: number;
  /** The longest gap that did not overlap the writer's own member's defragment, over the runs. */
  leaderStallOutsideOwnMs: Spread;
  followerStallOutsideOwnMs: Spread;
  /** Each member's defragment as timed for this method (call or etcdctl process), by role. */
  leaderDefragMs: Spread;
  followerDefragMs: Spread;
  /** Before the run, over all members and runs: the db file and what of it was in use. */
  dbSizeBefore: Spread;
  dbSizeInUseBefore: Spread;
  dbSizeAfter: Spread;
  leaderChanges: number;
  /** The longest gap either writer saw while no member was being defragmented, over the runs. */
  quietGapMs: Spread;
}

export interface ScenarioResult {
  /** MiB of live values kept in the cluster (besides the fragmentation's garbage). */
  liveMiB: number;
  runs: RunRecord[];
  dashboard: MethodSummary;
  etcdctl: MethodSummary;
  /** dashboard ÷ etcdctl wall time within each round (the two runs back to back). */
  wallRatioPerRound: number[];
  /** dashboard ÷ etcdctl at the medians. */
  ratios: { wall: number; leaderStall: number; followerStall: number; wallWithDefaultPause: number };
  /** What the default pause would add to a run: one pause between each two members' defragments. */
  defaultPauseAddsMs: number;
  /** The dashboard's median wall time plus that. */
  dashboardWithDefaultPauseMs: number;
}

export interface LineResult {
  line: EtcdLine;
  version: string;
  scenarios: ScenarioResult[];
  /** What etcdctl printed for one member, as a sample. */
  etcdctlOutput: string;
  /** `etcdctl endpoint status` on the quiet cluster: an etcdctl process's start, mTLS connection and one call. */
  etcdctlCallMs: Spread;
}

export interface DefragmentResult {
  settings: Settings;
  lines: LineResult[];
}

function log(line: string): void {
  console.log(`defragment: ${line}`);
}

function spread(values: number[]): Spread {
  const rounded = values.map((v) => Math.round(v));
  return {
    median: Math.round(median(values)),
    min: Math.min(...rounded),
    max: Math.max(...rounded),
    values: rounded,
  };
}

/** BENCH_DEFRAGMENT_ETCD_LINES (e.g. "3.7,3.5"), else the line the project selects. */
function linesToMeasure(): EtcdLine[] {
  const raw = process.env.BENCH_DEFRAGMENT_ETCD_LINES;
  if (!raw?.trim()) return [selectedEtcdLine()];
  return raw.split(',').map((s) => {
    const line = parseEtcdLine(s);
    if (!line) throw new Error(`BENCH_DEFRAGMENT_ETCD_LINES: "${s}" is not one of ${ETCD_LINES.join(', ')}`);
    return line;
  });
}

/** The cluster, the collector and the maintenance service over SQLite, as the dashboard wires them. */
interface Rig {
  cluster: LocalCluster;
  config: ClusterConfig;
  db: Database.Database;
  collector: ClusterCollector;
  service: MaintenanceService;
  statusClients: Map<string, StatusClient>;
  /** Defragment calls as the service reports them through markBusy: member id, start or end, when. */
  busyLog: Array<{ memberId: string; busy: boolean; at: number }>;
  close(): Promise<void>;
}

async function startRig(line: EtcdLine, settings: Settings): Promise<Rig> {
  const dir = path.join(WORK, `etcd-${line}`);
  const { cluster, forget } = await freshCluster({
    dir: path.join(dir, 'cluster'),
    members: MEMBERS,
    basePort: DEFRAGMENT_ETCD_BASE,
    name: 'bd',
    etcd: line,
  });
  try {
    return await wire(cluster, forget, dir, settings);
  } catch (err) {
    forget();
    await cluster.stop();
    throw err;
  }
}

async function wire(cluster: LocalCluster, forget: () => void, dir: string, settings: Settings): Promise<Rig> {
  await cluster.start();
  // The dashboard reads the cluster from the ETCDCTL_* variables, as `npm start` does with no config file.
  const dashboardConfig = loadConfig({ ...cluster.etcdctlEnv, DATA_DIR: path.join(dir, 'data') });
  const config = dashboardConfig.clusters[0];
  if (!config) throw new Error('loadConfig found no cluster in the ETCDCTL_* variables');
  const db = openDatabase(path.join(dir, 'dashboard.sqlite'));
  const kysely = sqliteStore(db);
  const recorder = new HistoryRecorder(new SampleStore(kysely), new EventStore(kysely));
  const collector = new ClusterCollector(config, {
    pollIntervalMs: settings.pollIntervalMs,
    probeTimeoutMs: settings.probeTimeoutMs,
    metricsIntervalMs: settings.metricsIntervalMs,
    recorder,
  });
  const busyLog: Rig['busyLog'] = [];
  // The wiring of lib/app/dashboard.ts, with the pause set for the benchmark; `features` (what etcd lets the
  // dashboard's etcd user do) is left out: the benchmark's client certificate may do everything.
  const service = new MaintenanceService({
    clusters: [config],
    store: new MaintenanceStore(kysely),
    audit: new AuditLog(kysely),
    events: recorder,
    observe: () => collector.current(),
    staleAfterMs: staleAfterMs(settings.pollIntervalMs, settings.probeTimeoutMs),
    snapshotRunning: () => null,
    markBusy: (_c, memberId, busy) => {
      busyLog.push({ memberId, busy, at: performance.now() });
      collector.markBusy(memberId, busy);
    },
    expectLeaderMove: (_c, memberId, by) => collector.expectLeaderMove(memberId, by),
    failureDetails: (err) => (isDomainError(err) ? { code: err.code, message: err.message } : {}),
    settings: () => ({ ...DEFAULT_MAINTENANCE_SETTINGS, pauseBetweenMembersMs: settings.pauseBetweenMembersMs }),
  });
  collector.start();
  const statusClients = new Map(
    cluster.endpoints.map((e) => [e, createStatusClient({ endpoint: e, tls: config.tls, timeoutMs: 10_000 })]),
  );
  return {
    cluster,
    config,
    db,
    collector,
    service,
    statusClients,
    busyLog,
    async close() {
      for (const c of statusClients.values()) c.close();
      collector.stop();
      await recorder.flush().catch(() => undefined);
      db.close();
      forget();
      await cluster.stop();
    },
  };
}

async function statuses(rig: Rig): Promise<Map<string, RawMemberStatus>> {
  const out = new Map<string, RawMemberStatus>();
  await Promise.all([...rig.statusClients].map(async ([endpoint, client]) => out.set(endpoint, await client.status())));
  return out;
}

/**
 * Until every member answers Status, agrees on one leader, has applied what the leader has committed, and its
 * dbSizeInUse has stopped moving (a physical compaction and the backend's next commit are done); returns the last
 * Status of each member, by endpoint.
 */
async function settle(rig: Rig, timeoutMs = 60_000): Promise<Map<string, RawMemberStatus>> {
  const deadline = Date.now() + timeoutMs;
  let previous: Map<string, RawMemberStatus> | null = null;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const now = await statuses(rig);
      const all = [...now.values()];
      const leaders = new Set(all.map((s) => s.leader));
      const leader = all.find((s) => s.header?.member_id === all[0]?.leader);
      const caughtUp = leader !== undefined && all.every((s) => Number(s.raftAppliedIndex) >= Number(leader.raftIndex));
      const still =
        previous !== null &&
        [...now].every(([e, s]) => {
          const p = previous?.get(e);
          return p !== undefined && p.dbSizeInUse === s.dbSizeInUse && p.dbSize === s.dbSize;
        });
      if (leaders.size === 1 && !leaders.has('0') && caughtUp && still) return now;
      last = leaders.size !== 1 ? 'the members name different leaders' : caughtUp ? 'sizes still moving' : 'behind';
      previous = now;
    } catch (err) {
      last = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
      previous = null;
    }
    await sleep(300);
  }
  throw new Error(`the cluster did not settle within ${timeoutMs} ms (${last})`);
}

/** A client for filling the cluster, on the first member's endpoint. */
function fillClient(rig: Rig) {
  return createMemberClient({ endpoint: rig.cluster.endpoints[0] as string, tls: rig.config.tls, timeoutMs: 60_000 });
}

/** Writes `mib` MiB of values under `prefix`, in transactions of `putsPerTxn` puts, TXNS_IN_FLIGHT at a time. */
async function fill(client: ReturnType<typeof fillClient>, prefix: string, mib: number, settings: Settings) {
  const value = 'x'.repeat(settings.valueBytes);
  const count = Math.round((mib * MIB) / settings.valueBytes);
  const batch = settings.putsPerTxn * TXNS_IN_FLIGHT;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(
      Array.from({ length: TXNS_IN_FLIGHT }, (_, b) => {
        const from = i + b * settings.putsPerTxn;
        const n = Math.min(settings.putsPerTxn, count - from);
        if (n <= 0) return Promise.resolve();
        const puts = Array.from({ length: n }, (_, j) => client.put(`${prefix}${from + j}`).value(value));
        return client
          .if(`${prefix}none`, 'Version', '==', 0)
          .then(...puts)
          .commit();
      }),
    );
  }
}

/** Live data for a scenario: written once, kept (a scenario with more adds to what the one before left). */
async function addLiveData(rig: Rig, from: number, to: number, settings: Settings): Promise<void> {
  if (to <= from) return;
  const client = fillClient(rig);
  try {
    await fill(client, `${LIVE_PREFIX}${from}-`, to - from, settings);
  } finally {
    client.close();
  }
}

/** Writes fragmentMiB of values under FRAG_PREFIX, deletes them and compacts physically: free pages, no live data. */
async function fragment(rig: Rig, settings: Settings): Promise<void> {
  const client = fillClient(rig);
  try {
    await fill(client, FRAG_PREFIX, settings.fragmentMiB, settings);
    await client.delete().prefix(FRAG_PREFIX).exec();
    const revision = Number((await client.get('bench/none').exec()).header.revision);
    const res = await compact(client, revision, 120_000);
    if (!res.ok) throw new Error(`compact to ${revision}: ${res.failure.message}`);
  } finally {
    client.close();
  }
}

/** The collector's view once it is fresh (polled after `since`), all healthy, with a leader, nobody defragmenting. */
async function healthyObservation(rig: Rig, since: number, timeoutMs = 30_000): Promise<Observation> {
  const deadline = Date.now() + timeoutMs;
  let obs = rig.collector.current();
  while (Date.now() < deadline) {
    obs = rig.collector.current();
    if (
      obs?.observedAt &&
      Date.parse(obs.observedAt) > since &&
      obs.quorum.state === 'healthy' &&
      obs.members.length === MEMBERS &&
      obs.members.every((m) => m.health === 'healthy' && m.status && m.endpoint && !m.defragmenting) &&
      obs.members.some((m) => m.status?.isLeader)
    ) {
      return obs;
    }
    await sleep(100);
  }
  const members = obs?.members.map((m) => `${m.name}=${m.health}${m.error ? ` (${m.error})` : ''}`).join(', ');
  throw new Error(`the collector did not see a healthy cluster within ${timeoutMs} ms (${members ?? 'no poll'})`);
}

interface Writer {
  stop(): Promise<{
    puts: number;
    failed: number;
    firstError: string | null;
    gaps: Array<{ from: number; to: number }>;
  }>;
}

/** A client that puts small keys to one endpoint, one after another, WRITE_PAUSE_MS apart, until stopped. */
function startWriter(endpoint: string, tls: ClusterConfig['tls'], prefix: string, settings: Settings): Writer {
  const client = createMemberClient({ endpoint, tls, timeoutMs: settings.putTimeoutMs });
  let writing = true;
  let puts = 0;
  let failed = 0;
  let firstError: string | null = null;
  const gaps: Array<{ from: number; to: number }> = [];
  const loop = (async () => {
    let last: number | null = null;
    for (let i = 0; writing; i++) {
      try {
        await client.put(`${prefix}${i % 50}`).value(String(i));
        const now = performance.now();
        if (last !== null) gaps.push({ from: last, to: now });
        last = now;
        puts += 1;
      } catch (err) {
        failed += 1;
        firstError ??= err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
      }
      await sleep(settings.writePauseMs);
    }
  })();
  return {
    async stop() {
      writing = false;
      await loop;
      client.close();
      return { puts, failed, firstError, gaps };
    },
  };
}

function writerRecord(
  raw: Awaited<ReturnType<Writer['stop']>>,
  member: string,
  role: 'leader' | 'follower',
  t0: number,
  windows: Array<{ name: string; from: number; to: number }>,
): WriterRecord {
  const toGap = (g: { from: number; to: number }): Gap => ({
    ms: Math.round(g.to - g.from),
    fromMs: Math.round(g.from - t0),
    toMs: Math.round(g.to - t0),
    during: windows.filter((w) => w.from < g.to && w.to > g.from).map((w) => w.name),
  });
  const all = raw.gaps.map(toGap);
  const longest = all.reduce<Gap | null>((a, g) => (a === null || g.ms > a.ms ? g : a), null);
  const quiet = all.filter((g) => g.during.length === 0).map((g) => g.ms);
  const outside = all.filter((g) => !g.during.includes(member)).map((g) => g.ms);
  return {
    member,
    role,
    puts: raw.puts,
    failed: raw.failed,
    firstError: raw.firstError,
    longestGap: longest,
    longestQuietGapMs: quiet.length > 0 ? Math.max(...quiet) : null,
    longestGapOutsideOwnMs: outside.length > 0 ? Math.max(...outside) : null,
    gaps: all.filter((g) => g.ms > GAP_KEPT_MS),
  };
}

/** Runs the cluster's etcdctl against one endpoint (never ETCDCTL_ENDPOINTS: see etcdctlEnv); resolves with its output. */
function etcdctl(bin: string, env: NodeJS.ProcessEnv, endpoint: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [`--endpoints=${endpoint}`, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(out.trim());
      else reject(new Error(`etcdctl ${args.join(' ')} on ${endpoint} exited ${code}: ${out.trim()}`));
    });
  });
}

/**
 * What one etcdctl invocation costs besides its call: `etcdctl endpoint status` (start the process, connect over
 * mTLS, one Status call), timed ETCDCTL_CALIBRATION times on a quiet cluster.
 */
async function etcdctlCallMs(rig: Rig): Promise<number[]> {
  const env = etcdctlEnv(rig.cluster);
  const times: number[] = [];
  for (let i = 0; i < ETCDCTL_CALIBRATION; i++) {
    const t = performance.now();
    await etcdctl(rig.cluster.binaries.etcdctl, env, rig.cluster.endpoints[i % MEMBERS] as string, [
      'endpoint',
      'status',
    ]);
    times.push(performance.now() - t);
  }
  return times;
}

/** etcdctl refuses a flag whose ETCDCTL_* variable is also set: the cluster's variables without the endpoints. */
function etcdctlEnv(cluster: LocalCluster): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('ETCDCTL_')) delete env[key];
  const { ETCDCTL_ENDPOINTS: _endpoints, ...tls } = cluster.etcdctlEnv;
  return { ...env, ...tls };
}

/** One run, either way, after fragmenting the cluster; the writers run from LEAD_MS before to LEAD_MS after. */
async function measureRun(
  rig: Rig,
  settings: Settings,
  method: Method,
  round: number,
  positionInRound: number,
  sample: { etcdctlOutput: string },
): Promise<RunRecord> {
  log(`round ${round}, ${method}: fragmenting (${settings.fragmentMiB} MiB written, deleted, compacted)…`);
  await fragment(rig, settings);
  const before = await settle(rig);
  const obs = await healthyObservation(rig, Date.now());
  const order = defragmentOrder(obs, 'all');
  const leader = order.at(-1) as MemberView;
  const follower = order[0] as MemberView;
  if (!leader.status?.isLeader) throw new Error('the defragment order does not end with the leader');
  const nameOf = (id: string) => obs.members.find((m) => m.id === id)?.name ?? id;

  const tls = rig.config.tls;
  const leaderWriter = startWriter(leader.endpoint as string, tls, `bench/writer/leader/`, settings);
  const followerWriter = startWriter(follower.endpoint as string, tls, `bench/writer/follower/`, settings);
  await sleep(LEAD_MS);

  const windows: Array<{ name: string; from: number; to: number }> = [];
  const stepMs = new Map<string, number>();
  let t0: number;
  let wallMs: number;
  if (method === 'dashboard') {
    rig.busyLog.length = 0;
    t0 = performance.now();
    const started = await rig.service.start(rig.config.id, { action: 'defragment' }, BENCH_ACTOR);
    await rig.service.settled(rig.config.id);
    wallMs = performance.now() - t0;
    const run = await rig.service.get(rig.config.id, started.id);
    if (run.state !== 'succeeded') throw new Error(`the dashboard's run ${run.state}: ${run.reason ?? ''}`);
    const ran = run.steps.map((s) => s.memberName);
    if (ran.join(',') !== order.map((m) => m.name).join(',')) {
      throw new Error(`the dashboard's order ${ran.join(', ')} is not ${order.map((m) => m.name).join(', ')}`);
    }
    for (const s of run.steps) {
      if (s.memberName && s.startedAt && s.finishedAt)
        stepMs.set(s.memberName, Date.parse(s.finishedAt) - Date.parse(s.startedAt));
    }
    const open = new Map<string, number>();
    for (const e of rig.busyLog) {
      if (e.busy) open.set(e.memberId, e.at);
      else windows.push({ name: nameOf(e.memberId), from: open.get(e.memberId) ?? e.at, to: e.at });
    }
  } else {
    const env = etcdctlEnv(rig.cluster);
    const bin = rig.cluster.binaries.etcdctl;
    t0 = performance.now();
    for (const m of order) {
      const from = performance.now();
      const out = await etcdctl(bin, env, m.endpoint as string, [
        `--command-timeout=${settings.etcdctlCommandTimeout}`,
        'defrag',
      ]);
      windows.push({ name: m.name, from, to: performance.now() });
      if (!sample.etcdctlOutput) sample.etcdctlOutput = out;
    }
    wallMs = performance.now() - t0;
  }

  await sleep(LEAD_MS);
  const [rawLeader, rawFollower] = await Promise.all([leaderWriter.stop(), followerWriter.stop()]);
  const after = await settle(rig);
  const leaderAfterId = [...after.values()][0]?.leader ?? '0';
  const leaderAfter = obs.members.find((m) => after.get(m.endpoint as string)?.header?.member_id === leaderAfterId);

  const members: MemberRecord[] = order.map((m, i) => {
    const b = before.get(m.endpoint as string);
    const a = after.get(m.endpoint as string);
    const w = windows.find((x) => x.name === m.name);
    return {
      name: m.name,
      role: m.status?.isLeader ? 'leader' : 'follower',
      order: i + 1,
      dbSizeBefore: Number(b?.dbSize ?? 0),
      dbSizeInUseBefore: Number(b?.dbSizeInUse ?? 0),
      dbSizeAfter: Number(a?.dbSize ?? 0),
      dbSizeInUseAfter: Number(a?.dbSizeInUse ?? 0),
      defragFromMs: Math.round((w?.from ?? t0) - t0),
      defragToMs: Math.round((w?.to ?? t0) - t0),
      stepMs: stepMs.get(m.name) ?? null,
    };
  });
  const record: RunRecord = {
    method,
    round,
    positionInRound,
    wallMs: Math.round(wallMs),
    betweenMs: Math.max(0, Math.round(wallMs - windows.reduce((n, w) => n + (w.to - w.from), 0))),
    leaderBefore: leader.name,
    leaderAfter: leaderAfter?.name ?? null,
    members,
    writers: {
      leader: writerRecord(rawLeader, leader.name, 'leader', t0, windows),
      follower: writerRecord(rawFollower, follower.name, 'follower', t0, windows),
    },
  };
  const w = record.writers;
  log(
    `round ${round}, ${method}: ${(record.wallMs / 1000).toFixed(2)} s; longest stall on the leader's endpoint ` +
      `${w.leader.longestGap?.ms ?? '–'} ms (${w.leader.failed} failed), on ${follower.name}'s ` +
      `${w.follower.longestGap?.ms ?? '–'} ms (${w.follower.failed} failed); ` +
      members
        .map((m) => `${m.name} ${(m.dbSizeBefore / MIB).toFixed(0)}→${(m.dbSizeAfter / MIB).toFixed(0)} MiB`)
        .join(', '),
  );
  return record;
}

function summarizeMethod(runs: RunRecord[]): MethodSummary {
  const stall = (r: RunRecord, w: 'leader' | 'follower') => r.writers[w].longestGap?.ms ?? 0;
  const inOwn = (r: RunRecord, w: 'leader' | 'follower') =>
    r.writers[w].longestGap?.during.includes(r.writers[w].member) ?? false;
  const defrag = (role: 'leader' | 'follower') =>
    runs.flatMap((r) => r.members.filter((m) => m.role === role).map((m) => m.defragToMs - m.defragFromMs));
  const allMembers = runs.flatMap((r) => r.members);
  return {
    runs: runs.length,
    wallMs: spread(runs.map((r) => r.wallMs)),
    betweenMs: spread(runs.map((r) => r.betweenMs)),
    leaderStallMs: spread(runs.map((r) => stall(r, 'leader'))),
    followerStallMs: spread(runs.map((r) => stall(r, 'follower'))),
    leaderFailed: runs.reduce((n, r) => n + r.writers.leader.failed, 0),
    followerFailed: runs.reduce((n, r) => n + r.writers.follower.failed, 0),
    leaderStallInOwnDefrag: runs.filter((r) => inOwn(r, 'leader')).length,
    followerStallInOwnDefrag: runs.filter((r) => inOwn(r, 'follower')).length,
    leaderStallOutsideOwnMs: spread(runs.map((r) => r.writers.leader.longestGapOutsideOwnMs ?? 0)),
    followerStallOutsideOwnMs: spread(runs.map((r) => r.writers.follower.longestGapOutsideOwnMs ?? 0)),
    leaderDefragMs: spread(defrag('leader')),
    followerDefragMs: spread(defrag('follower')),
    dbSizeBefore: spread(allMembers.map((m) => m.dbSizeBefore)),
    dbSizeInUseBefore: spread(allMembers.map((m) => m.dbSizeInUseBefore)),
    dbSizeAfter: spread(allMembers.map((m) => m.dbSizeAfter)),
    leaderChanges: runs.filter((r) => r.leaderAfter !== r.leaderBefore).length,
    quietGapMs: spread(
      runs.map((r) => Math.max(r.writers.leader.longestQuietGapMs ?? 0, r.writers.follower.longestQuietGapMs ?? 0)),
    ),
  };
}

async function measureScenario(
  rig: Rig,
  settings: Settings,
  liveMiB: number,
  sample: { etcdctlOutput: string },
): Promise<ScenarioResult> {
  const runs: RunRecord[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    // Alternating which goes first, so neither always runs on a machine the other has just warmed or tired.
    const order: Method[] = round % 2 === 1 ? ['dashboard', 'etcdctl'] : ['etcdctl', 'dashboard'];
    for (const [i, method] of order.entries()) runs.push(await measureRun(rig, settings, method, round, i + 1, sample));
  }
  const dashboard = summarizeMethod(runs.filter((r) => r.method === 'dashboard'));
  const etcdctl = summarizeMethod(runs.filter((r) => r.method === 'etcdctl'));
  const defaultPauseAddsMs = (MEMBERS - 1) * settings.defaultPauseBetweenMembersMs;
  const withPause = dashboard.wallMs.median + defaultPauseAddsMs;
  const div = (a: number, b: number) => (b > 0 ? round3(a / b) : 0);
  const perRound = Array.from({ length: settings.rounds }, (_, i) => {
    const of = (m: Method) => runs.find((r) => r.round === i + 1 && r.method === m)?.wallMs ?? 0;
    return div(of('dashboard'), of('etcdctl'));
  });
  return {
    liveMiB,
    runs,
    wallRatioPerRound: perRound,
    dashboard,
    etcdctl,
    ratios: {
      wall: div(dashboard.wallMs.median, etcdctl.wallMs.median),
      leaderStall: div(dashboard.leaderStallMs.median, etcdctl.leaderStallMs.median),
      followerStall: div(dashboard.followerStallMs.median, etcdctl.followerStallMs.median),
      wallWithDefaultPause: div(withPause, etcdctl.wallMs.median),
    },
    defaultPauseAddsMs,
    dashboardWithDefaultPauseMs: withPause,
  };
}

async function measureLine(line: EtcdLine, settings: Settings): Promise<LineResult> {
  const rig = await startRig(line, settings);
  try {
    const version = rig.cluster.binaries.version;
    log(`etcd ${version}: 3 members on ports ${DEFRAGMENT_ETCD_BASE}–${DEFRAGMENT_ETCD_BASE + 3 * MEMBERS - 1}`);
    await healthyObservation(rig, Date.now());
    const calibration = spread(await etcdctlCallMs(rig));
    log(
      `etcd ${version}: \`etcdctl endpoint status\` takes ${calibration.median} ms (median of ${ETCDCTL_CALIBRATION})`,
    );
    const sample = { etcdctlOutput: '' };
    const scenarios: ScenarioResult[] = [];
    let live = 0;
    for (const liveMiB of settings.liveMiB) {
      if (liveMiB > live) log(`etcd ${version}: writing ${liveMiB - live} MiB of live data, kept from here on…`);
      await addLiveData(rig, live, liveMiB, settings);
      live = Math.max(live, liveMiB);
      log(`etcd ${version}: ${live} MiB of live data`);
      scenarios.push(await measureScenario(rig, settings, live, sample));
    }
    return { line, version, scenarios, etcdctlOutput: sample.etcdctlOutput, etcdctlCallMs: calibration };
  } finally {
    await rig.close();
  }
}

export async function runDefragment(quick = false): Promise<DefragmentResult> {
  const settings: Settings = {
    ...(quick ? QUICK : FULL),
    defaultPauseBetweenMembersMs: DEFAULT_MAINTENANCE_SETTINGS.pauseBetweenMembersMs,
  };
  const lines = linesToMeasure();
  await emptyWorkDir(WORK);
  const results: LineResult[] = [];
  for (const line of lines) results.push(await measureLine(line, settings));
  rmSync(WORK, { recursive: true, force: true });
  // The record's machine line names the etcd of the first line measured (bench/lib/machine.ts runs ETCD_BIN).
  const first = lines[0] ? etcdBinaries(lines[0]) : null;
  if (first) process.env.ETCD_BIN = first.etcd;
  return { settings, lines: results };
}

if (require.main === module) {
  figureMain('defragment', ({ quick }) => runDefragment(quick));
}
