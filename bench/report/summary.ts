// docs/performance.md's summary: one row per figure — measured, its peer, the ratio, the target, met or not.
import type { DefragmentResult } from '../defragment';
import type { DetectResult } from '../detect-time';
import type { HistoryResult } from '../history-query';
import type { MachineInfo } from '../lib/machine';
import type { FigureName, FigureRecord } from '../lib/results';
import type { HistoryPageResult } from '../history-page';
import type { PageLoadResult } from '../page-load';
import type { RestoreTestResult } from '../restore-test';
import type { ScaleResult } from '../scale';
import type { SnapshotThroughputResult } from '../snapshot-throughput';
import type { SnapshotVerifyResult } from '../snapshot-verify';
import type { ViewerLoadResult } from '../viewer-load';
import { scenarioLabel } from './defragment';
import { day, gib, kib, mb, mib, p50p99, pct, ratio, yesNo } from './format';
import { ETCD_ALERTS, viewerWindow } from './live-view';

export interface Records {
  'detect-time': FigureRecord<DetectResult> | null;
  'viewer-load': FigureRecord<ViewerLoadResult> | null;
  'snapshot-throughput': FigureRecord<SnapshotThroughputResult> | null;
  'snapshot-verify': FigureRecord<SnapshotVerifyResult> | null;
  scale: FigureRecord<ScaleResult> | null;
  history: FigureRecord<HistoryResult> | null;
  'page-load': FigureRecord<PageLoadResult> | null;
  'history-page': FigureRecord<HistoryPageResult> | null;
  defragment: FigureRecord<DefragmentResult> | null;
  'restore-test': FigureRecord<RestoreTestResult> | null;
}

interface Row {
  n: number;
  figure: string;
  measured: string;
  peer: string;
  ratio: string;
  target: string;
  met: string;
  /** When it was measured, if not on the date of its figure number's record (figure 5 has two records). */
  date?: string;
}

const NONE = '–';

function when(rec: FigureRecord<unknown>): string {
  return `${day(rec.machine)}${rec.quick ? ' (quick run)' : ''}`;
}

function missing(n: number, figure: string, name: FigureName): Row {
  return { n, figure, measured: `not measured (\`--only ${name}\`)`, peer: NONE, ratio: NONE, target: NONE, met: NONE };
}

function detectRows(rec: Records['detect-time']): Row[] {
  if (!rec) return [missing(1, 'time to detect a dead member', 'detect-time')];
  const d = rec.result;
  const { membersDown, noLeader } = ETCD_ALERTS;
  const peer = (a: { name: string; forMs: number }) =>
    `\`${a.name}\` fires after ≥ ${a.forMs / 60_000} min (\`for\`) + scrape`;
  const r = (p50: number | undefined, forMs: number) => (p50 === undefined ? NONE : ratio(p50 / forMs));
  return [
    {
      n: 1,
      figure: 'follower SIGKILLed → API shows it unreachable',
      measured: p50p99(d.followerKilled.summary),
      peer: peer(membersDown),
      ratio: r(d.followerKilled.summary?.p50, membersDown.forMs),
      target: NONE,
      met: NONE,
    },
    {
      n: 1,
      figure: 'leader SIGKILLed → API shows it unreachable',
      measured: p50p99(d.leaderKilled.unreachable),
      peer: peer(membersDown),
      ratio: r(d.leaderKilled.unreachable?.p50, membersDown.forMs),
      target: NONE,
      met: NONE,
    },
    {
      n: 1,
      figure: 'second member SIGKILLed → API shows quorum lost',
      measured: p50p99(d.secondKilled.summary),
      peer: peer(noLeader),
      ratio: r(d.secondKilled.summary?.p50, noLeader.forMs),
      target: NONE,
      met: NONE,
    },
  ];
}

function viewerRows(rec: Records['viewer-load']): Row[] {
  if (!rec) return [missing(2, 'viewers', 'viewer-load')];
  const v = rec.result;
  const one = viewerWindow(v, 1);
  const hundred = viewerWindow(v, 100);
  const api = hundred.api;
  const next = v.throughNext?.api;
  return [
    {
      n: 2,
      figure: 'etcd requests/s with 100 API clients',
      measured: `${hundred.etcdRequestsPerSecond.toFixed(2)}/s`,
      peer: `with 1 API client: ${one.etcdRequestsPerSecond.toFixed(2)}/s`,
      ratio: ratio(v.ratio100to1),
      target: `≤ ${v.targetRatio}`,
      met: yesNo(v.meetsTarget),
    },
    {
      n: 2,
      figure: 'API latency and throughput, 100 clients',
      measured: api ? `p50 ${api.latencyP50Ms} ms, p99 ${api.latencyP99Ms} ms, ${api.requestsPerSecond} req/s` : NONE,
      peer: next
        ? `through Next.js's route handler (fast path off): p50 ${next.latencyP50Ms} ms, p99 ${next.latencyP99Ms} ms, ${next.requestsPerSecond} req/s`
        : NONE,
      ratio: api && next ? `${ratio(api.requestsPerSecond / next.requestsPerSecond)}× throughput` : NONE,
      target: `p99 < ${v.targetP99Ms} ms`,
      met: yesNo(v.meetsP99Target),
    },
    ...(v.paced?.api
      ? [
          {
            n: 2,
            figure: 'API latency, 100 clients polling once a second (100 open pages)',
            measured: `p50 ${v.paced.api.latencyP50Ms} ms, p99 ${v.paced.api.latencyP99Ms} ms, ${v.paced.api.requestsPerSecond} req/s`,
            peer: NONE,
            ratio: NONE,
            target: `p99 < ${v.targetP99Ms} ms`,
            met: yesNo(v.meetsPacedP99Target ?? false),
          },
        ]
      : []),
  ];
}

function snapshotRows(rec: Records['snapshot-throughput']): Row[] {
  if (!rec) return [missing(3, 'snapshot', 'snapshot-throughput')];
  const r = rec.result;
  const t = r.throughput;
  const a = r.apiSnapshot;
  return [
    {
      n: 3,
      figure: `snapshot throughput (${mb(r.snapshotBytes)}, one member)`,
      measured: `${t.dashboardWriter.mbPerSecond} MB/s`,
      peer: `\`etcdctl snapshot save\`: ${t.etcdctl.mbPerSecond} MB/s`,
      ratio: ratio(t.ratio),
      target: `≥ ${t.targetRatio}`,
      met: yesNo(t.meetsTarget),
    },
    {
      n: 3,
      figure: `dashboard's RSS during a snapshot of ${mb(r.snapshotBytes)} (API)`,
      measured: `+${mib(a.rssGrowthWhileStreamingBytes)} streaming, +${mib(a.rssGrowthBytes)} in all (peak ${mib(a.rssPeakBytes)})`,
      peer: `etcdctl's whole process: ${mib(t.etcdctl.peakRssBytes)}`,
      ratio: NONE,
      target: `< +${mib(a.targetGrowthWhileStreamingBytes)} streaming`,
      met: yesNo(a.meetsTarget),
    },
  ];
}

function verifyRows(rec: Records['snapshot-verify']): Row[] {
  if (!rec) return [missing(4, 'verification', 'snapshot-verify')];
  const r = rec.result;
  return [
    {
      n: 4,
      figure: `bbolt verification (${mb(r.snapshot.bytes)} file)`,
      measured: `${r.snapshotStatus.mbPerSecond ?? NONE} MB/s`,
      peer: `\`${r.statusTool || 'etcdctl'} snapshot status\`: ${r.etcdctlSnapshotStatus.mbPerSecond ?? NONE} MB/s`,
      target: '≥ 1.0',
      met: r.ratio === null ? NONE : r.ratio >= 1 ? 'yes' : 'no',
      ratio: ratio(r.ratio),
    },
  ];
}

function scaleRows(scale: Records['scale'], history: Records['history']): Row[] {
  const rows: Row[] = [];
  if (!scale) rows.push(missing(5, 'scale', 'scale'));
  else {
    const r = scale.result;
    rows.push(
      {
        n: 5,
        figure: `CPU, ${r.many.clusters} clusters × 3 members at ${r.pollIntervalMs / 1000} s`,
        measured: `${pct(r.many.dashboard.cpuPercentOfOneCore)} of a core`,
        peer: `1 cluster: ${pct(r.one.dashboard.cpuPercentOfOneCore)}`,
        ratio: `${ratio(r.ratios.cpuPerCluster)} per cluster`,
        target: NONE,
        met: NONE,
      },
      {
        n: 5,
        figure: `RSS, ${r.many.clusters} clusters × 3 members`,
        measured: `mean ${mib(r.many.dashboard.rssMeanBytes)}, peak ${mib(r.many.dashboard.rssPeakBytes)}`,
        peer: `1 cluster: mean ${mib(r.one.dashboard.rssMeanBytes)}, peak ${mib(r.one.dashboard.rssPeakBytes)}`,
        ratio: `${ratio(r.ratios.rssMean)} (mean)`,
        target: NONE,
        met: NONE,
      },
    );
  }
  if (!history) rows.push({ ...missing(5, 'history queries', 'history'), date: NONE });
  else {
    const q = history.result.queries;
    rows.push({
      n: 5,
      figure: `history query, one chart, ${history.result.data.members} members`,
      measured: `24 h: ${q['24h'].medianMsPrecise} ms, 7 d: ${q['7d'].medianMsPrecise} ms`,
      peer: NONE,
      ratio: NONE,
      target: NONE,
      met: NONE,
      date: when(history),
    });
  }
  return rows;
}

function pageRows(rec: Records['page-load']): Row[] {
  if (!rec) return [missing(6, 'page', 'page-load')];
  const r = rec.result;
  return [
    {
      n: 6,
      figure: 'cold load → quorum state on screen (Chromium)',
      measured: p50p99(r.quorumOnScreenMs),
      peer: NONE,
      ratio: NONE,
      target: NONE,
      met: NONE,
    },
    {
      n: 6,
      figure: 'JavaScript transferred, gzipped',
      measured: `${kib(r.javascript.gzipBytes)} in ${r.javascript.requests} files`,
      peer: NONE,
      ratio: NONE,
      target: NONE,
      met: NONE,
    },
  ];
}

function historyPageRows(rec: Records['history-page']): Row[] {
  if (!rec) return [missing(6, 'history page', 'history-page')];
  const r = rec.result;
  return [
    {
      n: 6,
      figure: `history page, 1 h of samples (${r.seededMembers + 3} members): every chart drawn (Chromium)`,
      measured: p50p99(r.drawnMs),
      peer: `the charts' ${r.apiRequests} API answers alone (Node fetch): ${p50p99(r.apiMs)}`,
      ratio: ratio(r.drawnMs.p50 / r.apiMs.p50),
      target: NONE,
      met: NONE,
      date: when(rec),
    },
  ];
}

function defragmentRows(rec: Records['defragment']): Row[] {
  const line = rec?.result.lines[0];
  if (!rec || !line) return [missing(7, 'rolling defragment', 'defragment')];
  const sec = (v: number) => `${(v / 1000).toFixed(2)} s`;
  return line.scenarios.map((s) => ({
    n: 7,
    figure: `rolling defragment, etcd ${line.version}, ${scenarioLabel(s)}: wall time; longest stall on the leader's endpoint`,
    measured: `${sec(s.dashboard.wallMs.median)}; ${s.dashboard.leaderStallMs.median} ms (pause 0; default pause: ${sec(s.dashboardWithDefaultPauseMs)})`,
    peer: `\`etcdctl defrag\` by hand: ${sec(s.etcdctl.wallMs.median)}; ${s.etcdctl.leaderStallMs.median} ms`,
    ratio: `${ratio(s.ratios.wall)}; ${ratio(s.ratios.leaderStall)}`,
    target: NONE,
    met: NONE,
  }));
}

function restoreTestRows(rec: Records['restore-test']): Row[] {
  if (!rec) return [missing(8, 'restore test', 'restore-test')];
  const r = rec.result;
  const sec = (v: number) => `${(v / 1000).toFixed(1)} s`;
  return [
    {
      n: 8,
      figure: `restore test of a ${mib(r.snapshot.bytes)} snapshot, etcd ${r.etcd.version}: wall time; peak disk`,
      measured: `${sec(r.dashboard.wallMs.median)}; ${mib(r.dashboard.peakDiskBytes.median)}`,
      peer: `\`etcdutl snapshot restore\` + \`etcd\` + \`etcdctl\` by hand: ${sec(r.byHand.wallMs.median)}; ${mib(r.byHand.peakDiskBytes.median)}`,
      ratio: `${ratio(r.ratios.wall)}; ${ratio(r.ratios.peakDisk)}`,
      target: NONE,
      met: NONE,
    },
  ];
}

function machineKey(m: MachineInfo): string {
  return `${m.cpuModel} × ${m.cpuCount}, ${gib(m.totalMemoryBytes)}`;
}

export function summarySection(heading: string, records: Records): string {
  const all = Object.values(records).filter((r): r is FigureRecord<unknown> => r !== null);
  const rows = [
    ...detectRows(records['detect-time']),
    ...viewerRows(records['viewer-load']),
    ...snapshotRows(records['snapshot-throughput']),
    ...verifyRows(records['snapshot-verify']),
    ...scaleRows(records.scale, records.history),
    ...pageRows(records['page-load']),
    ...historyPageRows(records['history-page']),
    ...defragmentRows(records.defragment),
    ...restoreTestRows(records['restore-test']),
  ];
  const dates = new Map<number, string>();
  const recByFigure: Array<[number, FigureRecord<unknown> | null]> = [
    [1, records['detect-time']],
    [2, records['viewer-load']],
    [3, records['snapshot-throughput']],
    [4, records['snapshot-verify']],
    [5, records.scale ?? records.history],
    [6, records['page-load']],
    [7, records.defragment],
    [8, records['restore-test']],
  ];
  for (const [n, rec] of recByFigure) if (rec) dates.set(n, when(rec));
  const table = rows
    .map(
      (r) =>
        `| ${r.n} | ${r.figure} | ${r.measured} | ${r.peer} | ${r.ratio} | ${r.target} | ${r.met} | ${r.date ?? dates.get(r.n) ?? NONE} |`,
    )
    .join('\n');
  const newest = [...all].sort((a, b) => b.machine.date.localeCompare(a.machine.date))[0];
  const machines = [...new Set(all.map((r) => machineKey(r.machine)))];
  const machine = newest
    ? `| machine | |
| --- | --- |
| CPU | ${newest.machine.cpuModel}, ${newest.machine.cpuCount} cores |
| memory | ${gib(newest.machine.totalMemoryBytes)} |
| OS | ${newest.machine.os} |
| Node.js | ${newest.machine.node} |
| etcd | ${newest.machine.etcd} |
| Next.js | ${newest.machine.nextjs} (build ${newest.machine.build.buildId ?? 'unknown'} in ${newest.machine.build.distDir}) |
${machines.length > 1 ? `\n**Not all figures come from the same machine:** ${machines.join('; ')}. Each section names its own.\n` : ''}`
    : '';
  const quick = all.some((r) => r.quick)
    ? '\n**Some figures come from a `--quick` run (marked in the table): smaller data and fewer trials, not a record.**\n'
    : '';
  return `${heading}

Written by \`npm run bench\` from bench/results/*.json; each figure's section below says when it was measured and how
busy the machine was (load averages). The machine, for the newest figure:

${machine}
| # | figure | measured | peer | ratio | target | met? | measured on |
| --- | --- | --- | --- | --- | --- | --- | --- |
${table}
${quick}
The ratio is measured ÷ peer. The peers of figure 1 are the etcd project's own Prometheus alerts (contrib/mixin),
whose \`for\` durations alone — ${ETCD_ALERTS.membersDown.forMs / 60_000} min for a member down, ${ETCD_ALERTS.noLeader.forMs / 60_000} min for no leader — are
taken as the peer; they also wait for a scrape (${ETCD_ALERTS.scrapeIntervalMs / 1000} s) and a rule evaluation. Percentiles are nearest-rank:
with fewer than 100 samples p99 is the slowest. A dash means there is no peer or no target.`;
}
