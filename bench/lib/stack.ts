// A fresh 3-member mTLS etcd cluster and the production dashboard against it, both stopped by PID afterwards.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { LocalCluster, type CreateOptions } from '../../scripts/lib/local-cluster';
import { startDashboard, type DashboardProcess } from '../../scripts/lib/dashboard-process';
import type { ClusterStatus } from '../../lib/cluster/status-types';
import { buildId, distDir, ROOT } from './machine';
import { STACK_DASHBOARD_PORT, STACK_ETCD_BASE } from './ports';

export { ROOT };
const BENCH_ROOT = path.join(ROOT, '.cluster', 'bench');
const MEMBERS = 3;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface BenchStack {
  cluster: LocalCluster;
  dashboard: DashboardProcess;
  statusUrl: string;
  /** Stops the dashboard and every member by PID and removes the cluster's folder. */
  stop(): Promise<void>;
}

const cleanups = new Set<() => Promise<void>>();
let signalsHooked = false;

/**
 * Runs `stop` (which stops processes by their PIDs) if the benchmark is interrupted with SIGINT or SIGTERM before
 * the returned function is called.
 */
export function stopOnInterrupt(stop: () => Promise<void>): () => void {
  if (!signalsHooked) {
    signalsHooked = true;
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        console.error(`\nbench: ${sig}: stopping the dashboards and the etcd members it started, by PID`);
        void Promise.allSettled([...cleanups].map((c) => c())).finally(() => process.exit(130));
      });
    }
  }
  cleanups.add(stop);
  return () => cleanups.delete(stop);
}

/** Fails early when one of our ports is taken, rather than measuring somebody else's server. */
export function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`port ${port} on 127.0.0.1 is in use (${err.code ?? err.message}); the benchmark needs it`)),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

/** The last `lines` lines of a log file, for printing on failure. */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Stops, by their recorded PIDs, the members of any cluster a killed run left in `dir` or in a folder directly
 * below it, then removes `dir` and makes it again, empty.
 */
export async function emptyWorkDir(dir: string): Promise<void> {
  const candidates = [dir];
  if (existsSync(dir)) {
    for (const e of readdirSync(dir, { withFileTypes: true }))
      if (e.isDirectory()) candidates.push(path.join(dir, e.name));
  }
  for (const d of candidates) {
    if (!existsSync(LocalCluster.statePath(d))) continue;
    try {
      await LocalCluster.load(d).stop();
    } catch {
      // nothing recorded, or nothing running
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

export interface FreshClusterOptions extends CreateOptions {
  members: number;
  basePort: number;
}

export interface FreshCluster {
  /** Created, not started. */
  cluster: LocalCluster;
  /** Removes the interrupt hook that destroys the cluster by PID. */
  forget: () => void;
}

/**
 * A new cluster in an empty `dir` (see emptyWorkDir), after checking that its members' ports — basePort to
 * basePort + 3 × members − 1 — are free; an interrupted benchmark destroys it by PID until `forget` is called.
 * Not started.
 */
export async function freshCluster(opts: FreshClusterOptions): Promise<FreshCluster> {
  await emptyWorkDir(opts.dir);
  for (let p = opts.basePort; p < opts.basePort + opts.members * 3; p++) await assertPortFree(p);
  const cluster = LocalCluster.create(opts);
  const forget = stopOnInterrupt(() => cluster.destroy());
  return { cluster, forget };
}

/** Starts a fresh cluster in .cluster/bench/<name> (ports 25600–25608) and the dashboard on 3352. */
export async function startStack(name: string, extraEnv: Record<string, string> = {}): Promise<BenchStack> {
  assertBuild();
  await assertPortFree(STACK_DASHBOARD_PORT);
  const dir = path.join(BENCH_ROOT, name);
  const fresh = await freshCluster({ dir, members: MEMBERS, basePort: STACK_ETCD_BASE, name });
  const cluster = fresh.cluster;
  const logFile = path.join(dir, 'dashboard.log');
  let dashboard: DashboardProcess | null = null;
  try {
    await cluster.start();
    dashboard = await startDashboard({
      port: STACK_DASHBOARD_PORT,
      // An empty ETCD_DASHBOARD_CONFIG counts as unset: the dashboard reads the ETCDCTL_* variables.
      env: { ...cluster.etcdctlEnv, ETCD_DASHBOARD_CONFIG: '', DASHBOARD_ANONYMOUS: 'viewer', ...extraEnv },
      logFile,
    });
  } catch (err) {
    fresh.forget();
    await cluster.destroy();
    throw err;
  }
  // From here on an interrupt stops the dashboard as well.
  fresh.forget();
  const d = dashboard;
  let stopped = false;
  let forget = () => {};
  const stack: BenchStack = {
    cluster,
    dashboard: d,
    statusUrl: `${d.url}/api/clusters/default/status`,
    async stop() {
      if (stopped) return;
      stopped = true;
      forget();
      await d.stop();
      await cluster.destroy();
    },
  };
  forget = stopOnInterrupt(() => stack.stop());
  return stack;
}

/** On failure: the last lines of every log, printed before the folder is removed. */
function describeLogs(stack: BenchStack): string {
  const parts = [`--- dashboard (${stack.dashboard.logFile})\n${tail(stack.dashboard.logFile)}`];
  for (const m of stack.cluster.state.members) parts.push(`--- ${m.name} (${m.logFile})\n${tail(m.logFile, 8)}`);
  return parts.join('\n');
}

/** Fails unless there is a production build where the dashboard will look for it (NEXT_DIST_DIR or .next). */
export function assertBuild(): void {
  if (buildId() === null) {
    const dir = distDir();
    throw new Error(
      `no production build in ${dir} (or one is being written): run \`NEXT_DIST_DIR=${dir} npx next build\` first ` +
        '(and the benchmark with the same NEXT_DIST_DIR)',
    );
  }
}

/**
 * Runs `fn` against a fresh stack and always stops it, by PID, afterwards. Fails when the build was rewritten
 * meanwhile: the running server would then have served a mix of two builds.
 */
export async function withStack<T>(
  name: string,
  fn: (stack: BenchStack) => Promise<T>,
  extraEnv: Record<string, string> = {},
): Promise<T> {
  const build = buildId();
  const stack = await startStack(name, extraEnv);
  try {
    const result = await fn(stack);
    if (buildId() !== build) throw new Error(`${distDir()} was rebuilt while "${name}" ran (was ${build}); run again`);
    return result;
  } catch (err) {
    console.error(describeLogs(stack));
    throw err;
  } finally {
    await stack.stop();
  }
}

export function removeBenchRoot(): void {
  rmSync(BENCH_ROOT, { recursive: true, force: true });
}

export async function readStatus(url: string, timeoutMs = 2000): Promise<ClusterStatus> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return (await res.json()) as ClusterStatus;
}

export function isAllHealthy(s: ClusterStatus, members = MEMBERS): boolean {
  return (
    !s.stale &&
    s.quorum.state === 'healthy' &&
    s.leader !== null &&
    s.members.length === members &&
    s.members.every((m) => m.health === 'healthy')
  );
}

/** One line for an answer: quorum (and staleness), leader, and every member's health with its error. */
export function describeStatus(s: ClusterStatus): string {
  const members = s.members.map((m) => `${m.name}=${m.health}${m.error ? ` (${m.error})` : ''}`).join(', ');
  return `quorum ${s.quorum.state}${s.stale ? ' (stale)' : ''}, leader ${s.leader?.name ?? 'none'}: ${members}`;
}

/** Polls the API until `check` holds; throws after `timeoutMs`. Each read may take `readTimeoutMs`. */
export async function waitForStatus(
  url: string,
  check: (s: ClusterStatus) => boolean,
  timeoutMs: number,
  what: string,
  readTimeoutMs = 2000,
): Promise<ClusterStatus> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const s = await readStatus(url, readTimeoutMs);
      if (check(s)) return s;
      last = describeStatus(s);
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`the API did not show ${what} within ${timeoutMs} ms (last: ${last})`);
}

/**
 * Modest settings for tens of members on a small machine, passed to the members as etcd's ETCD_* environment variables
 * (the local cluster script sets no such flags): one OS thread of Go code per member, and a 250 ms heartbeat with a
 * 2.5 s election timeout, so members starved of CPU by the others do not start needless elections. The dashboard's
 * work per poll does not depend on them.
 */
export const LOW_CPU_ETCD_ENV = {
  GOMAXPROCS: '1',
  ETCD_HEARTBEAT_INTERVAL: '250',
  ETCD_ELECTION_TIMEOUT: '2500',
} as const;

/** The collector's calls per poll of a cluster: Status and a linearizable read per member, member list, alarms. */
export const requestsPerPoll = (members: number) => members * 2 + 2;
