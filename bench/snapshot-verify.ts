// Figure 4: snapshot check speed — the dashboard's snapshotStatus (bbolt) and verifySha256Trailer against the etcd
// version's own `snapshot status` (etcdutl from 3.5 on, etcdctl on 3.4) on the same ≥ 256 MiB snapshot made by a
// real etcd.
// Run alone with `npx tsx --conditions=react-server bench/snapshot-verify.ts [--quick]` (the condition lets
// `server-only` load outside Next); BENCH_VERIFY_FILE=<snapshot.db> measures an existing file and starts no cluster
// (its etcdutl is then that of ETCD_DASHBOARD_ETCD_VERSION, or of the default line).
// bench/run.ts runs it and writes the numbers to docs/.
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { verifySha256Trailer } from '../lib/snapshots/snapshot-integrity';
import { snapshotStatus } from '../lib/snapshots/snapshot-status';
import { ensureEtcd, selectedEtcdLine, type EtcdBinaries } from '../scripts/lib/etcd-versions';
import {
  SnapshotTestCluster,
  seededRandom,
  valueOf,
  type EtcdctlSnapshotStatus,
} from '../test/support/snapshot-test-cluster';
import { VERIFY_ETCD_BASE } from './lib/ports';
import { figureMain } from './lib/results';
import { stopOnInterrupt } from './lib/stack';
import { round1, round3, summarize, type Summary } from './lib/stats';

const MIB = 1024 * 1024;
/** Kubernetes-like objects: most a few KiB, some larger. */
const RESOURCES = ['pods', 'configmaps', 'events', 'secrets', 'replicasets'];

interface Timing {
  ms: Summary | null;
  /** Megabytes (10^6) of snapshot file per second, at the median. */
  mbPerSecond: number | null;
}

/**
 * The offline tool whose `snapshot status` is the yardstick: etcdutl from 3.5 on, etcdctl on 3.4. It must be the
 * snapshot's own version's: from 3.6 "total keys" counts live keys, before that every entry, so an older etcdctl
 * disagrees with the dashboard on a newer snapshot.
 */
interface StatusTool {
  bin: string;
  /** As shown in the results: "etcdutl 3.7.1". */
  name: string;
}

function statusTool(binaries: EtcdBinaries): StatusTool {
  const bin = binaries.etcdutl ?? binaries.etcdctl;
  return { bin, name: `${path.basename(bin)} ${binaries.version}` };
}

function toolStatus(tool: StatusTool, file: string): EtcdctlSnapshotStatus {
  const out = execFileSync(tool.bin, ['snapshot', 'status', file, '-w', 'json'], {
    env: { ...process.env, ETCDCTL_API: '3' },
    encoding: 'utf8',
  });
  return JSON.parse(out) as EtcdctlSnapshotStatus;
}

/** Peak resident memory of one `snapshot status` run of the tool, from GNU time if it is installed. */
function toolPeakRssBytes(tool: StatusTool, file: string): number | null {
  // GNU time writes the figure (KiB) on stderr, which execFileSync does not return: spawnSync does.
  const run = spawnSync('/usr/bin/time', ['-f', '%M', tool.bin, 'snapshot', 'status', file, '-w', 'json'], {
    env: { ...process.env, ETCDCTL_API: '3' },
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (run.status !== 0) return null;
  return Number(run.stderr.trim().split('\n').pop()) * 1024 || null;
}

interface Settings {
  /** Bytes of values to load before the snapshot is taken; the file ends up a little larger. */
  targetBytes: number;
  runs: number;
}

const FULL: Settings = { targetBytes: 256 * MIB, runs: 5 };
const QUICK: Settings = { targetBytes: 32 * MIB, runs: 3 };

export interface SnapshotVerifyResult {
  settings: Settings;
  note: string;
  snapshot: {
    file: string;
    bytes: number;
    revision: number;
    totalKey: number;
    keyspace: unknown[];
  };
  /** Whose `snapshot status` was timed: "etcdutl 3.7.1", or "etcdctl 3.4.23" on 3.4. */
  statusTool: string;
  /** That tool's `snapshot status` (the field keeps its first name, from when it was always etcdctl 3.4). */
  etcdctlSnapshotStatus: Timing & { peakRssBytes: number | null };
  snapshotStatus: Timing & { peakBufferGrowthBytes: number; peakProcessRssBytes: number };
  verifySha256Trailer: Timing;
  trailerThenStatus: Timing;
  /** snapshotStatus's throughput ÷ the tool's snapshot status's, at the medians. */
  ratio: number | null;
}

async function makeSnapshot(cluster: SnapshotTestCluster, targetBytes: number): Promise<string> {
  const random = seededRandom(256);
  let written = 0;
  let round = 0;
  while (written < targetBytes * 1.05) {
    const ops = Array.from({ length: 12_800 }, (_, i) => {
      const n = round * 12_800 + i;
      const size = random() < 0.05 ? 16_000 + Math.floor(random() * 24_000) : 300 + Math.floor(random() * 4_000);
      written += size;
      return { put: `/registry/${RESOURCES[n % RESOURCES.length]}/ns${n % 40}/obj-${n}`, value: valueOf(size, random) };
    });
    await cluster.write(ops, 3);
    round++;
    console.log(`snapshot-verify: loaded ${(written / 1e6).toFixed(0)} MB of values`);
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

export async function runSnapshotVerify(quick = false): Promise<SnapshotVerifyResult> {
  const settings = quick ? QUICK : FULL;
  const given = process.env.BENCH_VERIFY_FILE || null;
  const cluster = given ? null : await SnapshotTestCluster.start(VERIFY_ETCD_BASE, 'bench-snapshot-verify');
  const forget = stopOnInterrupt(async () => cluster?.stop());
  try {
    const binaries = cluster?.binaries ?? ensureEtcd(selectedEtcdLine());
    const tool = statusTool(binaries);
    // The record's machine line names this etcd, not the one on PATH (bench/lib/machine.ts runs ETCD_BIN).
    process.env.ETCD_BIN = binaries.etcd;
    const file = given ?? (await makeSnapshot(cluster!, settings.targetBytes));
    const bytes = statSync(file).size;
    if (bytes < FULL.targetBytes)
      console.warn(`note: ${file} is ${bytes} bytes, under the 256 MiB this benchmark is meant for`);
    const mb = bytes / 1e6;

    // Warm-up: every contender reads the file once, so all of them run from the page cache.
    const expected = toolStatus(tool, file);
    const ours = await snapshotStatus(file);
    const same =
      ours.hash === expected.hash &&
      ours.revision === expected.revision &&
      ours.totalKey === expected.totalKey &&
      ours.totalSize === expected.totalSize;
    if (!same) throw new Error(`snapshotStatus disagrees with ${tool.name}: ${JSON.stringify({ ours, expected })}`);
    const trailer = await verifySha256Trailer(file);
    if (!trailer.ok) throw new Error(`trailer check failed on a fresh snapshot: ${trailer.reason}`);

    const samples = { etcdctl: [] as number[], status: [] as number[], trailer: [] as number[], both: [] as number[] };
    let peakBuffers = 0;
    let peakRss = 0;
    for (let run = 0; run < settings.runs; run++) {
      samples.etcdctl.push((await time(() => toolStatus(tool, file)))[1]);
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
    const status = { ...timing(samples.status), peakBufferGrowthBytes: peakBuffers, peakProcessRssBytes: peakRss };
    const ctl = { ...timing(samples.etcdctl), peakRssBytes: toolPeakRssBytes(tool, file) };
    return {
      settings,
      note: `Files are in the page cache (one warm-up read each). ${tool.name}'s times include starting the process.`,
      snapshot: {
        file: given ? path.resolve(given) : '(made by this run, removed afterwards)',
        bytes,
        revision: expected.revision,
        totalKey: expected.totalKey,
        keyspace: ours.keyspace.slice(0, 10),
      },
      statusTool: tool.name,
      etcdctlSnapshotStatus: ctl,
      snapshotStatus: status,
      verifySha256Trailer: timing(samples.trailer),
      trailerThenStatus: timing(samples.both),
      ratio: status.mbPerSecond && ctl.mbPerSecond ? round3(status.mbPerSecond / ctl.mbPerSecond) : null,
    };
  } finally {
    forget();
    await cluster?.stop();
  }
}

if (require.main === module) {
  figureMain('snapshot-verify', ({ quick }) => runSnapshotVerify(quick));
}
