// One drill's world: a fresh 3-member mTLS etcd cluster and the production dashboard in .cluster/drills/<drill>,
// on ports of its own, stopped by PID afterwards (frozen members thawed first), whatever the drill did.
import { expect, request, test, type APIRequestContext, type TestInfo } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isOurProcess, LocalCluster } from '../../scripts/lib/local-cluster';
import { startDashboard, type DashboardProcess } from '../../scripts/lib/dashboard-process';
import { bearer, sessionHeaders, signInCookie } from '../../e2e/support/access';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const DRILLS_ROOT = path.join(PROJECT_ROOT, '.cluster', 'drills');
/** The build the dashboards run: CI builds .next, a developer beside a running dashboard builds .next-drills. */
export const DIST_DIR = process.env.NEXT_DIST_DIR || '.next';
/** The dashboard reads the cluster from the ETCDCTL_* variables, which name it "default". */
export const CLUSTER_ID = 'default';
export const STATUS_PATH = `/api/clusters/${CLUSTER_ID}/status`;
const ADMIN_PASSWORD = 'drill-admin-password-1';
const MEMBERS = 3;

/** Every drill's ports in one place, so no two collide: etcd 25100–25399 (9 per cluster), dashboards 3300–3349. */
export const DRILL_PORTS = {
  'member-killed': { etcd: 25100, dashboard: 3300 },
  'member-frozen': { etcd: 25120, dashboard: 3301 },
  'leader-killed': { etcd: 25140, dashboard: 3302 },
  'quorum-lost': { etcd: 25160, dashboard: 3303 },
  'all-members-down': { etcd: 25180, dashboard: 3304 },
  'foreign-ca': { etcd: 25200, dashboard: 3305 },
  'nospace-alarm': { etcd: 25220, dashboard: 3306 },
  'snapshot-disk-full': { etcd: 25240, dashboard: 3307 },
  'dashboard-killed': { etcd: 25260, dashboard: 3308 },
  'api-fuzz': { etcd: 25280, dashboard: 3309 },
  'maintenance-killed': { etcd: 25300, dashboard: 3310 },
  'restore-test-killed': { etcd: 25320, dashboard: 3311 },
} as const;

export type DrillName = keyof typeof DRILL_PORTS;

/** The folder a drill's cluster, dashboard data and logs live in. */
export const drillRoot = (name: DrillName): string => path.join(DRILLS_ROOT, name);

export interface DrillStackOptions {
  quotaBackendBytes?: number;
  /** More environment for the dashboard, e.g. SNAPSHOT_DIR. */
  env?: Record<string, string>;
  /** Runs once the drill's folder exists, before the dashboard starts (e.g. to mount its SNAPSHOT_DIR). */
  beforeDashboard?: (root: string) => void;
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`port ${port} on 127.0.0.1 is in use (${err.code ?? err.message}); the drill needs it`)),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

async function waitGone(pid: number, stillOurs: () => boolean, timeoutMs: number): Promise<void> {
  await expect.poll(stillOurs, { timeout: timeoutMs, message: `process ${pid} did not exit` }).toBe(false);
}

/** Is `pid` still the dashboard that serves `dataDir`? Guards a recorded PID against reuse. */
function isOurDashboard(pid: number, dataDir: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return cmdline.includes('server/server.mjs') && environ.includes(`DATA_DIR=${dataDir}`);
  } catch {
    return false;
  }
}

/** Mount points under `dir` (a drill that was killed may have left its tmpfs mounted). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mp) => mp.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** What a run that was killed may have left behind in `root`, stopped by the PIDs it recorded. */
async function clearLeftovers(root: string, dataDir: string): Promise<void> {
  const pidFile = path.join(root, 'dashboard.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (Number.isInteger(pid) && isOurDashboard(pid, dataDir)) {
      process.kill(pid, 'SIGKILL');
      await waitGone(pid, () => isOurDashboard(pid, dataDir), 10_000);
    }
  }
  const clusterDir = path.join(root, 'cluster');
  if (existsSync(LocalCluster.statePath(clusterDir))) {
    const old = LocalCluster.load(clusterDir);
    for (const m of old.state.members)
      if (m.pid !== null && isOurProcess(m.pid, m.dataDir)) process.kill(m.pid, 'SIGCONT');
    await Promise.all(old.state.members.map((_, i) => old.stopMember(i, 'SIGKILL')));
  }
  for (const mp of mountsUnder(root)) execFileSync('umount', [mp]);
  rmSync(root, { recursive: true, force: true });
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export class DrillStack {
  private starts = 0;
  private stopped = false;
  private readonly contexts: APIRequestContext[] = [];
  private proc: DashboardProcess | null = null;
  private viewerApi: APIRequestContext | null = null;

  private constructor(
    readonly name: DrillName,
    readonly root: string,
    readonly cluster: LocalCluster,
    readonly dataDir: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts the cluster (healthy) and the dashboard (answering, users synced); fails early if a port is taken. */
  static async start(name: DrillName, opts: DrillStackOptions = {}): Promise<DrillStack> {
    const root = drillRoot(name);
    const dataDir = path.join(root, 'data');
    await clearLeftovers(root, dataDir);
    const ports = DRILL_PORTS[name];
    for (let p = ports.etcd; p < ports.etcd + MEMBERS * 3; p++) await assertPortFree(p);
    await assertPortFree(ports.dashboard);
    mkdirSync(root, { recursive: true });
    const cluster = LocalCluster.create({
      dir: path.join(root, 'cluster'),
      members: MEMBERS,
      basePort: ports.etcd,
      name: `drill-${name}`.slice(0, 24),
      ...(opts.quotaBackendBytes ? { quotaBackendBytes: opts.quotaBackendBytes } : {}),
    });
    const env = {
      ...cluster.etcdctlEnv,
      // An empty ETCD_DASHBOARD_CONFIG counts as unset: the dashboard reads the ETCDCTL_* variables.
      ETCD_DASHBOARD_CONFIG: '',
      DASHBOARD_ANONYMOUS: 'viewer',
      DASHBOARD_ADMIN_PASSWORD: ADMIN_PASSWORD,
      NEXT_DIST_DIR: DIST_DIR,
      ...opts.env,
    };
    const stack = new DrillStack(name, root, cluster, dataDir, env);
    try {
      await cluster.start(60_000);
      opts.beforeDashboard?.(root);
      await stack.startDashboard();
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  get dashboard(): DashboardProcess {
    if (!this.proc) throw new Error(`the ${this.name} dashboard has not started`);
    return this.proc;
  }

  /** The API as an anonymous viewer sees it, as the page does. */
  get api(): APIRequestContext {
    if (!this.viewerApi) throw new Error(`the ${this.name} dashboard has not started`);
    return this.viewerApi;
  }

  get url(): string {
    return this.dashboard.url;
  }

  /** Starts the dashboard on the drill's port with the same DATA_DIR; each start logs to a file of its own. */
  async startDashboard(): Promise<void> {
    this.starts++;
    this.proc = await startDashboard({
      port: DRILL_PORTS[this.name].dashboard,
      env: this.env,
      dataDir: this.dataDir,
      logFile: path.join(this.root, `dashboard-${this.starts}.log`),
      timeoutMs: 60_000,
    });
    writeFileSync(path.join(this.root, 'dashboard.pid'), String(this.dashboard.pid));
    const d = this.dashboard;
    await expect.poll(() => /local user\(s\)/.test(d.log()), { timeout: 30_000, message: 'users synced' }).toBe(true);
    this.viewerApi = await this.newContext();
  }

  /** An API context for this dashboard, disposed when the stack stops. */
  async newContext(headers: Record<string, string> = {}): Promise<APIRequestContext> {
    const ctx = await request.newContext({ baseURL: this.url, extraHTTPHeaders: headers });
    this.contexts.push(ctx);
    return ctx;
  }

  /** Signs in as the local admin and makes an API token; tokens live in DATA_DIR, so restarts keep them. */
  async createToken(role: 'viewer' | 'operator' | 'admin'): Promise<string> {
    const cookie = await signInCookie(this.url, 'admin', ADMIN_PASSWORD);
    const res = await this.api.post('/api/tokens', {
      data: { name: `drill-${role}-${Date.now()}`, role },
      headers: sessionHeaders(this.url, cookie),
    });
    expect(res.status(), await res.text()).toBe(201);
    return ((await res.json()) as { token: string }).token;
  }

  /** An API context holding a new operator token. */
  async operatorApi(): Promise<APIRequestContext> {
    return this.newContext(bearer(await this.createToken('operator')));
  }

  /** Whether the dashboard process is still running. */
  dashboardAlive(): boolean {
    return isOurDashboard(this.dashboard.pid, this.dataDir);
  }

  /** Kills the dashboard by PID with SIGKILL and waits until it is gone. */
  async killDashboard(): Promise<void> {
    await this.dashboard.stop('SIGKILL');
  }

  freeze(index: number): Promise<void> {
    return this.cluster.freezeMember(index);
  }

  thaw(index: number): Promise<void> {
    return this.cluster.thawMember(index);
  }

  memberIndex(name: string): number {
    return this.cluster.indexOfName(name);
  }

  etcdctl(args: string[], input?: string): string {
    return execFileSync(this.cluster.binaries.etcdctl, args, {
      env: { ...process.env, ...this.cluster.etcdctlEnv },
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 30_000,
    });
  }

  /** The tails of the dashboard's and the members' logs, attached to a failed drill's report. */
  async attachLogs(info: TestInfo): Promise<void> {
    if (info.status === info.expectedStatus) return;
    const parts: string[] = [];
    for (let i = 1; i <= this.starts; i++) {
      const file = path.join(this.root, `dashboard-${i}.log`);
      parts.push(`--- ${file}\n${tail(file, 60)}`);
    }
    for (const m of this.cluster.state.members) parts.push(`--- ${m.name} (${m.logFile})\n${tail(m.logFile, 15)}`);
    await info.attach('logs', { body: parts.join('\n\n'), contentType: 'text/plain' });
  }

  /**
   * Stops the dashboard and every member by PID (frozen members thawed first) and unmounts what the drill mounted.
   * Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.contexts.map((c) => c.dispose().catch(() => undefined)));
    if (this.proc) await this.proc.stop();
    // Frozen members are thawed before they are stopped. The cluster is thrown away with its folder: SIGKILL spares
    // the seconds a graceful leader hand-off takes.
    for (const m of this.cluster.state.members) {
      if (m.pid !== null && isOurProcess(m.pid, m.dataDir)) process.kill(m.pid, 'SIGCONT');
    }
    await Promise.all(this.cluster.state.members.map((_, i) => this.cluster.stopMember(i, 'SIGKILL')));
    for (const mp of mountsUnder(this.root)) execFileSync('umount', [mp]);
  }

  /** Stops everything and removes the drill's folder (a 3-member cluster leaves some 370 MB of WAL behind). */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Gives the drill file its own stack: started before its tests, logs attached to a failed test, stopped by PID after
 * the last test whatever happened. Its folder is removed when every test passed and kept to look at when one failed.
 * Returns a getter for use inside tests.
 */
export function drillStack(name: DrillName, opts: DrillStackOptions = {}): () => DrillStack {
  let stack: DrillStack | undefined;
  let failed = false;
  test.beforeAll(async () => {
    test.setTimeout(180_000);
    stack = await DrillStack.start(name, opts);
  });
  test.afterEach(async ({}, info) => {
    failed ||= info.status !== info.expectedStatus;
    await stack?.attachLogs(info);
  });
  test.afterAll(async () => {
    test.setTimeout(60_000);
    await (failed ? stack?.stop() : stack?.destroy());
  });
  return () => {
    if (!stack) throw new Error(`the ${name} stack did not start`);
    return stack;
  };
}
