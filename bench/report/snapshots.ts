// docs/performance.md, figures 3 and 4: snapshot throughput and memory, and verification speed.
import type { FigureRecord } from '../lib/results';
import type { SnapshotThroughputResult } from '../snapshot-throughput';
import type { SnapshotVerifyResult } from '../snapshot-verify';
import { mb, measuredOn, mib, ms, notMeasured, ratio, seconds } from './format';

export function snapshotThroughputSection(heading: string, rec: FigureRecord<SnapshotThroughputResult> | null): string {
  if (!rec) return notMeasured(heading, 'snapshot-throughput');
  const r = rec.result;
  const t = r.throughput;
  const a = r.apiSnapshot;
  const runs = (xs: number[]) => xs.map((x) => seconds(x)).join(', ');
  return `${heading}

${measuredOn(rec, 'npm run bench -- --only snapshot-throughput')} Raw values in bench/results/snapshot-throughput.json.

**Throughput against \`etcdctl snapshot save\`.** A 1-member mTLS cluster is filled with ${r.settings.values.toLocaleString('en')}
random 1 MiB values (a snapshot of ${mb(r.snapshotBytes)}), then ${r.settings.runs} pairs of runs from the same member:
\`etcdctl snapshot save\` and the dashboard's writer (lib/etcd/snapshot-stream.ts: the Maintenance.Snapshot stream into
\`<file>.part\` with 1 MiB \`writev\`s, the SHA-256 trailer checked on the way, fsync, rename), each file removed after
its run. Within a pair the order alternates (first: ${t.firstInPair.join(', ')}), so neither tool always reads a
database the other has just pulled into the page cache.

| ${mb(r.snapshotBytes)} snapshot, median of ${r.settings.runs} | time | throughput | runs |
| --- | --- | --- | --- |
| \`etcdctl snapshot save\` | ${seconds(t.etcdctl.medianMs)} | ${t.etcdctl.mbPerSecond} MB/s | ${runs(t.etcdctl.ms)} |
| the dashboard's writer | ${seconds(t.dashboardWriter.medianMs)} | ${t.dashboardWriter.mbPerSecond} MB/s | ${runs(t.dashboardWriter.ms)} |
| **ratio dashboard / etcdctl** | **${ratio(t.ratio)}** | target ≥ ${t.targetRatio}: ${t.meetsTarget ? 'met' : 'NOT met'} | |

etcdctl's own peak RSS during its runs (sampled every 20 ms): ${mib(t.etcdctl.peakRssBytes)}.

**The dashboard's memory while it takes a snapshot.** The same run then takes a snapshot of the same database through
the dashboard's API (the production server, \`POST /api/clusters/default/snapshots\`, then polling the record until it
is verified) and samples the server's RSS from /proc every 20 ms.

| figure | value |
| --- | --- |
| dashboard RSS before | ${mib(a.rssBaselineBytes)} |
| peak RSS growth while streaming | **+${mib(a.rssGrowthWhileStreamingBytes)}** (target < +${mib(a.targetGrowthWhileStreamingBytes)}: ${a.meetsTarget ? 'met' : 'NOT met'}) |
| peak RSS growth over the whole snapshot (streaming, verification, keyspace) | +${mib(a.rssGrowthBytes)} (peak ${mib(a.rssPeakBytes)}) |
| POST to verified record | ${seconds(a.totalMs)} |`;
}

export function snapshotVerifySection(heading: string, rec: FigureRecord<SnapshotVerifyResult> | null): string {
  if (!rec) return notMeasured(heading, 'snapshot-verify');
  const r = rec.result;
  const rowOf = (what: string, t: { ms: { p50: number } | null; mbPerSecond: number | null }) =>
    `| ${what} | ${ms(t.ms?.p50)} | ${t.mbPerSecond ?? '–'} MB/s |`;
  // The peer is the snapshot's own version's tool: etcdutl from 3.5 on, etcdctl on 3.4 (older records do not say).
  const tool = r.statusTool || 'etcdctl';
  const toolCmd = tool.split(' ')[0] ?? 'etcdctl';
  const compared = r.ratio
    ? r.ratio >= 1
      ? ` — the TypeScript reader is ${r.ratio.toFixed(2)}× as fast`
      : ` — the TypeScript reader is ${(1 / r.ratio).toFixed(1)}× slower`
    : '';
  const statusSecondsPerGb = r.snapshotStatus.ms ? r.snapshotStatus.ms.p50 / 1000 / (r.snapshot.bytes / 1e9) : null;
  return `${heading}

${measuredOn(rec, 'npm run bench -- --only snapshot-verify')} Raw values in bench/results/snapshot-verify.json.

A 1-member cluster is loaded with Kubernetes-like objects (most a few KiB, some larger; then a share overwritten and
deleted, so the file holds old revisions and tombstones) and saved with \`etcdctl snapshot save\`: a snapshot of ${mb(r.snapshot.bytes)}
with ${r.snapshot.totalKey.toLocaleString('en')} keys. The dashboard's reader must agree with ${tool}'s \`snapshot status\` on hash,
revision, key count and size before anything is timed. Files are in the page cache (one warm-up read each);
${tool}'s times include starting the process. Median of ${r.settings.runs} runs, the contenders interleaved.

| ${mb(r.snapshot.bytes)} snapshot | median | throughput |
| --- | --- | --- |
${rowOf(`\`${toolCmd} snapshot status\` (${tool})`, r.etcdctlSnapshotStatus)}
${rowOf('bbolt status and keyspace (`snapshotStatus`)', r.snapshotStatus)}
${rowOf('SHA-256 trailer check (`verifySha256Trailer`)', r.verifySha256Trailer)}
${rowOf('both, one after the other', r.trailerThenStatus)}

Ratio \`snapshotStatus\` / \`${toolCmd} snapshot status\` (throughput): **${ratio(r.ratio)}**${compared}.
Its buffers grew by at most ${mib(r.snapshotStatus.peakBufferGrowthBytes)} while it read the file
(${tool}'s peak RSS: ${r.etcdctlSnapshotStatus.peakRssBytes ? mib(r.etcdctlSnapshotStatus.peakRssBytes) : 'not measured; needs GNU time'}).
The reader walks the B+tree with synchronous positioned reads into a few reused 1 MiB blocks (giving the event loop a
turn every 8 MiB), hashes each leaf page's keys and values as one run of bytes, and counts the keyspace from offsets
into the page without copying keys; the peer maps the file instead of reading it.
During a snapshot the trailer is checked while the bytes arrive, so only the bbolt pass is added${statusSecondsPerGb ? ` (about ${statusSecondsPerGb.toFixed(1)} s per GB here)` : ''}.`;
}
