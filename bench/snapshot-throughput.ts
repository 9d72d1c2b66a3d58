// Snapshot throughput against `etcdctl snapshot save` from the same member on the same data, alternating runs,
// and the dashboard's memory while it takes a snapshot of the whole database through its API.
// Run: npx tsx --conditions=react-server bench/snapshot-throughput.ts [--mb 1024] [--runs 3]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { streamSnapshotToFile } from '../lib/etcd/snapshot-stream';
import { Sha256TrailerChecker } from '../lib/snapshots/snapshot-integrity';
import { LocalCluster } from '../scripts/lib/local-cluster';
import { startDashboard } from '../scripts/lib/dashboard-process';

const ROOT = path.resolve(__dirname, '..');
const WORK = path.join(ROOT, '.cluster', 'bench-snapshot');
const BASE_PORT = 24620;
const DASHBOARD_PORT = 3292;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

async function fill(cluster: LocalCluster, targetMb: number): Promise<void> {
  // 768 KiB of random bytes, base64: 1 MiB values that nothing compresses away; etcdctl put reads them from stdin.
  const value = randomBytes(768 * 1024).toString('base64');
  const env = { ...process.env, ...cluster.etcdctlEnv, ETCDCTL_ENDPOINTS: cluster.endpoints[0] as string };
  // One value per request: etcd refuses requests over 1.5 MiB by default.
  for (let i = 0; i < targetMb; i++) {
    execFileSync('etcdctl', ['put', `/bench/value-${i}`], { env, input: value, stdio: ['pipe', 'ignore', 'pipe'] });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { mb: { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' } },
  });
  const targetMb = Number(values.mb);
  const runs = Number(values.runs);
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const cluster = LocalCluster.create({
    dir: path.join(WORK, 'cluster'),
    members: 1,
    basePort: BASE_PORT,
    name: 'benchsnap',
    quotaBackendBytes: 8 * 1024 ** 3,
  });
  let dashboard: Awaited<ReturnType<typeof startDashboard>> | null = null;
  try {
    await cluster.start();
    console.log(`filling the cluster with about ${targetMb} MB…`);
    await fill(cluster, targetMb);
    const member = cluster.state.members[0]!;
    const tls = {
      ca: readFileSync(cluster.state.caCert),
      cert: readFileSync(cluster.state.clientCert),
      key: readFileSync(cluster.state.clientKey),
    };
    const env = { ...process.env, ...cluster.etcdctlEnv, ETCDCTL_ENDPOINTS: member.clientUrl };

    // 1. Throughput, alternating etcdctl and the dashboard's writer, same member, same data.
    const ctl: number[] = [];
    const ours: number[] = [];
    let bytes = 0;
    for (let r = 0; r < runs; r++) {
      const ctlFile = path.join(WORK, `ctl-${r}.db`);
      let t = performance.now();
      execFileSync('etcdctl', ['snapshot', 'save', ctlFile], { env, stdio: 'ignore' });
      ctl.push(performance.now() - t);
      bytes = statSync(ctlFile).size;
      rmSync(ctlFile);

      const ourFile = path.join(WORK, `ours-${r}.db`);
      const trailer = new Sha256TrailerChecker();
      t = performance.now();
      await streamSnapshotToFile({ endpoint: member.clientUrl, tls, file: ourFile, onChunk: (c) => trailer.update(c) });
      ours.push(performance.now() - t);
      if (!trailer.finish().ok) throw new Error('our snapshot failed its SHA-256 trailer check');
      rmSync(ourFile);
      console.log(`run ${r + 1}: etcdctl ${Math.round(ctl[r]!)} ms, dashboard writer ${Math.round(ours[r]!)} ms`);
    }
    const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);

    // 2. The dashboard's memory while it takes the same snapshot through its API (stream, verify, keyspace).
    const password = 'bench-admin-password';
    dashboard = await startDashboard({
      port: DASHBOARD_PORT,
      env: { ...cluster.etcdctlEnv, DASHBOARD_ANONYMOUS: 'viewer', DASHBOARD_ADMIN_PASSWORD: password },
      dataDir: path.join(WORK, 'data'),
      logFile: path.join(WORK, 'dashboard.log'),
    });
    const login = await fetch(`${dashboard.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    // Wait for the first poll so the dashboard knows the member's DB size.
    for (let i = 0; i < 50; i++) {
      const s = (await (await fetch(`${dashboard.url}/api/clusters/default/status`)).json()) as {
        observedAt: string | null;
      };
      if (s.observedAt) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const baseline = rssBytes(dashboard.pid);
    let peak = baseline;
    let streamingPeak = baseline;
    let phase = 'streaming';
    const sampler = setInterval(() => {
      const rss = rssBytes(dashboard!.pid);
      peak = Math.max(peak, rss);
      if (phase === 'streaming') streamingPeak = Math.max(streamingPeak, rss);
    }, 20);
    const t0 = performance.now();
    const started = (await (
      await fetch(`${dashboard.url}/api/clusters/default/snapshots`, { method: 'POST', headers: { cookie } })
    ).json()) as { id: string };
    type Rec = { status: string; error: string | null; progress: { phase: string } | null };
    let record: Rec = { status: 'running', error: null, progress: { phase: 'streaming' } };
    while (record.status === 'running' || record.progress) {
      await new Promise((r) => setTimeout(r, 50));
      record = (await (await fetch(`${dashboard.url}/api/clusters/default/snapshots/${started.id}`)).json()) as Rec;
      phase = record.progress?.phase ?? 'done';
    }
    const apiMs = performance.now() - t0;
    clearInterval(sampler);
    if (record.status !== 'succeeded') throw new Error(`the API snapshot ${record.status}: ${record.error}`);

    const result = {
      machine: {
        date: new Date().toISOString(),
        cpu: `${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}`,
        memoryBytes: os.totalmem(),
        node: process.version,
        etcd: execFileSync('etcd', ['--version'], { encoding: 'utf8' }).split('\n')[0],
        loadAverage: os.loadavg(),
      },
      snapshotBytes: bytes,
      runs,
      etcdctlMs: ctl.map(Math.round),
      dashboardWriterMs: ours.map(Math.round),
      etcdctlMBps: Math.round(mbps(median(ctl))),
      dashboardWriterMBps: Math.round(mbps(median(ours))),
      ratio: Number((median(ctl) / median(ours)).toFixed(3)),
      apiSnapshot: {
        totalMs: Math.round(apiMs),
        note: 'POST to verified record: stream, SHA-256 trailer, bbolt status and keyspace breakdown',
        rssBaselineMiB: Math.round(baseline / 1048576),
        rssPeakMiB: Math.round(peak / 1048576),
        rssGrowthMiB: Math.round((peak - baseline) / 1048576),
        rssGrowthWhileStreamingMiB: Math.round((streamingPeak - baseline) / 1048576),
      },
    };
    mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(
      path.join(ROOT, 'bench', 'results', 'snapshot-throughput.json'),
      JSON.stringify(result, null, 2) + '\n',
    );
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await dashboard?.stop();
    await cluster.stop();
    rmSync(WORK, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`snapshot-throughput: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
