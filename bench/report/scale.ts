// docs/performance.md, figure 5: one dashboard watching ten clusters, and the history store's chart queries.
import type { HistoryResult } from '../history-query';
import type { FigureRecord } from '../lib/results';
import type { ScaleResult, ScaleWindow } from '../scale';
import { mb, measuredOn, mib, ms, notMeasured, pct, ratio } from './format';

function scaleRow(w: ScaleWindow): string {
  const d = w.dashboard;
  return [
    `| ${w.clusters} × 3 (${w.members} members)`,
    pct(d.cpuPercentOfOneCore),
    pct(d.cpuPercentOfOneCore / w.clusters),
    mib(d.rssMeanBytes),
    mib(d.rssPeakBytes),
    w.pollsPerSecondPerCluster.toFixed(2),
    pct(w.etcdCpuPercentOfOneCore),
    String(w.leaderChanges),
    w.notAllHealthyAfter.length === 0 ? 'all healthy' : `${w.notAllHealthyAfter.length} not`,
    `${w.loadAverage1m} |`,
  ].join(' | ');
}

export function scaleSection(heading: string, rec: FigureRecord<ScaleResult> | null): string {
  if (!rec) return notMeasured(heading, 'scale');
  const r = rec.result;
  const unhealthy = [...r.one.notAllHealthyAfter, ...r.many.notAllHealthyAfter];
  const env = Object.entries(r.etcdEnvironment)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(', ');
  return `${heading}

${measuredOn(rec, 'npm run bench -- --only scale')} Raw values in bench/results/scale.json.

${r.clustersRunning} real 3-member etcd clusters with mutual TLS on loopback (${r.clustersRunning * 3} members) run throughout. One production
dashboard process (\`next start\`) watches all of them from an ETCD_DASHBOARD_CONFIG file with \`pollIntervalMs: ${r.pollIntervalMs}\`;
as the reference, in the same run and with the same members running, the same dashboard watches only the first
cluster. Each is started afresh, waits until every cluster it watches shows healthy in its API, warms up for
${r.warmupSeconds} s, and is then measured for ${r.windowSeconds} s with no API clients: CPU from utime + stime in /proc/<pid>/stat at both ends
(as a percentage of one core), RSS from /proc/<pid>/status every 250 ms. The reference goes first.

| dashboard watches | CPU (% of one core) | CPU per cluster | RSS mean | RSS peak | polls/s per cluster | all etcd members' CPU | leader changes | API after the window | load avg 1 min |
|---|---|---|---|---|---|---|---|---|---|
${scaleRow(r.one)}
${scaleRow(r.many)}

Per cluster, ${r.clustersRunning} clusters cost **${ratio(r.ratios.cpuPerCluster)}×** the CPU of one (below 1: each extra cluster costs less than the first,
which also pays for the server's own timers). The whole process's RSS is ${ratio(r.ratios.rssMean)}× the reference's on average
(peak ${ratio(r.ratios.rssPeak)}×): about **${mib(r.rssPerExtraClusterBytes)} per extra cluster**.

**Polls per second per cluster** is counted by etcd: \`grpc_server_started_total\` summed over each watched cluster's
members before and after the window, divided by the 8 calls of one poll (Status and a linearizable read per member,
member list, alarm list). Other periodic calls (the alert rules' reads, the Secrets census) add a little, so a value
near 1 says the collectors kept their 1 s schedule. The metrics scrapes (every 5 s, over mTLS on the client URL, as
no \`metricsUrls\` are configured) are HTTP, not gRPC, and are not counted.

**The members.** ${r.clustersRunning * 3} etcd processes share the machine with the dashboard, so they were started with modest settings,
passed as etcd's environment variables: ${env} (one OS thread of Go code each, and a slower heartbeat and election
timeout so a member starved of CPU does not start an election). Their CPU is shown for context; the leader changes
column counts elections in any cluster during the window.${unhealthy.length ? ` Right after the window, the API did not show every watched cluster healthy: ${unhealthy.join('; ')}.` : ''}`;
}

export function historySection(heading: string, rec: FigureRecord<HistoryResult> | null): string {
  if (!rec) return notMeasured(heading, 'history');
  const r = rec.result;
  const s = r.settings;
  const q = r.queries;
  const queryRow = (label: string, k: keyof HistoryResult['queries']) => {
    const t = q[k];
    return `| ${label} | ${t.resolution === '1m' ? '1-min rollups' : 'raw'}, ${t.stepMs / 1000} s buckets, ${t.pointsPerMember} points/member | **${t.medianMsPrecise} ms** (${ms(t.ms.min)}–${ms(t.ms.max)}) |`;
  };
  const sampling =
    s.pollEverySeconds === 1 && s.scrapeEverySeconds === 5
      ? 'at the rate the collector writes them: probe latency, DB size, DB in use and raft index every second (one poll), the six metric-derived series every 5 s (one scrape; the collector writes peer round trips only once a minute, so the real file is a little smaller)'
      : `every ${s.pollEverySeconds} s (poll series) and every ${s.scrapeEverySeconds} s (metric series), fewer than the collector writes`;
  return `${heading}

${measuredOn(rec, 'npm run bench -- --only history')} SQLite through better-sqlite3; raw values in bench/results/history.json.

A temporary store is filled with ${r.data.days} days of samples for a ${r.data.members}-member cluster ${sampling}, in time order,
${s.minutesPerTransaction === 1 ? 'one transaction per minute' : `${s.minutesPerTransaction} minutes per transaction`}. At the end of each day the store rolls the day up into one-minute rollups and prunes with the dashboard's default
retention (raw 24 h, rollups 30 days), so it ends as a week-old dashboard's does: ${r.data.rawRowsKept.toLocaleString('en')} raw rows
(the last 24 h) and ${r.data.rollupRows.toLocaleString('en')} rollup rows. Each query is one series (\`probe_ms\`) for every
member, as one chart asks; median of ${s.queryRuns} after a warm-up run (min–max in brackets).

| range | read from | time |
| --- | --- | --- |
${queryRow('7 d', '7d')}
${queryRow('24 h', '24h')}
${queryRow('6 h', '6h')}
${queryRow('1 h', '1h')}
| 7 d, all ${r.allSeries['7d'].series} series (the history page) | 1-min rollups | ${r.allSeries['7d'].medianMsPrecise} ms |
| 24 h, all ${r.allSeries['24h'].series} series | 1-min rollups | ${r.allSeries['24h'].medianMsPrecise} ms |
${
  r.page1h
    ? `| 1 h, all ${r.page1h.points1000.series} series as the API answers them (JSON), 1,000 points a member | raw | ${r.page1h.points1000.medianMsPrecise} ms, ${mb(r.page1h.points1000.bytes)} |
| 1 h, the same at 400 points a member (what the charts ask for) | raw | ${r.page1h.points400.medianMsPrecise} ms, ${mb(r.page1h.points400.bytes)} |
`
    : ''
}
| store | value |
| --- | --- |
| file after 7 days (24 h raw + 7 d rollups, ${mb(r.size.freeBytes)} of it free pages) | ${mb(r.size.fileBytes)} |
| raw samples per member per day | ${mb(r.size.bytesPerMemberPerDayRaw)} (${r.size.rawBytesPerRow} bytes a row) |
| rollups per member per day | ${mb(r.size.rollupBytesPerMemberPerDay)} |
| insert rate | ${r.write.rowsPerSecond.toLocaleString('en')} rows/s |
| rolling up a whole day at once (median of the days) | ${ms(r.write.dayRollupMedianMs)} |
| one-minute rollup, steady state | ${r.write.oneMinuteRollupMs} ms |
| pruning one minute of expired rows | ${r.write.pruneOneMinuteMs} ms |

Ranges over 6 h read rollups (plus the newest raw rows not yet rolled up): a 24 h chart reads about 1,440 rows per
member and series, a 7 d chart about 10,080; here the 7 d query took ${ratio(q['7d'].medianMsPrecise / q['24h'].medianMsPrecise)}× as long as the 24 h one.
With the default retention a ${r.data.members}-member cluster settles at about ${mb(r.size.bytesPerMemberPerDayRaw * r.data.members)} of raw samples
plus ${mb(r.size.rollupBytesPerMemberPerDay * r.data.members)} of rollups per day kept, some ${mb(r.size.bytesPerMemberPerDayRaw * r.data.members + r.size.rollupBytesPerMemberPerDay * r.data.members * 30)} after 30 days.`;
}
