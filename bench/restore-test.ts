// Issue 16's benchmark (figure 8): the dashboard's restore test (lib/snapshots/restore-tester.ts, RestoreTester.runOne)
// of a 1 GiB snapshot against doing the same by hand as an operator would — `etcdutl snapshot restore` into a folder,
// `etcd` started on it, `etcdctl endpoint health` until it answers, `etcdctl get --prefix --keys-only --limit 1` for
// the revision and the key count, `etcdctl endpoint hashkv` of the copy and of the source cluster, then the member
// stopped and the folder removed. For each run: the wall time, its phases, and the peak disk the run's scratch folder
// took (its allocated blocks, sampled every 100 ms, and the file system's free space, sampled as often).
//
// Run alone with `npm run bench -- --only restore-test`, or `npx tsx --conditions=react-server bench/restore-test.ts
// [--quick]` (the condition lets `server-only` load outside Next). Nothing here needs the production build: the
// restore tester is wired as lib/app/dashboard.ts wires it, over a real 1-member mTLS cluster (scripts/lib).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { AuditLog } from '../lib/auth/audit-log';
import { sqliteStore } from '../lib/db/sqlite-store';
import { lowestVersion } from '../lib/cluster/etcd-version';
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
import { createMemberClient, createStatusClient } from '../lib/etcd/member-client';
import { clearScratchRoot } from '../lib/etcd/scratch-member';
import { EventStore } from '../lib/history/event-store';
import { SampleStore } from '../lib/history/sample-store';
import { EtcdBinaryFinder, etcdLineOf } from '../lib/snapshots/restore-binaries';
import { clusterHashKV, RestoreTester, SPACE_MARGIN_BYTES } from '../lib/snapshots/restore-tester';
import { snapshotStatus } from '../lib/snapshots/snapshot-status';
import { SnapshotRecords } from '../lib/snapshots/snapshot-records';
import { SnapshotStore } from '../lib/snapshots/snapshot-store';
import type { KeyspacePrefix, RestoreTest } from '../lib/snapshots/snapshot-types';
import type { LocalCluster } from '../scripts/lib/local-cluster';
import { ROOT } from './lib/machine';
import { RESTORE_ETCD_BASE, RESTORE_HAND_PORTS } from './lib/ports';
import { figureMain } from './lib/results';
import { assertPortFree, emptyWorkDir, freshCluster, sleep, stopOnInterrupt } from './lib/stack';
import { median, round3 } from './lib/stats';

const WORK = path.join(ROOT, '.cluster', 'bench-restore-test');
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
/** Kubernetes-like keys. */
const RESOURCES = ['pods', 'configmaps', 'events', 'secrets', 'replicasets'];
/** The by-hand member's name; the dashboard's is "restore-test" (lib/etcd/scratch-member.ts). */
const HAND_NAME = 'by-hand';
/** What lib/etcd/scratch-member.ts runs its commands under, where both exist. */
const LOW_PRIORITY = ['/usr/bin/ionice', '/usr/bin/nice'];
/** Files kept in the record from the sample with the peak: the largest ones. */
const PEAK_FILES_KEPT = 6;

interface Settings {
  /** The cluster is filled until its db file reaches this; the snapshot is that file. */
  targetDbBytes: number;
  /** Each value is this many random bytes (incompressible), drawn uniformly. */
  valueBytesMin: number;
  valueBytesMax: number;
  putsPerTxn: number;
  txnsInFlight: number;
  quotaBackendBytes: number;
  /** Rounds of one run each way; the order alternates from round to round. */
  rounds: number;
  /** Unrecorded runs, one each way, before the rounds: the first restore after filling ran twice as long. */
  warmUp: boolean;
  /** How often the scratch folder's size and the file system's free space are read. */
  sampleIntervalMs: number;
  /** The by-hand run's pause between two `etcdctl endpoint health` tries (the dashboard's is 100 ms too). */
  healthPollMs: number;
  /** The dashboard's time budget for the whole test (its default, restoreTest.timeBudgetSeconds 600). */
  timeBudgetMs: number;
  pollIntervalMs: number;
  probeTimeoutMs: number;
  metricsIntervalMs: number;
}

const FULL: Settings = {
  targetDbBytes: GIB,
  valueBytesMin: 512,
  valueBytesMax: 7680,
  putsPerTxn: 128,
  txnsInFlight: 4,
  quotaBackendBytes: 4 * GIB,
  rounds: 7,
  warmUp: true,
  sampleIntervalMs: 100,
  healthPollMs: 100,
  timeBudgetMs: 600_000,
  pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
  probeTimeoutMs: DEFAULT_PROBE_TIMEOUT_MS,
  metricsIntervalMs: DEFAULT_METRICS_INTERVAL_MS,
};
const QUICK: Settings = { ...FULL, targetDbBytes: 48 * MIB, rounds: 1 };

export type Method = 'dashboard' | 'by-hand';

/** Where a run's time went, ms; the same five phases for both methods. */
export interface Phases {
  /**
   * Dashboard: from runOne's call (version lookup, free-space check, scratch folder) until the scratch member's PID
   * file appeared (polled every 10 ms); by hand: the `etcdutl snapshot restore` process.
   */
  restore: number;
  /** Start the member, wait until `etcdctl endpoint health` answers, read revision and key count. */
  startAndCount: number;
  /** `etcdctl endpoint hashkv --rev` of the restored member. */
  restoredHashKV: number;
  /** The source cluster's HashKV at that revision (dashboard: clusterHashKV over mTLS; by hand: etcdctl). */
  sourceHashKV: number;
  /** Stop the member (SIGTERM, wait for its exit) and remove the folder; the dashboard also records the result. */
  stopAndRemove: number;
}

export interface PeakFile {
  /** Relative to the run's scratch root. */
  path: string;
  bytes: number;
}

export interface DiskRecord {
  /** The largest allocated size (st_blocks × 512, all files) seen under the run's scratch root. */
  peakBytes: number;
  /** When, ms since the run started. */
  peakAtMs: number;
  /** The largest files in that sample. */
  peakFiles: PeakFile[];
  /** The file system's free space at the start less the lowest seen during the run (others' writes count too). */
  freeDropBytes: number;
  samples: number;
}

export interface RunRecord {
  method: Method;
  round: number;
  /** 1 or 2: which of the round's two runs it was. */
  positionInRound: number;
  wallMs: number;
  phases: Phases;
  disk: DiskRecord;
  revision: number;
  totalKeys: number;
  hashKvEqual: boolean | null;
  /** The dashboard's recorded result (state, reason, its own durationMs); null for by-hand runs. */
  restoreTest: RestoreTest | null;
  /** By-hand runs: the start phase split, and how many `etcdctl endpoint health` it took. */
  byHand?: { healthyMs: number; healthTries: number; countMs: number; stopMs: number; removeMs: number };
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
  peakDiskBytes: Spread;
  freeDropBytes: Spread;
  phases: Record<keyof Phases, Spread>;
}

export interface RestoreTestResult {
  settings: Settings;
  etcd: {
    version: string;
    /** The binaries the cluster ran, and those the dashboard's EtcdBinaryFinder picked for the restore test. */
    clusterBin: string;
    finderBin: string;
    /** Whether the dashboard's commands ran under `ionice -c3 nice -n 19` (both exist here). */
    lowPriority: boolean;
    /** The I/O scheduler of the disk under the work folder, as /sys/block/<dev>/queue/scheduler says; null if unknown. */
    ioScheduler: string | null;
  };
  snapshot: {
    bytes: number;
    revision: number;
    totalKeys: number;
    /** Bytes of values written (all of them live: nothing was overwritten or deleted). */
    valueBytes: number;
    /** The member's db file and what of it was in use when the snapshot was saved. */
    dbSize: number;
    dbSizeInUse: number;
    fillMs: number;
    /** `etcdctl snapshot save`. */
    saveMs: number;
  };
  /** RestoreTester's free-space check: snapshot size + 64 MiB must be free in its scratch root. */
  spaceCheck: { needBytes: number; freeAtStartBytes: number };
  runs: RunRecord[];
  /** The warm-up runs (round 0), left out of every summary. */
  warmUp: RunRecord[];
  dashboard: MethodSummary;
  byHand: MethodSummary;
  /** dashboard ÷ by hand at the medians. */
  ratios: { wall: number; peakDisk: number };
  /** dashboard ÷ by hand wall time within each round (the two runs back to back). */
  wallRatioPerRound: number[];
}

function log(line: string): void {
  console.log(`restore-test: ${line}`);
}

function spread(values: number[]): Spread {
  const rounded = values.map((v) => Math.round(v));
  return { median: Math.round(median(values)), min: Math.min(...rounded), max: Math.max(...rounded), values: rounded };
}

/** Every file under `dir` with its allocated bytes (st_blocks × 512); files removed meanwhile are skipped. */
function allocatedFiles(dir: string, rel = ''): PeakFile[] {
  let entries;
  try {
    entries = readdirSync(path.join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: PeakFile[] = [];
  for (const e of entries) {
    const p = path.join(rel, e.name);
    try {
      const st = lstatSync(path.join(dir, p));
      if (e.isDirectory()) out.push(...allocatedFiles(dir, p));
      else out.push({ path: p, bytes: st.blocks * 512 });
    } catch {
      // removed between the listing and the stat
    }
  }
  return out;
}

async function freeBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return Number(fs.bavail) * Number(fs.bsize);
}

/** Polls every 10 ms for a file named `name` in a folder directly under `root`; `stop()` says when it first appeared. */
function watchForFile(root: string, name: string): { stop(): number | null } {
  let seenAt: number | null = null;
  const timer = setInterval(() => {
    try {
      for (const dir of readdirSync(root)) {
        if (existsSync(path.join(root, dir, name))) {
          seenAt = performance.now();
          clearInterval(timer);
          return;
        }
      }
    } catch {
      // the root is being made or emptied
    }
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return seenAt;
    },
  };
}

interface DiskSampler {
  /** performance.now() when sampling began (after a first sample): the run's start. */
  t0: number;
  /** Stops sampling (after one last sample); later calls return the same record. */
  stop(): Promise<DiskRecord>;
}

/**
 * Reads the allocated size of everything under `root` and the file system's free space every `intervalMs`, from a
 * first sample on; the run starts when this resolves.
 */
async function startDiskSampler(root: string, intervalMs: number): Promise<DiskSampler> {
  const freeAtStart = await freeBytes(root);
  let minFree = freeAtStart;
  let peak: { bytes: number; at: number; files: PeakFile[] } = { bytes: 0, at: 0, files: [] };
  let samples = 0;
  let t0 = performance.now();
  const sample = async () => {
    const at = performance.now() - t0;
    const files = allocatedFiles(root);
    const bytes = files.reduce((n, f) => n + f.bytes, 0);
    if (bytes > peak.bytes) peak = { bytes, at, files };
    minFree = Math.min(minFree, await freeBytes(root));
    samples++;
  };
  await sample();
  t0 = performance.now();
  let busy: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (busy) return;
    busy = sample().finally(() => (busy = null));
  }, intervalMs);
  let result: Promise<DiskRecord> | null = null;
  const finish = async (): Promise<DiskRecord> => {
    clearInterval(timer);
    await busy;
    await sample();
    const largest = [...peak.files].sort((a, b) => b.bytes - a.bytes).slice(0, PEAK_FILES_KEPT);
    return {
      peakBytes: peak.bytes,
      peakAtMs: Math.round(peak.at),
      peakFiles: largest,
      freeDropBytes: Math.max(0, freeAtStart - minFree),
      samples,
    };
  };
  return {
    t0,
    stop: () => (result ??= finish()),
  };
}

/** etcd and etcdctl read ETCD_* and ETCDCTL_* from the environment: none of this process's may leak in. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^ETCD(CTL)?_/.test(k)) delete env[k];
  return { ...env, ETCDCTL_API: '3', ...extra };
}

/** Runs a command to its end; resolves with stdout, rejects with its output on a non-zero exit. */
function run(bin: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out).toString());
      else
        reject(
          new Error(
            `${path.basename(bin)} ${args.slice(0, 3).join(' ')} ${signal ? `killed (${signal})` : `exited ${code}`}: ` +
              Buffer.concat(err).toString().trim().split('\n').slice(-3).join(' | '),
          ),
        );
    });
  });
}

/** The cluster, the collector and the restore tester over SQLite, as lib/app/dashboard.ts wires them. */
interface Rig {
  cluster: LocalCluster;
  config: ClusterConfig;
  db: Database.Database;
  store: TimedSnapshotStore;
  collector: ClusterCollector;
  finder: EtcdBinaryFinder;
  tester: RestoreTester;
  /** When the tester asked the source cluster for HashKV, and when it had the answer (performance.now()). */
  sourceHashCalls: Array<{ from: number; to: number }>;
  scratchRoot: string;
  close(): Promise<void>;
}

/** The snapshot store, noting when the tester reads a snapshot's keyspace: right after it counted the restored keys. */
class TimedSnapshotStore extends SnapshotStore {
  readonly keyspaceReads: number[] = [];

  override keyspace(clusterId: string, id: string): Promise<KeyspacePrefix[] | null> {
    this.keyspaceReads.push(performance.now());
    return super.keyspace(clusterId, id);
  }
}

async function startRig(settings: Settings): Promise<Rig> {
  const { cluster, forget } = await freshCluster({
    dir: path.join(WORK, 'cluster'),
    members: 1,
    basePort: RESTORE_ETCD_BASE,
    name: 'br',
    quotaBackendBytes: settings.quotaBackendBytes,
  });
  try {
    await cluster.start();
    // The dashboard reads the cluster from the ETCDCTL_* variables, as `npm start` does with no config file.
    const dataDir = path.join(WORK, 'dashboard-data');
    const dashboardConfig = loadConfig({ ...cluster.etcdctlEnv, DATA_DIR: dataDir });
    const config = dashboardConfig.clusters[0];
    if (!config) throw new Error('loadConfig found no cluster in the ETCDCTL_* variables');
    mkdirSync(dataDir, { recursive: true });
    const db = openDatabase(path.join(WORK, 'dashboard.sqlite'));
    const kysely = sqliteStore(db);
    const recorder = new HistoryRecorder(new SampleStore(kysely), new EventStore(kysely));
    const collector = new ClusterCollector(config, {
      pollIntervalMs: settings.pollIntervalMs,
      probeTimeoutMs: settings.probeTimeoutMs,
      metricsIntervalMs: settings.metricsIntervalMs,
      recorder,
    });
    const store = new TimedSnapshotStore(kysely);
    const finder = new EtcdBinaryFinder(dashboardConfig.etcdBinaries);
    const observe = () => collector.current();
    const sourceHashCalls: Rig['sourceHashCalls'] = [];
    const scratchRoot = path.join(dataDir, 'restore-tests');
    const snapshotDir = path.join(WORK, 'snapshots');
    // lib/app/dashboard.ts's wiring, less the off-site copy (this benchmark restores the local file).
    const tester = new RestoreTester({
      records: new SnapshotRecords(store),
      audit: new AuditLog(kysely),
      tools: (line) => finder.tools(line),
      scratchRoot,
      file: (s) => path.join(snapshotDir, s.fileName),
      clusterVersion: (_id, memberId) => {
        const members = observe()?.members ?? [];
        const own = members.find((m) => m.id === memberId)?.status?.version;
        return own ?? lowestVersion(members.map((m) => m.status?.version));
      },
      sourceHashKV: async (_id, revision) => {
        const from = performance.now();
        try {
          return await clusterHashKV(config, observe(), revision);
        } finally {
          sourceHashCalls.push({ from, to: performance.now() });
        }
      },
      timeBudgetMs: settings.timeBudgetMs,
    });
    collector.start();
    return {
      cluster,
      config,
      db,
      store,
      collector,
      finder,
      tester,
      sourceHashCalls,
      scratchRoot,
      async close() {
        collector.stop();
        await recorder.flush().catch(() => undefined);
        db.close();
        forget();
        await cluster.stop();
      },
    };
  } catch (err) {
    forget();
    await cluster.stop();
    throw err;
  }
}

/** Until the collector has seen the member healthy with its version (the tester picks the etcd release from it). */
async function waitObserved(rig: Rig, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = rig.collector.current()?.members[0];
    if (m?.health === 'healthy' && m.status?.version) return m.status.version;
    await sleep(200);
  }
  throw new Error(`the collector did not see the member healthy within ${timeoutMs} ms`);
}

/**
 * Fills the member with random (incompressible) values in transactions until its db file reaches the target; returns
 * the bytes of values written.
 */
async function fill(rig: Rig, settings: Settings): Promise<{ valueBytes: number; dbSize: number; inUse: number }> {
  const endpoint = rig.cluster.endpoints[0] as string;
  const client = createMemberClient({ endpoint, tls: rig.config.tls, timeoutMs: 60_000 });
  const status = createStatusClient({ endpoint, tls: rig.config.tls, timeoutMs: 10_000 });
  let written = 0;
  let n = 0;
  let lastLog = 0;
  try {
    for (;;) {
      const s = await status.status();
      const dbSize = Number(s.dbSize ?? 0);
      if (dbSize >= settings.targetDbBytes) return { valueBytes: written, dbSize, inUse: Number(s.dbSizeInUse ?? 0) };
      if (written - lastLog >= 128 * MIB) {
        lastLog = written;
        log(`filling: ${(written / MIB).toFixed(0)} MiB of values written, db ${(dbSize / MIB).toFixed(0)} MiB`);
      }
      // A few batches between two Status calls.
      for (let b = 0; b < 4; b++) {
        await Promise.all(
          Array.from({ length: settings.txnsInFlight }, () => {
            const puts = Array.from({ length: settings.putsPerTxn }, () => {
              const size =
                settings.valueBytesMin + Math.floor(Math.random() * (settings.valueBytesMax - settings.valueBytesMin));
              written += size;
              const i = n++;
              const key = `/registry/${RESOURCES[i % RESOURCES.length]}/ns${i % 40}/obj-${i}`;
              return client.put(key).value(randomBytes(size));
            });
            return client
              .if('/bench/none', 'Version', '==', 0)
              .then(...puts)
              .commit();
          }),
        );
      }
    }
  } finally {
    client.close();
    status.close();
  }
}

/** The disk of the work folder and its I/O scheduler ("mq-deadline"), from /sys; null when it cannot be told. */
function ioScheduler(dir: string): string | null {
  try {
    const dev = statSync(dir).dev;
    const id = `${Math.floor(dev / 256)}:${dev % 256}`;
    for (const name of readdirSync('/sys/block')) {
      const devId = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim();
      if (devId !== id) continue;
      const text = readFileSync(`/sys/block/${name}/queue/scheduler`, 'utf8');
      return /\[([^\]]+)\]/.exec(text)?.[1] ?? text.trim();
    }
  } catch {
    // not Linux, or no such file
  }
  return null;
}

interface Prepared {
  id: string;
  file: string;
  revision: number;
  totalKeys: number;
  bytes: number;
}

/** `etcdctl snapshot save` with the cluster's own etcdctl, and a verified record of it as the snapshot manager leaves one. */
async function prepareSnapshot(rig: Rig): Promise<Prepared & { saveMs: number }> {
  const dir = path.join(WORK, 'snapshots');
  mkdirSync(dir, { recursive: true });
  const fileName = 'bench-restore.db';
  const file = path.join(dir, fileName);
  const t = performance.now();
  await run(rig.cluster.binaries.etcdctl, ['snapshot', 'save', file], cleanEnv(rig.cluster.etcdctlEnv));
  const saveMs = performance.now() - t;
  const st = await snapshotStatus(file);
  const bytes = statSync(file).size;
  const id = '20261206T000000Z-bench8';
  const member = rig.collector.current()?.members[0];
  await rig.store.insertVerified(
    {
      id,
      clusterId: rig.config.id,
      startedAt: Date.now(),
      memberId: member?.id ?? null,
      memberName: member?.name ?? null,
      trigger: 'manual',
      triggeredBy: 'bench',
      fileName,
    },
    {
      finishedAt: Date.now(),
      sizeBytes: bytes,
      revision: st.revision,
      totalKeys: st.totalKey,
      hash: st.hash,
      // Not read by a restore test of the local file (only a copy read back from S3 has its trailer checked).
      sha256: 'x'.repeat(64),
      keyspace: st.keyspace,
      locations: [{ kind: 'local', where: file }],
    },
  );
  return { id, file, revision: st.revision, totalKeys: st.totalKey, bytes, saveMs };
}

/** The dashboard's restore test of the prepared snapshot, timed, its scratch root sampled. */
async function dashboardRun(
  rig: Rig,
  settings: Settings,
  snap: Prepared,
): Promise<Omit<RunRecord, 'round' | 'positionInRound'>> {
  mkdirSync(rig.scratchRoot, { recursive: true, mode: 0o700 });
  rig.store.keyspaceReads.length = 0;
  rig.sourceHashCalls.length = 0;
  const sampler = await startDiskSampler(rig.scratchRoot, settings.sampleIntervalMs);
  const pidFile = watchForFile(rig.scratchRoot, 'etcd.pid');
  const t0 = sampler.t0;
  const t = await rig.tester.runOne(rig.config.id, snap.id);
  const wallMs = performance.now() - t0;
  const pidSeenAt = pidFile.stop();
  const disk = await sampler.stop();
  if (!t || t.state !== 'passed' || t.hashKvEqual !== true) {
    throw new Error(`the dashboard's restore test did not pass with HashKV equal: ${JSON.stringify(t)}`);
  }
  const started = pidSeenAt === null ? null : pidSeenAt - t0;
  const counted = rig.store.keyspaceReads[0];
  const source = rig.sourceHashCalls[0];
  if (started === null || counted === undefined || !source) {
    throw new Error('could not tell the phases of the dashboard run (no PID file seen, or no keyspace read)');
  }
  const at = (x: number) => x - t0;
  const phases: Phases = {
    restore: Math.round(started),
    startAndCount: Math.round(at(counted) - started),
    restoredHashKV: Math.round(source.from - counted),
    sourceHashKV: Math.round(source.to - source.from),
    stopAndRemove: Math.round(wallMs - at(source.to)),
  };
  return {
    method: 'dashboard',
    wallMs: Math.round(wallMs),
    phases,
    disk,
    revision: t.revision ?? 0,
    totalKeys: t.totalKeys ?? 0,
    hashKvEqual: t.hashKvEqual,
    restoreTest: t,
  };
}

interface HandMember {
  child: ChildProcess | null;
}

/** Stops the by-hand member by its PID: SIGTERM, then SIGKILL after 5 s; resolves when it has exited. */
async function stopHand(m: HandMember): Promise<void> {
  const child = m.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
  m.child = null;
}

const hashOf = (out: string) => {
  const j = JSON.parse(out) as Array<{ HashKV?: { hash?: number; compact_revision?: number } }>;
  const h = j[0]?.HashKV;
  if (!h || typeof h.hash !== 'number') throw new Error(`etcdctl endpoint hashkv gave no hash: ${out.slice(0, 200)}`);
  return { hash: h.hash >>> 0, compactRevision: Number(h.compact_revision ?? 0) };
};

/** An operator's restore test: etcdutl, etcd, etcdctl, by hand, at normal priority, on loopback ports. */
async function handRun(
  rig: Rig,
  settings: Settings,
  snap: Prepared,
  member: HandMember,
): Promise<Omit<RunRecord, 'round' | 'positionInRound'>> {
  const root = path.join(WORK, 'by-hand');
  mkdirSync(root, { recursive: true });
  const bins = rig.cluster.binaries;
  const env = cleanEnv();
  const clientUrl = `http://127.0.0.1:${RESTORE_HAND_PORTS.client}`;
  const peerUrl = `http://127.0.0.1:${RESTORE_HAND_PORTS.peer}`;
  const ctl = (args: string[], timeoutMs = 60_000) =>
    run(bins.etcdctl, [`--endpoints=${clientUrl}`, ...args], env, timeoutMs);
  const sampler = await startDiskSampler(root, settings.sampleIntervalMs);
  const t0 = sampler.t0;
  const dir = mkdtempSync(path.join(root, 'restore-'));
  const dataDir = path.join(dir, 'data');
  let stderr = '';
  try {
    await run(
      bins.etcdutl ?? bins.etcdctl,
      [
        'snapshot',
        'restore',
        snap.file,
        '--data-dir',
        dataDir,
        '--name',
        HAND_NAME,
        '--initial-cluster',
        `${HAND_NAME}=${peerUrl}`,
        '--initial-advertise-peer-urls',
        peerUrl,
      ],
      env,
    );
    const tRestored = performance.now();
    const child = spawn(
      bins.etcd,
      [
        '--name',
        HAND_NAME,
        '--data-dir',
        dataDir,
        '--listen-client-urls',
        clientUrl,
        '--advertise-client-urls',
        clientUrl,
        '--listen-peer-urls',
        peerUrl,
        '--initial-advertise-peer-urls',
        peerUrl,
        '--initial-cluster',
        `${HAND_NAME}=${peerUrl}`,
        '--log-level',
        'warn',
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    member.child = child;
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    const deadline = Date.now() + 60_000;
    let healthTries = 0;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited ${child.exitCode} on the restored data: ${stderr}`);
      try {
        healthTries++;
        await ctl(['--command-timeout=2s', 'endpoint', 'health'], 4_000);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      await sleep(settings.healthPollMs);
    }
    const tHealthy = performance.now();
    const counted = JSON.parse(await ctl(['-w', 'json', 'get', '', '--prefix', '--keys-only', '--limit', '1'])) as {
      header?: { revision?: number };
      count?: number;
    };
    const revision = Number(counted.header?.revision ?? 0);
    const totalKeys = Number(counted.count ?? 0);
    const tCounted = performance.now();
    const restored = hashOf(await ctl(['-w', 'json', 'endpoint', 'hashkv', '--rev', String(revision)]));
    const tHashed = performance.now();
    // The source cluster, over mTLS, with the cluster's ETCDCTL_* variables.
    const source = hashOf(
      await run(
        bins.etcdctl,
        ['-w', 'json', 'endpoint', 'hashkv', '--rev', String(revision)],
        cleanEnv(rig.cluster.etcdctlEnv),
      ),
    );
    const tSource = performance.now();
    await stopHand(member);
    const tStopped = performance.now();
    rmSync(dir, { recursive: true, force: true });
    const wallMs = performance.now() - t0;
    const disk = await sampler.stop();
    if (revision !== snap.revision || totalKeys !== snap.totalKeys) {
      throw new Error(
        `by hand: revision ${revision}, ${totalKeys} keys; the snapshot has ${snap.revision}, ${snap.totalKeys}`,
      );
    }
    if (restored.hash !== source.hash) throw new Error(`by hand: HashKV ${restored.hash} ≠ source ${source.hash}`);
    return {
      method: 'by-hand',
      wallMs: Math.round(wallMs),
      phases: {
        restore: Math.round(tRestored - t0),
        startAndCount: Math.round(tCounted - tRestored),
        restoredHashKV: Math.round(tHashed - tCounted),
        sourceHashKV: Math.round(tSource - tHashed),
        stopAndRemove: Math.round(wallMs - (tSource - t0)),
      },
      disk,
      revision,
      totalKeys,
      hashKvEqual: true,
      restoreTest: null,
      byHand: {
        healthyMs: Math.round(tHealthy - tRestored),
        healthTries,
        countMs: Math.round(tCounted - tHealthy),
        stopMs: Math.round(tStopped - tSource),
        removeMs: Math.round(wallMs - (tStopped - t0)),
      },
    };
  } finally {
    await stopHand(member);
    rmSync(dir, { recursive: true, force: true });
    await sampler.stop();
  }
}

function summarize(runs: RunRecord[]): MethodSummary {
  const phase = (k: keyof Phases) => spread(runs.map((r) => r.phases[k]));
  return {
    runs: runs.length,
    wallMs: spread(runs.map((r) => r.wallMs)),
    peakDiskBytes: spread(runs.map((r) => r.disk.peakBytes)),
    freeDropBytes: spread(runs.map((r) => r.disk.freeDropBytes)),
    phases: {
      restore: phase('restore'),
      startAndCount: phase('startAndCount'),
      restoredHashKV: phase('restoredHashKV'),
      sourceHashKV: phase('sourceHashKV'),
      stopAndRemove: phase('stopAndRemove'),
    },
  };
}

const mibOf = (b: number) => `${(b / MIB).toFixed(0)} MiB`;

export async function runRestoreTest(quick = false): Promise<RestoreTestResult> {
  const settings = quick ? QUICK : FULL;
  await emptyWorkDir(WORK);
  for (const p of Object.values(RESTORE_HAND_PORTS)) await assertPortFree(p);
  const member: HandMember = { child: null };
  let rig: Rig | null = null;
  // On Ctrl-C: the by-hand member and a scratch member by their PIDs, then the folders (gigabytes).
  const forgetCleanup = stopOnInterrupt(async () => {
    await stopHand(member);
    if (rig) await clearScratchRoot(rig.scratchRoot);
    await rig?.close();
    rmSync(WORK, { recursive: true, force: true });
  });
  try {
    rig = await startRig(settings);
    const r = rig;
    const version = await waitObserved(r);
    const tools = r.finder.tools(etcdLineOf(version) ?? '');
    if (!tools) throw new Error(`the dashboard's EtcdBinaryFinder has no etcd ${version} here`);
    log(
      `etcd ${version}: 1 member on ports ${RESTORE_ETCD_BASE}–${RESTORE_ETCD_BASE + 2}; filling to ${mibOf(settings.targetDbBytes)}…`,
    );
    const tFill = performance.now();
    const filled = await fill(r, settings);
    const fillMs = performance.now() - tFill;
    log(
      `filled in ${(fillMs / 1000).toFixed(0)} s: ${mibOf(filled.valueBytes)} of values, db ${mibOf(filled.dbSize)} ` +
        `(${mibOf(filled.inUse)} in use); saving a snapshot with etcdctl…`,
    );
    const snap = await prepareSnapshot(r);
    log(
      `snapshot ${mibOf(snap.bytes)} in ${(snap.saveMs / 1000).toFixed(1)} s: revision ${snap.revision}, ` +
        `${snap.totalKeys} keys`,
    );
    // What the fill and the snapshot left for the kernel to write back is written now, not during the first run.
    await run('sync', ['-f', WORK], process.env);
    const freeAtStartBytes = await freeBytes(WORK);
    const measure = async (round: number, i: number, method: Method): Promise<RunRecord> => {
      await sleep(1000);
      const one =
        method === 'dashboard' ? await dashboardRun(r, settings, snap) : await handRun(r, settings, snap, member);
      const rec: RunRecord = { ...one, round, positionInRound: i + 1 };
      const p = rec.phases;
      log(
        `${round === 0 ? 'warm-up' : `round ${round}`}, ${method}: ${(rec.wallMs / 1000).toFixed(1)} s (restore ` +
          `${p.restore}, start+count ${p.startAndCount}, hashkv ${p.restoredHashKV}, source hashkv ` +
          `${p.sourceHashKV}, stop+rm ${p.stopAndRemove} ms); peak disk ${mibOf(rec.disk.peakBytes)} (free space ` +
          `fell ${mibOf(rec.disk.freeDropBytes)})`,
      );
      return rec;
    };
    const warmUp: RunRecord[] = [];
    if (settings.warmUp) {
      for (const [i, method] of (['dashboard', 'by-hand'] as const).entries()) warmUp.push(await measure(0, i, method));
    }
    const runs: RunRecord[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      // Alternating which goes first, so neither always runs on a machine the other has just warmed or tired.
      const order: Method[] = round % 2 === 1 ? ['dashboard', 'by-hand'] : ['by-hand', 'dashboard'];
      for (const [i, method] of order.entries()) runs.push(await measure(round, i, method));
    }
    const dashboard = summarize(runs.filter((x) => x.method === 'dashboard'));
    const byHand = summarize(runs.filter((x) => x.method === 'by-hand'));
    const div = (a: number, b: number) => (b > 0 ? round3(a / b) : 0);
    const perRound = Array.from({ length: settings.rounds }, (_, i) => {
      const of = (m: Method) => runs.find((x) => x.round === i + 1 && x.method === m)?.wallMs ?? 0;
      return div(of('dashboard'), of('by-hand'));
    });
    // The record's machine line names the cluster's etcd (bench/lib/machine.ts runs ETCD_BIN).
    process.env.ETCD_BIN = r.cluster.binaries.etcd;
    return {
      settings,
      etcd: {
        version,
        clusterBin: r.cluster.binaries.etcd,
        finderBin: tools.etcd,
        lowPriority: LOW_PRIORITY.every((p) => existsSync(p)),
        ioScheduler: ioScheduler(WORK),
      },
      snapshot: {
        bytes: snap.bytes,
        revision: snap.revision,
        totalKeys: snap.totalKeys,
        valueBytes: filled.valueBytes,
        dbSize: filled.dbSize,
        dbSizeInUse: filled.inUse,
        fillMs: Math.round(fillMs),
        saveMs: Math.round(snap.saveMs),
      },
      spaceCheck: { needBytes: snap.bytes + SPACE_MARGIN_BYTES, freeAtStartBytes },
      runs,
      warmUp,
      dashboard,
      byHand,
      ratios: {
        wall: div(dashboard.wallMs.median, byHand.wallMs.median),
        peakDisk: div(dashboard.peakDiskBytes.median, byHand.peakDiskBytes.median),
      },
      wallRatioPerRound: perRound,
    };
  } finally {
    await stopHand(member);
    if (rig) await clearScratchRoot(rig.scratchRoot);
    await rig?.close();
    forgetCleanup();
    rmSync(WORK, { recursive: true, force: true });
  }
}

if (require.main === module) {
  figureMain('restore-test', ({ quick }) => runRestoreTest(quick));
}
