// Snapshot check speed: our snapshotStatus and verifySha256Trailer against `etcdctl snapshot status` on a ≥ 256 MiB
// snapshot made by a real etcd. Writes bench/results/snapshot-verify.json. Not part of the tests.
// Run: npx tsx --conditions=react-server bench/snapshot-verify.ts [existing-snapshot.db]
// (the condition lets `server-only` load outside Next; with a file argument no cluster is started).
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { verifySha256Trailer } from '../lib/snapshots/snapshot-integrity';
import { snapshotStatus } from '../lib/snapshots/snapshot-status';
import {
  SnapshotTestCluster,
  seededRandom,
  valueOf,
  type EtcdctlSnapshotStatus,
} from '../lib/snapshots/snapshot-test-cluster';
import { round1, summarize, type Summary } from './lib/stats';

const ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(ROOT, 'bench', 'results', 'snapshot-verify.json');
const BASE_PORT = 24853;
const TARGET_BYTES = 256 * 1024 * 1024;
const RUNS = 5;
/** Kubernetes-like objects: most a few KiB, some larger. */
const RESOURCES = ['pods', 'configmaps', 'events', 'secrets', 'replicasets'];

interface Timing {
  ms: Summary | null;
  /** Megabytes (10^6) of snapshot file per second, at the median. */
  mbPerSecond: number | null;
}

function etcdctlStatus(file: string): EtcdctlSnapshotStatus {
  const out = execFileSync('etcdctl', ['snapshot', 'status', file, '-w', 'json'], {
    env: { ...process.env, ETCDCTL_API: '3' },
    encoding: 'utf8',
  });
  return JSON.parse(out) as EtcdctlSnapshotStatus;
}

/** Peak resident memory of one `etcdctl snapshot status` run, from GNU time if it is installed. */
function etcdctlPeakRssBytes(file: string): number | null {
  try {
    const out = execFileSync('/usr/bin/time', ['-f', '%M', 'etcdctl', 'snapshot', 'status', file, '-w', 'json'], {
      env: { ...process.env, ETCDCTL_API: '3' },
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return Number(out.trim().split('\n').pop()) * 1024 || null;
  } catch {
    return null;
  }
}

async function makeSnapshot(cluster: SnapshotTestCluster): Promise<string> {
  const random = seededRandom(256);
  let written = 0;
  let round = 0;
  while (written < TARGET_BYTES * 1.05) {
    const ops = Array.from({ length: 12_800 }, (_, i) => {
      const n = round * 12_800 + i;
      const size = random() < 0.05 ? 16_000 + Math.floor(random() * 24_000) : 300 + Math.floor(random() * 4_000);
      written += size;
      return { put: `/registry/${RESOURCES[n % RESOURCES.length]}/ns${n % 40}/obj-${n}`, value: valueOf(size, random) };
    });
    await cluster.write(ops, 3);
    round++;
    console.log(`loaded ${(written / 1e6).toFixed(0)} MB of values`);
  }
  // Overwrite and delete a share, so the file also holds old revisions and tombstones, as a live cluster's does.
  const churn = Array.from({ length: 12_800 }, (_, i) => {
    const n = i * 7;
    const key = `/registry/${RESOURCES[n % RESOURCES.length]}/ns${n % 40}/obj-${n}`;
    return i % 4 === 0 ? { del: key } : { put: key, value: valueOf(500, random) };
  });
  await cluster.write(churn, 3);
  return cluster.save('bench.db');
}

async function time<T>(run: () => Promise<T> | T): Promise<[T, number]> {
  const start = performance.now();
  const out = await run();
  return [out, performance.now() - start];
}

async function main(): Promise<void> {
  const given = process.argv[2];
  const cluster = given ? null : await SnapshotTestCluster.start(BASE_PORT, 'bench-snapshot-verify');
  try {
    const file = given ?? (await makeSnapshot(cluster!));
    const bytes = statSync(file).size;
    if (bytes < TARGET_BYTES)
      console.warn(`note: ${file} is ${bytes} bytes, under the 256 MiB this benchmark is meant for`);
    const mb = bytes / 1e6;

    // Warm-up: every contender reads the file once, so all of them run from the page cache.
    const expected = etcdctlStatus(file);
    const ours = await snapshotStatus(file);
    const same =
      ours.hash === expected.hash &&
      ours.revision === expected.revision &&
      ours.totalKey === expected.totalKey &&
      ours.totalSize === expected.totalSize;
    if (!same) throw new Error(`snapshotStatus disagrees with etcdctl: ${JSON.stringify({ ours, expected })}`);
    const trailer = await verifySha256Trailer(file);
    if (!trailer.ok) throw new Error(`trailer check failed on a fresh snapshot: ${trailer.reason}`);

    const samples = { etcdctl: [] as number[], status: [] as number[], trailer: [] as number[], both: [] as number[] };
    let peakBuffers = 0;
    let peakRss = 0;
    for (let run = 0; run < RUNS; run++) {
      samples.etcdctl.push((await time(() => etcdctlStatus(file)))[1]);
      const before = process.memoryUsage();
      let buffers = before.arrayBuffers;
      let rss = before.rss;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        buffers = Math.max(buffers, m.arrayBuffers);
        rss = Math.max(rss, m.rss);
      }, 5);
      samples.status.push((await time(() => snapshotStatus(file)))[1]);
      clearInterval(sampler);
      peakBuffers = Math.max(peakBuffers, buffers - before.arrayBuffers);
      peakRss = Math.max(peakRss, rss);
      samples.trailer.push((await time(() => verifySha256Trailer(file)))[1]);
      // What the dashboard does after a download it did not check while streaming: both passes, one after the other.
      samples.both.push((await time(async () => [await verifySha256Trailer(file), await snapshotStatus(file)]))[1]);
    }
    const timing = (ms: number[]): Timing => {
      const summary = summarize(ms);
      return { ms: summary, mbPerSecond: summary ? round1(mb / (summary.p50 / 1000)) : null };
    };
    const result = {
      machine: {
        date: new Date().toISOString(),
        os: `${os.type()} ${os.release()} (${os.arch()})`,
        cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
        cpuCount: os.cpus().length,
        node: process.version,
        etcdctl: execFileSync('etcdctl', ['version'], { encoding: 'utf8' }).split('\n')[0]?.trim() ?? 'unknown',
        loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
      },
      snapshot: {
        file: given ? path.resolve(given) : '(made by this run, removed afterwards)',
        bytes,
        revision: expected.revision,
        totalKey: expected.totalKey,
        keyspace: ours.keyspace.slice(0, 10),
      },
      runs: RUNS,
      note: 'Files are in the page cache (one warm-up read each). etcdctl times include starting the process.',
      etcdctlSnapshotStatus: { ...timing(samples.etcdctl), peakRssBytes: etcdctlPeakRssBytes(file) },
      snapshotStatus: {
        ...timing(samples.status),
        /** Growth of Node's buffer memory during a run: the reader must never hold the file whole. */
        peakBufferGrowthBytes: peakBuffers,
        peakProcessRssBytes: peakRss,
      },
      verifySha256Trailer: timing(samples.trailer),
      trailerThenStatus: timing(samples.both),
    };
    mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
    writeFileSync(RESULTS_FILE, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
    console.log(`wrote ${path.relative(ROOT, RESULTS_FILE)}`);
  } finally {
    await cluster?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
