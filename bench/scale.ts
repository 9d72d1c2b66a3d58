// Figure 5: one dashboard process watching 10 real 3-member mTLS clusters at 1 s polling — its CPU and memory —
// measured in the same run, with the same 30 members up, next to the same dashboard watching one of them.
// Run alone with `npx tsx bench/scale.ts [--quick]`; bench/run.ts runs it and writes the numbers to docs/.
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import type { LocalCluster } from '../scripts/lib/local-cluster';
import { writeDashboardConfig } from '../e2e/support/config-file';
import { ROOT } from './lib/machine';
import { SCALE_DASHBOARD_PORTS, SCALE_ETCD_BASE } from './lib/ports';
import { cpuSeconds, rssBytes, watchProcess, type ProcessUsage } from './lib/proc';
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
  waitForStatus,
} from './lib/stack';
import { round3 } from './lib/stats';

const WORK = path.join(ROOT, '.cluster', 'bench-scale');
const MEMBERS = 3;
const POLL_INTERVAL_MS = 1000;
const REQUESTS_PER_POLL = requestsPerPoll(MEMBERS);

const ETCD_ENV = LOW_CPU_ETCD_ENV;

interface Settings {
  clusters: number;
  warmupSeconds: number;
  windowSeconds: number;
}

const FULL: Settings = { clusters: 10, warmupSeconds: 20, windowSeconds: 60 };
const QUICK: Settings = { clusters: 3, warmupSeconds: 5, windowSeconds: 10 };

export interface ScaleWindow {
  /** Clusters the dashboard watched (the others kept running, unwatched). */
  clusters: number;
  members: number;
  /** The dashboard process over the window: CPU as % of one core, RSS sampled every 250 ms. */
  dashboard: ProcessUsage;
  /** RSS when every watched cluster first showed healthy, before the warm-up. */
  rssAtReadyBytes: number;
  /** gRPC requests the watched clusters' members accepted (grpc_server_started_total), per cluster per second. */
  etcdRequestsPerSecondPerCluster: number;
  /** The same divided by the 8 calls of one poll: roughly how often each cluster was polled (target 1/s). */
  pollsPerSecondPerCluster: number;
  /** All running members together (watched or not), CPU over the window as % of one core: the machine's other load. */
  etcdCpuPercentOfOneCore: number;
  /** Leader elections in any running cluster during the window (etcd_server_leader_changes_seen_total). */
  leaderChanges: number;
  /** Read once per watched cluster right after the window: any answer that was not fresh and all healthy. */
  notAllHealthyAfter: string[];
  loadAverage1m: number;
}

export interface ScaleResult {
  pollIntervalMs: number;
  membersPerCluster: number;
  clustersRunning: number;
  warmupSeconds: number;
  windowSeconds: number;
  etcdEnvironment: Record<string, string>;
  /** The reference: the same dashboard, the same running members, one cluster in its configuration. */
  one: ScaleWindow;
  many: ScaleWindow;
  ratios: {
    /** many's CPU per cluster ÷ one's CPU: below 1 means each extra cluster costs less than the first. */
    cpuPerCluster: number;
    /** RSS peak and mean, many ÷ one (whole process, not per cluster). */
    rssPeak: number;
    rssMean: number;
  };
  /** (many's mean RSS − one's) ÷ the extra clusters: what one more watched cluster costs in memory. */
  rssPerExtraClusterBytes: number;
}

function log(line: string): void {
  console.log(`scale: ${line}`);
}

/** The clusters, with anonymous viewing; the poll interval is set by ETCD_DASHBOARD_POLL_INTERVAL_MS in `measure`. */
function writeConfig(file: string, clusters: LocalCluster[]): string {
  return writeDashboardConfig(
    file,
    clusters.map((c) => ({ id: c.state.name, name: c.state.name, cluster: c.state })),
    { anonymous: 'viewer' },
  );
}

function statusUrl(d: DashboardProcess, clusterId: string): string {
  return `${d.url}/api/clusters/${clusterId}/status`;
}

/** Waits, within one `timeoutMs` for all of them, until the dashboard shows every watched cluster healthy. */
async function waitAllHealthy(d: DashboardProcess, clusters: LocalCluster[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const c of clusters) {
    await waitForStatus(
      statusUrl(d, c.state.name),
      (s) => isAllHealthy(s, MEMBERS),
      Math.max(0, deadline - Date.now()),
      `cluster ${c.state.name} healthy (every watched cluster within ${timeoutMs} ms)`,
      5000,
    );
  }
}

async function notAllHealthy(d: DashboardProcess, clusters: LocalCluster[]): Promise<string[]> {
  const out: string[] = [];
  for (const c of clusters) {
    try {
      const s = await readStatus(statusUrl(d, c.state.name), 5000);
      if (!isAllHealthy(s, MEMBERS)) out.push(`${s.clusterId}: ${describeStatus(s)}`);
    } catch (err) {
      out.push(`${c.state.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

interface EtcdCounters {
  at: number;
  /** grpc_server_started_total summed over each cluster's members, by cluster name. */
  started: Map<string, number>;
  leaderChanges: number;
  cpuSeconds: number;
  pids: Array<number | null>;
}

async function readEtcd(clusters: LocalCluster[]): Promise<EtcdCounters> {
  const started = new Map<string, number>();
  let leaderChanges = 0;
  let cpu = 0;
  const pids: Array<number | null> = [];
  for (const c of clusters) {
    const texts = await Promise.all(c.state.members.map((m) => fetchMetrics(m.metricsUrl)));
    started.set(
      c.state.name,
      texts.reduce((sum, t) => sum + sumCounter(t, 'grpc_server_started_total'), 0),
    );
    leaderChanges += texts.reduce((sum, t) => sum + sumCounter(t, 'etcd_server_leader_changes_seen_total'), 0);
    for (const m of c.state.members) {
      pids.push(m.pid);
      cpu += m.pid === null ? 0 : (cpuSeconds(m.pid) ?? 0);
    }
  }
  return { at: performance.now(), started, leaderChanges, cpuSeconds: cpu, pids };
}

async function measure(
  label: string,
  port: number,
  watched: LocalCluster[],
  all: LocalCluster[],
  settings: Settings,
): Promise<ScaleWindow> {
  const file = writeConfig(path.join(WORK, `dashboard-${watched.length}.yaml`), watched);
  const dashboard = await startDashboard({
    port,
    env: {
      ETCD_DASHBOARD_CONFIG: file,
      ETCD_DASHBOARD_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
      ETCDCTL_ENDPOINTS: '',
    },
    dataDir: path.join(WORK, `data-${watched.length}`),
    logFile: path.join(WORK, `dashboard-${watched.length}.log`),
    timeoutMs: 60_000,
  });
  const forget = stopOnInterrupt(() => dashboard.stop());
  try {
    await waitAllHealthy(dashboard, watched, 60_000);
    const rssAtReady = rssBytes(dashboard.pid) ?? 0;
    log(`${label}: every watched cluster healthy; ${settings.warmupSeconds} s warm-up`);
    await sleep(settings.warmupSeconds * 1000);

    const before = await readEtcd(all);
    const usage = watchProcess(dashboard.pid);
    await sleep(settings.windowSeconds * 1000);
    const dashboardUsage = usage.stop();
    const after = await readEtcd(all);
    if (after.pids.some((p, i) => p === null || p !== before.pids[i])) {
      throw new Error('an etcd member restarted during the window: its counters reset');
    }
    const elapsed = (after.at - before.at) / 1000;
    const watchedRequests = watched.reduce(
      (sum, c) => sum + ((after.started.get(c.state.name) ?? 0) - (before.started.get(c.state.name) ?? 0)),
      0,
    );
    const perCluster = watchedRequests / watched.length / elapsed;
    const notAllHealthyAfter = await notAllHealthy(dashboard, watched);
    const w: ScaleWindow = {
      clusters: watched.length,
      members: watched.length * MEMBERS,
      dashboard: dashboardUsage,
      rssAtReadyBytes: rssAtReady,
      etcdRequestsPerSecondPerCluster: round3(perCluster),
      pollsPerSecondPerCluster: round3(perCluster / REQUESTS_PER_POLL),
      etcdCpuPercentOfOneCore: Math.round(((after.cpuSeconds - before.cpuSeconds) / elapsed) * 1000) / 10,
      leaderChanges: after.leaderChanges - before.leaderChanges,
      notAllHealthyAfter,
      loadAverage1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    };
    log(
      `${label}: dashboard CPU ${w.dashboard.cpuPercentOfOneCore} % of one core, RSS mean ` +
        `${(w.dashboard.rssMeanBytes / 2 ** 20).toFixed(0)} MiB, peak ${(w.dashboard.rssPeakBytes / 2 ** 20).toFixed(0)} MiB; ` +
        `${w.pollsPerSecondPerCluster} polls/s per cluster; ${all.length * MEMBERS} members ${w.etcdCpuPercentOfOneCore} % CPU; ` +
        `${w.leaderChanges} leader changes; load ${w.loadAverage1m}`,
    );
    return w;
  } catch (err) {
    console.error(`--- dashboard log (${dashboard.logFile})\n${tail(dashboard.logFile, 30)}`);
    throw err;
  } finally {
    forget();
    await dashboard.stop();
  }
}

export async function runScale(quick = false): Promise<ScaleResult> {
  const settings = quick ? QUICK : FULL;
  assertBuild();
  for (const p of [SCALE_DASHBOARD_PORTS.one, SCALE_DASHBOARD_PORTS.ten]) await assertPortFree(p);
  // Stops by PID what a killed run (of any size) left in c0…c9, and clears its configs and dashboard data.
  await emptyWorkDir(WORK);

  const clusters: LocalCluster[] = [];
  const forgets: Array<() => void> = [];
  const destroyAll = async () => {
    await Promise.allSettled(clusters.map((c) => c.destroy()));
  };
  try {
    for (let i = 0; i < settings.clusters; i++) {
      const { cluster: c, forget } = await freshCluster({
        dir: path.join(WORK, `c${i}`),
        members: MEMBERS,
        basePort: SCALE_ETCD_BASE + i * MEMBERS * 3,
        name: `scale-${i}`,
        env: ETCD_ENV,
      });
      clusters.push(c);
      forgets.push(forget);
      await c.start(60_000);
      log(`cluster ${i + 1} of ${settings.clusters} up`);
    }
    // Every member healthy by etcd's own /health before anything is measured.
    for (const c of clusters) await c.waitHealthy(30_000);

    const first = clusters[0];
    if (!first) throw new Error('no cluster');
    const one = await measure('1 cluster', SCALE_DASHBOARD_PORTS.one, [first], clusters, settings);
    const many = await measure(`${clusters.length} clusters`, SCALE_DASHBOARD_PORTS.ten, clusters, clusters, settings);
    const n = clusters.length;
    return {
      pollIntervalMs: POLL_INTERVAL_MS,
      membersPerCluster: MEMBERS,
      clustersRunning: n,
      warmupSeconds: settings.warmupSeconds,
      windowSeconds: settings.windowSeconds,
      etcdEnvironment: { ...ETCD_ENV },
      one,
      many,
      ratios: {
        cpuPerCluster: round3(many.dashboard.cpuPercentOfOneCore / n / one.dashboard.cpuPercentOfOneCore),
        rssPeak: round3(many.dashboard.rssPeakBytes / one.dashboard.rssPeakBytes),
        rssMean: round3(many.dashboard.rssMeanBytes / one.dashboard.rssMeanBytes),
      },
      rssPerExtraClusterBytes: Math.round((many.dashboard.rssMeanBytes - one.dashboard.rssMeanBytes) / (n - 1)),
    };
  } finally {
    for (const forget of forgets) forget();
    await destroyAll();
    rmSync(WORK, { recursive: true, force: true });
  }
}

if (require.main === module) {
  figureMain('scale', ({ quick }) => runScale(quick));
}
