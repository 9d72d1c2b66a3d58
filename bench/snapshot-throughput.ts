// Figure 3: snapshot throughput against `etcdctl snapshot save` from the same member on the same data, alternating
// runs, and the dashboard's memory while it takes a snapshot of the whole database through its API.
// Run alone with `npx tsx --conditions=react-server bench/snapshot-throughput.ts [--quick]` (the condition lets
// `server-only` load outside Next); bench/run.ts runs it and writes the numbers to docs/.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { streamSnapshotToFile } from '../lib/etcd/snapshot-stream';
import { Sha256TrailerChecker } from '../lib/snapshots/snapshot-integrity';
import type { LocalCluster } from '../scripts/lib/local-cluster';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import { ROOT } from './lib/machine';
import { SNAPSHOT_DASHBOARD_PORT, SNAPSHOT_ETCD_BASE } from './lib/ports';
import { rssBytes } from './lib/proc';
import { figureMain } from './lib/results';
import {
  assertBuild,
  assertPortFree,
  emptyWorkDir,
  freshCluster,
  sleep,
  stopOnInterrupt,
  tail,
  waitForStatus,
} from './lib/stack';
import { median, round3 } from './lib/stats';

const WORK = path.join(ROOT, '.cluster', 'bench-snapshot');
const MIB = 1024 * 1024;
/** The project's targets (docs/performance.md): throughput at least 0.9 of etcdctl's; +64 MiB while streaming. */
const TARGET_RATIO = 0.9;
const TARGET_GROWTH_WHILE_STREAMING_BYTES = 64 * MIB;

interface Settings {
  /** 1 MiB values written; the database, and so the snapshot, ends up about 1.2× that. */
  values: number;
  /** Pairs of runs, one of each tool; the order alternates from pair to pair. */
  runs: number;
}

/** 1,024 values of 1 MiB: a snapshot over 1 GiB, so one data set serves both (≥ 256 MB and 1 GiB). */
const FULL: Settings = { values: 1024, runs: 4 };
const QUICK: Settings = { values: 64, runs: 2 };

export interface SnapshotThroughputResult {
  settings: Settings;
  snapshotBytes: number;
  throughput: {
    /** Which tool went first in each pair. */
    firstInPair: Array<'etcdctl' | 'dashboard'>;
    etcdctl: { ms: number[]; medianMs: number; mbPerSecond: number; peakRssBytes: number };
    dashboardWriter: { ms: number[]; medianMs: number; mbPerSecond: number };
    /** The dashboard writer's throughput ÷ etcdctl's, at the medians. */
    ratio: number;
    targetRatio: number;
    meetsTarget: boolean;
  };
  apiSnapshot: {
    /** POST to a verified record: stream, SHA-256 trailer, bbolt status and keyspace breakdown. */
    totalMs: number;
    rssBaselineBytes: number;
    rssPeakBytes: number;
    rssGrowthBytes: number;
    rssGrowthWhileStreamingBytes: number;
    targetGrowthWhileStreamingBytes: number;
    meetsTarget: boolean;
  };
}

function log(line: string): void {
  console.log(`snapshot-throughput: ${line}`);
}

function fill(cluster: LocalCluster, values: number): void {
  // 768 KiB of random bytes, base64: 1 MiB values that nothing compresses away; etcdctl put reads them from stdin.
  const value = randomBytes(768 * 1024).toString('base64');
  const env = { ...process.env, ...cluster.etcdctlEnv, ETCDCTL_ENDPOINTS: cluster.endpoints[0] as string };
  // One value per request: etcd refuses requests over 1.5 MiB by default.
  for (let i = 0; i < values; i++) {
    execFileSync('etcdctl', ['put', `/bench/value-${i}`], { env, input: value, stdio: ['pipe', 'ignore', 'pipe'] });
    if ((i + 1) % 256 === 0) log(`${i + 1} of ${values} values written`);
  }
}

/** `etcdctl snapshot save`, timed, with its peak RSS sampled from /proc every 20 ms. */
function etcdctlSave(env: NodeJS.ProcessEnv, file: string): Promise<{ ms: number; peakRss: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('etcdctl', ['snapshot', 'save', file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let peakRss = 0;
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setInterval(() => {
      if (child.pid !== undefined) peakRss = Math.max(peakRss, rssBytes(child.pid) ?? 0);
    }, 20);
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - t0;
      clearInterval(timer);
      if (code === 0) resolve({ ms, peakRss });
      else reject(new Error(`etcdctl snapshot save exited ${code}: ${stderr.trim()}`));
    });
  });
}

async function apiSnapshot(cluster: LocalCluster): Promise<SnapshotThroughputResult['apiSnapshot']> {
  const password = 'bench-admin-password';
  let dashboard: DashboardProcess | null = null;
  const forget = stopOnInterrupt(async () => {
    await dashboard?.stop();
  });
  try {
    dashboard = await startDashboard({
      port: SNAPSHOT_DASHBOARD_PORT,
      env: {
        ...cluster.etcdctlEnv,
        ETCD_DASHBOARD_CONFIG: '',
        DASHBOARD_ANONYMOUS: 'viewer',
        DASHBOARD_ADMIN_PASSWORD: password,
      },
      dataDir: path.join(WORK, 'data'),
      logFile: path.join(WORK, 'dashboard.log'),
    });
    const d = dashboard;
    const login = await fetch(`${d.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    if (!login.ok) throw new Error(`login: HTTP ${login.status}`);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    // Wait for the first poll so the dashboard knows the member's DB size.
    await waitForStatus(
      `${d.url}/api/clusters/default/status`,
      (s) => s.observedAt !== null,
      10_000,
      'a first poll of the member (observedAt set)',
    );
    await sleep(2000);
    const baseline = rssBytes(d.pid) ?? 0;
    let peak = baseline;
    let streamingPeak = baseline;
    let phase = 'streaming';
    const sampler = setInterval(() => {
      const rss = rssBytes(d.pid) ?? 0;
      peak = Math.max(peak, rss);
      if (phase === 'streaming') streamingPeak = Math.max(streamingPeak, rss);
    }, 20);
    const t0 = performance.now();
    const post = await fetch(`${d.url}/api/clusters/default/snapshots`, { method: 'POST', headers: { cookie } });
    if (!post.ok) throw new Error(`POST snapshots: HTTP ${post.status}: ${await post.text()}`);
    const started = (await post.json()) as { id: string };
    type Rec = { status: string; error: string | null; progress: { phase: string } | null };
    let record: Rec = { status: 'running', error: null, progress: { phase: 'streaming' } };
    while (record.status === 'running' || record.progress) {
      await sleep(50);
      record = (await (await fetch(`${d.url}/api/clusters/default/snapshots/${started.id}`)).json()) as Rec;
      phase = record.progress?.phase ?? 'done';
    }
    const totalMs = performance.now() - t0;
    clearInterval(sampler);
    if (record.status !== 'succeeded') throw new Error(`the API snapshot ${record.status}: ${record.error}`);
    const growthWhileStreaming = streamingPeak - baseline;
    return {
      totalMs: Math.round(totalMs),
      rssBaselineBytes: baseline,
      rssPeakBytes: peak,
      rssGrowthBytes: peak - baseline,
      rssGrowthWhileStreamingBytes: growthWhileStreaming,
      targetGrowthWhileStreamingBytes: TARGET_GROWTH_WHILE_STREAMING_BYTES,
      meetsTarget: growthWhileStreaming < TARGET_GROWTH_WHILE_STREAMING_BYTES,
    };
  } catch (err) {
    if (dashboard) console.error(`--- dashboard log (${dashboard.logFile})\n${tail(dashboard.logFile, 30)}`);
    throw err;
  } finally {
    forget();
    await dashboard?.stop();
  }
}

export async function runSnapshotThroughput(quick = false): Promise<SnapshotThroughputResult> {
  const settings = quick ? QUICK : FULL;
  assertBuild();
  await assertPortFree(SNAPSHOT_DASHBOARD_PORT);
  // Stops by PID what a killed run left in WORK/cluster, and clears its snapshots and dashboard data.
  await emptyWorkDir(WORK);
  const { cluster, forget } = await freshCluster({
    dir: path.join(WORK, 'cluster'),
    members: 1,
    basePort: SNAPSHOT_ETCD_BASE,
    name: 'benchsnap',
    quotaBackendBytes: 8 * 1024 ** 3,
  });
  try {
    await cluster.start();
    log(`filling the member with ${settings.values} values of 1 MiB…`);
    fill(cluster, settings.values);
    const member = cluster.member(0);
    const tls = {
      ca: readFileSync(cluster.state.caCert),
      cert: readFileSync(cluster.state.clientCert),
      key: readFileSync(cluster.state.clientKey),
    };
    const env = { ...process.env, ...cluster.etcdctlEnv, ETCDCTL_ENDPOINTS: member.clientUrl };

    const ctl: number[] = [];
    const ours: number[] = [];
    const firstInPair: Array<'etcdctl' | 'dashboard'> = [];
    let bytes = 0;
    let ctlPeakRss = 0;
    const runEtcdctl = async (r: number) => {
      const file = path.join(WORK, `ctl-${r}.db`);
      const { ms, peakRss } = await etcdctlSave(env, file);
      ctl.push(ms);
      ctlPeakRss = Math.max(ctlPeakRss, peakRss);
      bytes = statSync(file).size;
      rmSync(file);
    };
    const runOurs = async (r: number) => {
      const file = path.join(WORK, `ours-${r}.db`);
      const trailer = new Sha256TrailerChecker();
      const t = performance.now();
      await streamSnapshotToFile({ endpoint: member.clientUrl, tls, file, onChunk: (c) => trailer.update(c) });
      ours.push(performance.now() - t);
      if (!trailer.finish().ok) throw new Error("the dashboard writer's snapshot failed its SHA-256 trailer check");
      rmSync(file);
    };
    // Alternating, and alternating which goes first, so neither always reads a database the other just warmed.
    for (let r = 0; r < settings.runs; r++) {
      const etcdctlFirst = r % 2 === 0;
      firstInPair.push(etcdctlFirst ? 'etcdctl' : 'dashboard');
      if (etcdctlFirst) {
        await runEtcdctl(r);
        await runOurs(r);
      } else {
        await runOurs(r);
        await runEtcdctl(r);
      }
      log(`pair ${r + 1}: etcdctl ${Math.round(ctl[r] ?? 0)} ms, dashboard writer ${Math.round(ours[r] ?? 0)} ms`);
    }
    const mbps = (ms: number) => Math.round(bytes / 1e6 / (ms / 1000));
    const ratio = round3(median(ctl) / median(ours));

    log('a snapshot of the same database through the production dashboard, its RSS sampled every 20 ms…');
    const api = await apiSnapshot(cluster);
    log(`API snapshot ${api.totalMs} ms; RSS growth ${(api.rssGrowthBytes / MIB).toFixed(0)} MiB`);
    return {
      settings,
      snapshotBytes: bytes,
      throughput: {
        firstInPair,
        etcdctl: {
          ms: ctl.map(Math.round),
          medianMs: Math.round(median(ctl)),
          mbPerSecond: mbps(median(ctl)),
          peakRssBytes: ctlPeakRss,
        },
        dashboardWriter: {
          ms: ours.map(Math.round),
          medianMs: Math.round(median(ours)),
          mbPerSecond: mbps(median(ours)),
        },
        ratio,
        targetRatio: TARGET_RATIO,
        meetsTarget: ratio >= TARGET_RATIO,
      },
      apiSnapshot: api,
    };
  } finally {
    forget();
    await cluster.stop();
    rmSync(WORK, { recursive: true, force: true });
  }
}

if (require.main === module) {
  figureMain('snapshot-throughput', ({ quick }) => runSnapshotThroughput(quick));
}
