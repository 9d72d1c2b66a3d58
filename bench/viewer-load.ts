// Does the collector's load on etcd grow with the number of people watching? Counted by etcd itself.
// Run alone with `npx tsx bench/viewer-load.ts [--quick]`; bench/run.ts runs it and writes the numbers to docs/.
import http from 'node:http';
import os from 'node:os';
import autocannon from 'autocannon';
import { fetchMetrics, sumCounter } from './lib/prom-text';
import { percentile, round1, round3 } from './lib/stats';
import {
  describeStatus,
  isAllHealthy,
  readStatus,
  sleep,
  waitForStatus,
  withStack,
  type BenchStack,
} from './lib/stack';
import { stackFigureMain } from './lib/stack-figure';

const TARGET_RATIO = 1.05;
/** The target for the API's p99 latency with 100 concurrent clients. */
const TARGET_P99_MS = 50;

export interface EtcdRequestSample {
  /** performance.now() when every member had answered. */
  at: number;
  /** Sum over members of grpc_server_started_total (every RPC the members accepted, all methods). */
  started: number;
  /** Sum over members of grpc_server_handled_total (every RPC the members finished, any code). */
  handled: number;
  /** The member PIDs: a restart would reset the counters and spoil the window. */
  pids: Array<number | null>;
}

export interface LoadWindow {
  apiConnections: number;
  /** Each connection sends one request a second, as an open page polls, instead of back to back. */
  paced?: boolean;
  seconds: number;
  etcdRequests: number;
  etcdRequestsPerSecond: number;
  etcdHandledPerSecond: number;
  /** The collector sends 2 calls per member and 2 cluster-wide calls per poll: 8 for 3 members. */
  collectorPollsPerSecond: number;
  api: {
    requestsPerSecond: number;
    requests: number;
    latencyP50Ms: number;
    latencyP99Ms: number;
    latencyMaxMs: number;
    errors: number;
    timeouts: number;
    non2xx: number;
  } | null;
  /** What the API said meanwhile, read twice a second next to the load: did the view stay fresh and correct? */
  view: ViewSamples;
  /** os.loadavg()[0] when the window ended: how busy the machine was, this benchmark included. */
  loadAverage1m: number;
}

export interface ViewSamples {
  samples: number;
  failedReads: number;
  /** Answers flagged stale (observedAt older than the dashboard's threshold). */
  stale: number;
  /** Answers that showed anything but 3 healthy members and quorum "healthy" (nothing was broken). */
  notAllHealthy: number;
  /** The first few of those answers, one line each: quorum and every member's verdict with its error. */
  notAllHealthyExamples: string[];
  /** servedAt − observedAt: how old the shown poll was when served. */
  ageP50Ms: number | null;
  ageMaxMs: number | null;
}

export interface ViewerLoadResult {
  windowSeconds: number;
  pollIntervalMs: number;
  etcdRequestsPerPoll: number;
  windows: LoadWindow[];
  /** etcd requests/s with 100 API connections ÷ with 1. */
  ratio100to1: number;
  targetRatio: number;
  meetsTarget: boolean;
  targetP99Ms: number;
  /** The API's p99 latency with 100 connections below targetP99Ms. */
  meetsP99Target: boolean;
  /** 100 open pages, each polling once a second from its own point in the second: the API when not saturated. */
  paced?: LoadWindow;
  meetsPacedP99Target?: boolean;
  /**
   * The peer: the same 100 connections against a dashboard started with ETCD_DASHBOARD_STATUS_FAST_PATH=off, so the
   * status route runs through Next.js's route handler like every other route.
   */
  throughNext?: LoadWindow;
}

async function sampleEtcd(stack: BenchStack): Promise<EtcdRequestSample> {
  const members = stack.cluster.state.members;
  const texts = await Promise.all(members.map((m) => fetchMetrics(m.metricsUrl)));
  const at = performance.now();
  const started = texts.reduce((acc, t) => acc + sumCounter(t, 'grpc_server_started_total'), 0);
  const handled = texts.reduce((acc, t) => acc + sumCounter(t, 'grpc_server_handled_total'), 0);
  if (started === 0) throw new Error("no grpc_server_started_total samples in the members' metrics");
  return { at, started, handled, pids: members.map((m) => m.pid) };
}

/** Reads the API every 500 ms until `stop()`; one request more than the load itself, which is negligible. */
function watchView(stack: BenchStack): { stop: () => Promise<ViewSamples> } {
  let running = true;
  const ages: number[] = [];
  const examples: string[] = [];
  const v = { samples: 0, failedReads: 0, stale: 0, notAllHealthy: 0 };
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const s = await readStatus(stack.statusUrl, 15_000);
        v.samples += 1;
        if (s.stale) v.stale += 1;
        if (!isAllHealthy({ ...s, stale: false })) {
          v.notAllHealthy += 1;
          if (examples.length < 5) examples.push(describeStatus(s));
        }
        if (s.observedAt) ages.push(Date.parse(s.servedAt) - Date.parse(s.observedAt));
      } catch {
        v.failedReads += 1;
      }
      await sleep(Math.max(0, 500 - (performance.now() - started)));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return {
        ...v,
        notAllHealthyExamples: examples,
        ageP50Ms: ages.length ? percentile(ages, 50) : null,
        ageMaxMs: ages.length ? Math.max(...ages) : null,
      };
    },
  };
}

function log(line: string): void {
  console.log(`viewer-load: ${line}`);
}

/**
 * `clients` open pages: each its own keep-alive connection, polling once a second like the overview does, each
 * starting at its own point in the second (browsers opened at different moments do not poll in step).
 */
async function pagesLoad(url: string, clients: number, seconds: number): Promise<NonNullable<LoadWindow['api']>> {
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const end = performance.now() + seconds * 1000;
  const client = async (phaseMs: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await sleep(phaseMs);
    try {
      while (performance.now() < end) {
        const started = performance.now();
        try {
          const status = await new Promise<number>((resolve, reject) => {
            const req = http.get(url, { agent, timeout: 10_000 }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            });
            req.on('timeout', () => req.destroy(new Error('timeout')));
            req.on('error', reject);
          });
          latencies.push(performance.now() - started);
          if (status < 200 || status >= 300) non2xx++;
        } catch {
          errors++;
        }
        await sleep(Math.max(0, started + 1000 - performance.now()));
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client((1000 * i) / clients)));
  if (latencies.length === 0) throw new Error('no page request was answered');
  return {
    requestsPerSecond: round1(latencies.length / seconds),
    requests: latencies.length,
    latencyP50Ms: round1(percentile(latencies, 50)),
    latencyP99Ms: round1(percentile(latencies, 99)),
    latencyMaxMs: round1(Math.max(...latencies)),
    errors,
    timeouts: 0,
    non2xx,
  };
}

async function measureWindow(
  stack: BenchStack,
  connections: number,
  seconds: number,
  requestsPerPoll: number,
  paced = false,
): Promise<LoadWindow> {
  const before = await sampleEtcd(stack);
  const watcher = watchView(stack);
  let api: LoadWindow['api'] = null;
  if (connections === 0) {
    await sleep(seconds * 1000);
  } else if (paced) {
    api = await pagesLoad(stack.statusUrl, connections, seconds);
  } else {
    const r = await autocannon({ url: stack.statusUrl, connections, duration: seconds, timeout: 10 });
    api = {
      requestsPerSecond: round1(r.requests.average),
      requests: r.requests.total,
      latencyP50Ms: r.latency.p50,
      latencyP99Ms: r.latency.p99,
      latencyMaxMs: r.latency.max,
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
    };
  }
  const after = await sampleEtcd(stack);
  const view = await watcher.stop();
  if (after.pids.some((p, i) => p === null || p !== before.pids[i])) {
    throw new Error('an etcd member restarted during the window: its counters reset');
  }
  const elapsed = (after.at - before.at) / 1000;
  const etcdRequests = after.started - before.started;
  const rate = etcdRequests / elapsed;
  const w: LoadWindow = {
    apiConnections: connections,
    ...(paced ? { paced } : {}),
    seconds: round3(elapsed),
    etcdRequests,
    etcdRequestsPerSecond: round3(rate),
    etcdHandledPerSecond: round3((after.handled - before.handled) / elapsed),
    collectorPollsPerSecond: round3(rate / requestsPerPoll),
    api,
    view,
    loadAverage1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
  log(
    `${connections} API connection(s)${paced ? ' at 1 req/s each' : ''}: etcd ${w.etcdRequestsPerSecond} req/s over ${w.seconds} s` +
      (api ? `; API ${api.requestsPerSecond} req/s, p50 ${api.latencyP50Ms} ms, p99 ${api.latencyP99Ms} ms` : '') +
      `; view: ${view.samples} reads, ${view.stale} stale, ${view.notAllHealthy} not all healthy, ` +
      `age p50 ${view.ageP50Ms ?? '-'} ms, max ${view.ageMaxMs ?? '-'} ms`,
  );
  return w;
}

/** Warms the route up (first-request work in the server) outside every measured window: 10 connections for 3 s. */
async function warmUp(url: string): Promise<void> {
  await autocannon({ url, connections: 10, duration: 3 });
  await sleep(2000);
}

/**
 * Three windows of `windowSeconds` each: no API clients, 1 connection, 100 connections. 30 s by default rather than
 * 20: the etcd counters move in steps of one poll (8 requests), so a window is good to ±1 poll, here ±3.3 %.
 */
export async function runViewerLoad(quick = false): Promise<ViewerLoadResult> {
  const windowSeconds = quick ? 5 : Number(process.env.BENCH_WINDOW_S ?? 30);
  if (!Number.isFinite(windowSeconds) || windowSeconds < 5)
    throw new Error(`BENCH_WINDOW_S must be ≥ 5, got ${windowSeconds}`);
  const { status, requestsPerPoll, windows, paced } = await withStack('viewers', async (stack) => {
    const status = await waitForStatus(stack.statusUrl, (s) => isAllHealthy(s), 30_000, 'all members healthy');
    const requestsPerPoll = status.members.length * 2 + 2;
    log(`cluster and dashboard up (poll interval ${status.pollIntervalMs} ms); ${windowSeconds} s windows`);
    await warmUp(stack.statusUrl);

    const windows: LoadWindow[] = [];
    for (const connections of [0, 1, 100]) {
      windows.push(await measureWindow(stack, connections, windowSeconds, requestsPerPoll));
      await sleep(2000);
    }
    const paced = await measureWindow(stack, 100, windowSeconds, requestsPerPoll, true);
    return { status, requestsPerPoll, windows, paced };
  });
  // The peer, side by side in the same run: the status route through Next.js (fast path off), same load.
  log('the same 100 connections with the status fast path off (through Next.js)');
  const throughNext = await withStack(
    'viewers-next',
    async (peer) => {
      await waitForStatus(peer.statusUrl, (s) => isAllHealthy(s), 30_000, 'all members healthy');
      await warmUp(peer.statusUrl);
      return measureWindow(peer, 100, windowSeconds, requestsPerPoll);
    },
    { ETCD_DASHBOARD_STATUS_FAST_PATH: 'off' },
  );
  const one = windows.find((w) => w.apiConnections === 1);
  const hundred = windows.find((w) => w.apiConnections === 100);
  if (!one || !hundred) throw new Error('missing window');
  const ratio = round3(hundred.etcdRequestsPerSecond / one.etcdRequestsPerSecond);
  return {
    windowSeconds,
    pollIntervalMs: status.pollIntervalMs,
    etcdRequestsPerPoll: requestsPerPoll,
    windows,
    ratio100to1: ratio,
    targetRatio: TARGET_RATIO,
    meetsTarget: ratio <= TARGET_RATIO,
    targetP99Ms: TARGET_P99_MS,
    meetsP99Target: hundred.api !== null && hundred.api.latencyP99Ms < TARGET_P99_MS,
    paced,
    meetsPacedP99Target: paced.api !== null && paced.api.latencyP99Ms < TARGET_P99_MS,
    throughNext,
  };
}

if (require.main === module) {
  stackFigureMain('viewer-load', ({ quick }) => runViewerLoad(quick));
}
