// docs/performance.md, figures 1 and 2: how fast a failure reaches the API, and what viewers cost etcd.
import { staleAfterMs } from '../../lib/cluster/staleness';
import type { DetectResult, KillTrial } from '../detect-time';
import type { FigureRecord } from '../lib/results';
import type { Summary } from '../lib/stats';
import type { LoadWindow, ViewerLoadResult } from '../viewer-load';
import { measuredOn, ms, notMeasured } from './format';

/** The dashboard runs with its default probe deadline (lib/config/load-config.ts, not importable outside the server). */
export const PROBE_TIMEOUT_MS = 800;

/**
 * The etcd project's own Prometheus alerts (contrib/mixin in etcd-io/etcd): each must hold for its `for` duration,
 * on top of a scrape interval of 30 s (the mixin's default) and the rule evaluation interval, before it fires.
 */
export const ETCD_ALERTS = {
  membersDown: { name: 'etcdMembersDown', forMs: 10 * 60_000 },
  noLeader: { name: 'etcdNoLeader', forMs: 60_000 },
  insufficientMembers: { name: 'etcdInsufficientMembers', forMs: 3 * 60_000 },
  scrapeIntervalMs: 30_000,
} as const;

function row(what: string, s: Summary | null, failures = 0): string {
  const n = s ? `${s.n}${failures ? ` (+${failures} timed out)` : ''}` : `0 (${failures} timed out)`;
  return `| ${what} | ${n} | ${ms(s?.p50)} | ${ms(s?.p99)} | ${ms(s?.min)} | ${ms(s?.max)} |`;
}

function countStates(trials: KillTrial[]): string {
  const counts = new Map<string, number>();
  for (const t of trials) counts.set(t.quorumShown ?? 'none', (counts.get(t.quorumShown ?? 'none') ?? 0) + 1);
  return [...counts].map(([state, n]) => `"${state}" in ${n}`).join(', ');
}

export function detectSection(heading: string, rec: FigureRecord<DetectResult> | null): string {
  if (!rec) return notMeasured(heading, 'detect-time');
  const d = rec.result;
  const n = d.trialsPerScenario;
  const leaderGap = d.leaderKilled.trials
    .map((t) => (t.newLeaderMs != null && t.detectedMs != null ? t.newLeaderMs - t.detectedMs : null))
    .filter((x): x is number => x !== null)
    .sort((a, b) => a - b);
  const gapText = leaderGap.length
    ? `${Math.round(leaderGap[0] ?? 0)}–${Math.round(leaderGap[leaderGap.length - 1] ?? 0)} ms`
    : '–';
  const survivorsUnhealthy = d.leaderKilled.trials.filter((t) => {
    const others = Object.entries(t.membersShown ?? {}).filter(([name]) => name !== t.killed);
    return others.length === 2 && others.every(([, health]) => health === 'unhealthy');
  }).length;
  const { membersDown, noLeader, insufficientMembers, scrapeIntervalMs } = ETCD_ALERTS;

  return `${heading}

${measuredOn(rec, 'npm run bench -- --only detect-time')} A real 3-member etcd cluster with mutual TLS on
loopback (scripts/lib/local-cluster.ts) and the production build of the dashboard (\`next start\`, Next.js
${rec.machine.nextjs}) with its default settings: one poll every ${d.pollIntervalMs} ms, probe deadline
${PROBE_TIMEOUT_MS} ms. Every trial, with raw values, is in bench/results/detect-time.json.

Time from the SIGKILL of a member to the first \`GET /api/clusters/default/status\` answer that shows it.
${n} trials per row.

| the API shows | trials | p50 | p99 † | min | max |
|---|---|---|---|---|---|
${row('(a) follower killed → it is "unreachable", quorum "at-risk"', d.followerKilled.summary, d.followerKilled.failures)}
${row('(b) leader killed → old leader "unreachable"', d.leaderKilled.unreachable, d.leaderKilled.trials.filter((t) => t.detectedMs === null).length)}
${row('(b) leader killed → a new leader named, quorum "at-risk"', d.leaderKilled.newLeader, d.leaderKilled.trials.filter((t) => t.newLeaderMs === null).length)}
${row('(c) one follower down, a second member killed → quorum "lost"', d.secondKilled.summary, d.secondKilled.failures)}
${row('(c) … the second member was the other follower', d.secondKilled.byRole.follower)}
${row('(c) … the second member was the leader', d.secondKilled.byRole.leader)}

† p99 is the nearest-rank 99th percentile. With fewer than 100 trials it is simply the slowest trial, the same as max;
it is reported because it is the figure asked for, not because ${n} trials can resolve a 1 % tail.

**The reference.** The etcd project's own Prometheus alerts (contrib/mixin in etcd-io/etcd) fire only after their
condition has held for the rule's \`for\` duration, and a dead member is seen only at the next scrape (every
${scrapeIntervalMs / 1000} s in the mixin's configuration): a killed follower or leader raises
\`${membersDown.name}\` after ${membersDown.forMs / 60_000} minutes at the earliest (a new leader is elected within seconds, so
\`${noLeader.name}\` does not fire at all); a lost quorum raises \`${noLeader.name}\` after ${noLeader.forMs / 60_000} minute and
\`${insufficientMembers.name}\` after ${insufficientMembers.forMs / 60_000} minutes. The summary's ratios divide the dashboard's median by
that \`for\` duration alone, a lower bound for the alert.

**How it was measured.** One fresh cluster and one dashboard serve all trials. Before each trial every stopped member
is started again and the benchmark waits until etcd's own /health and the API both report all three members healthy;
it then waits a random 0–${d.pollIntervalMs} ms, so that the kills land at every phase of the dashboard's
${d.pollIntervalMs} ms poll cycle, reads the API once more to learn which member leads, and takes a timestamp
(\`performance.now()\`) immediately before \`process.kill(pid, 'SIGKILL')\`. From that moment it reads the API every
${d.apiPollMs} ms and keeps the time at which the first matching answer arrived, so each figure includes up to
${d.apiPollMs} ms of sampling delay and the API's own response time (about a millisecond when idle).

**(a) Follower killed.** The victim alternates between the two followers. The figure is the time until the API marks
that member "unreachable" and the quorum "at-risk" (2 of 3 healthy, no failure left to tolerate). A dead member's
Status call fails at once (connection refused), so this is mostly the wait for the first poll that starts after the kill to
finish: anywhere from 0 to one poll interval, plus that poll's own duration.

**(b) Leader killed: old leader unreachable.** The figure is the time until the API marks the killed leader
"unreachable". The collector asks every member for Status first; when the connection to the leader the followers name is refused or reset,
it does not send them the linearizable health read (it would hang until the ${PROBE_TIMEOUT_MS} ms probe deadline) and marks
them "unhealthy: its leader is down; an election is due", so the poll ends at once and, with no leader,
the next one follows 100 ms later. In that first answer the quorum was shown as
${countStates(d.leaderKilled.trials)} of ${n} trials: while the survivors elect a new leader there is none, and
the dashboard says so. In the same answer both surviving followers were shown "unhealthy" in
${survivorsUnhealthy} of ${n} trials: until a leader is elected neither can serve a linearizable read.

**(b) Leader killed: new leader.** Measured in the same trials, from the same timestamp, until the API names a
different leader that is healthy, with quorum "at-risk". This includes etcd's own election (election
timeout 1000 ms, randomized) plus the next poll; the gap between "old leader unreachable" and "new leader named"
ranged over ${gapText}.

**(c) Second member killed.** A follower is SIGKILLed first, untimed, and the benchmark waits until the API shows it
"unreachable" with quorum "at-risk". After another random 0–${d.pollIntervalMs} ms wait a second member is SIGKILLed
and timed until the API shows quorum "lost". The second member alternates between the remaining follower and the
leader; both are reported. When the follower goes, the leader still answers Status, but its linearizable health read
cannot gather a quorum and fails at the ${PROBE_TIMEOUT_MS} ms probe deadline, so it is counted unhealthy and quorum is lost; when the
leader goes, the survivor has no leader and its health read also hangs until the deadline. The medians were ${ms(d.secondKilled.byRole.follower?.p50)} with the follower as second victim and
${ms(d.secondKilled.byRole.leader?.p50)} with the leader.`;
}

function loadRow(w: LoadWindow): string {
  const api = w.api;
  return [
    `| ${w.apiConnections}`,
    `${w.etcdRequestsPerSecond.toFixed(2)}`,
    `${w.collectorPollsPerSecond.toFixed(2)}`,
    api ? `${api.requestsPerSecond}` : '–',
    api ? `${api.latencyP50Ms} ms` : '–',
    api ? `${api.latencyP99Ms} ms` : '–',
    api ? `${api.latencyMaxMs} ms` : '–',
    api ? `${api.errors + api.timeouts + api.non2xx}` : '–',
    `${w.view.stale} / ${w.view.notAllHealthy} of ${w.view.samples}`,
    `${ms(w.view.ageP50Ms)} / ${ms(w.view.ageMaxMs)}`,
    `${w.loadAverage1m} |`,
  ].join(' | ');
}

function falseAlarmText(v: ViewerLoadResult): string {
  const bad = v.windows.filter((w) => w.view.notAllHealthy > 0);
  if (bad.length === 0) return ' No answer in any window showed a member as anything but healthy.';
  const parts = bad.map((w) => {
    const example = w.view.notAllHealthyExamples[0] ?? '';
    return (
      `with ${w.apiConnections} API connection(s) ${w.view.notAllHealthy} of ${w.view.samples} answers ` +
      `showed a member as not healthy (1-minute load average ${w.loadAverage1m} at the window's end); the first: "${example}"`
    );
  });
  return (
    ` **False alarms:** nothing was broken during these windows, yet ${parts.join('; ')}. ` +
    `Every such answer is in bench/results/viewer-load.json.`
  );
}

export function viewerWindow(v: ViewerLoadResult, connections: number): LoadWindow {
  const w = v.windows.find((x) => x.apiConnections === connections);
  if (!w) throw new Error(`no window with ${connections} connections`);
  return w;
}

function fastPathText(v: ViewerLoadResult): string {
  const next = v.throughNext?.api;
  const fast = viewerWindow(v, 100).api;
  if (!next || !fast) return '';
  return `
**The status fast path.** \`server/server.mjs\` answers \`GET /api/clusters/{id}/status\`, the request every open page
sends once a second, itself (\`lib/app/fast-routes.ts\`): the same access check (\`requireRoleIn\`, the function the
route handlers use), the same status, the same error shape and security headers, gzip when the client accepts it, but
without Next.js's per-request work (Web Request and Response objects, async context, a streamed body), which a CPU
profile of the dashboard under this load (\`node --cpu-prof\`, taken while building it, not part of this benchmark)
showed to be most of the CPU per request. In the same run, right after, a fresh cluster and a dashboard started with
\`ETCD_DASHBOARD_STATUS_FAST_PATH=off\` took the same 100 connections through Next.js's route handler:
${next.requestsPerSecond} requests/s, p50 ${next.latencyP50Ms} ms, p99 ${next.latencyP99Ms} ms, against
${fast.requestsPerSecond} requests/s, p50 ${fast.latencyP50Ms} ms, p99 ${fast.latencyP99Ms} ms with the fast path
(${(fast.requestsPerSecond / next.requestsPerSecond).toFixed(1)}× the throughput), and the collector kept
${v.throughNext?.collectorPollsPerSecond.toFixed(2)} polls/s through Next.js against
${viewerWindow(v, 100).collectorPollsPerSecond.toFixed(2)} with the fast path.`;
}

export function viewersSection(heading: string, rec: FigureRecord<ViewerLoadResult> | null): string {
  if (!rec) return notMeasured(heading, 'viewer-load');
  const v = rec.result;
  const cpus = rec.machine.cpuCount;
  const zero = viewerWindow(v, 0);
  const one = viewerWindow(v, 1);
  const hundred = viewerWindow(v, 100);
  const h = hundred.api;
  return `${heading}

${measuredOn(rec, 'npm run bench -- --only viewer-load')} The same kind of cluster and dashboard as figure 1,
started afresh. Every window, with raw values, is in bench/results/viewer-load.json.

| API connections | etcd requests/s | collector polls/s | API requests/s | API p50 | API p99 | API max | API errors | reads stale / not all healthy | age of shown poll p50 / max | load avg 1 min |
|---|---|---|---|---|---|---|---|---|---|---|
${loadRow(zero)}
${loadRow(one)}
${loadRow(hundred)}
${v.paced ? `${loadRow(v.paced).replace(/^\| 100/, '| 100 at 1 req/s each')}` : ''}
${v.throughNext ? `${loadRow(v.throughNext).replace(/^\| 100/, '| 100, fast path off (through Next.js)')}` : ''}

Ratio of etcd requests/s with 100 API connections to that with 1: **${v.ratio100to1.toFixed(3)}** (target ≤
${v.targetRatio}: ${v.meetsTarget ? 'met' : 'NOT met'}). API p99 latency with 100 connections: **${h ? `${h.latencyP99Ms} ms` : '–'}**
(target < ${v.targetP99Ms ?? 50} ms: ${v.meetsP99Target ? 'met' : 'NOT met'}). Those 100 connections send requests back
to back, so the p99 is the queue of a saturated server. 100 open pages, each on its own connection polling once a
second from its own point in the second (pages opened at different moments do not poll in step), see p99
**${v.paced?.api ? `${v.paced.api.latencyP99Ms} ms` : '–'}** (${v.meetsPacedP99Target ? 'met' : 'NOT met'}).
${fastPathText(v)}

**etcd requests/s.** Counted by etcd itself, not by the dashboard: before and after each window the benchmark reads
every member's plain-HTTP metrics endpoint and sums \`grpc_server_started_total\` over all methods and all three
members (a simple regex over the Prometheus text, not a full parser). The difference divided by the time between the
two readings is the rate. The collector is the only gRPC client of this cluster, and the metrics and /health
endpoints are plain HTTP, not gRPC, so nothing else is counted; the 0-connection window's
${zero.etcdRequestsPerSecond.toFixed(2)} requests/s against ${zero.collectorPollsPerSecond.toFixed(2)} polls/s bears
that out. Each poll sends ${v.etcdRequestsPerPoll} calls
(Status and a linearizable read per member, plus member list and alarm list), so the rate divided by
${v.etcdRequestsPerPoll} is the collector's poll rate. Each window lasts ${v.windowSeconds} s: the 0-connection
window just waits; the others run autocannon 8 (programmatic API, in the benchmark's own process) against
\`/api/clusters/default/status\`, after an unmeasured 3 s warm-up. The counters move in steps of one poll
(${v.etcdRequestsPerPoll} requests), so a window's rate is only good to about ±1 poll in ${v.windowSeconds}, i.e.
±${((1 / v.windowSeconds) * 100).toFixed(1)} %.

**Ratio 100 clients / 1 client.** API requests are answered from the collector's last poll and never reach etcd, so
the number of viewers should not change the etcd request rate; the target is a ratio of at most ${v.targetRatio}.
A ratio below 1 is no gain: it means the collector polled *less* often under load. The ${hundred.seconds} s
window (autocannon's ${v.windowSeconds} s plus the time to drain in-flight requests) saw
${hundred.collectorPollsPerSecond.toFixed(2)} polls/s against ${one.collectorPollsPerSecond.toFixed(2)} with one
client: the collector's timers and gRPC callbacks share one Node.js event loop, and ${cpus} CPU cores, with
the API traffic, so each poll starts and finishes later. The busier the machine, the larger this effect.

**Freshness under load.** During every window the benchmark also read the API twice a second (one request more than
the load itself) and counted answers flagged stale, answers that showed anything but three healthy members and
quorum "healthy" (nothing was broken, so any such answer would be false), and the age of the poll shown
(\`servedAt − observedAt\`). With 100 connections: ${hundred.view.stale} stale and ${hundred.view.notAllHealthy}
not-all-healthy answers out of ${hundred.view.samples} reads (${hundred.view.failedReads} failed reads), shown poll
age p50 ${ms(hundred.view.ageP50Ms)}, max ${ms(hundred.view.ageMaxMs)}; the dashboard marks an answer stale only when
its poll is more than ${staleAfterMs(v.pollIntervalMs, PROBE_TIMEOUT_MS)} ms old. The age is sampled at a fixed 500 ms rhythm, so its p50 depends on how that rhythm
happens to line up with the polls; the max is the telling figure.${falseAlarmText(v)}

**API latency and throughput at 100 connections.** autocannon's figures for the 100-connection window:
${h ? `${h.requestsPerSecond} requests/s on average (${h.requests} requests), latency p50 ${h.latencyP50Ms} ms, p99 ${h.latencyP99Ms} ms, max ${h.latencyMaxMs} ms, ${h.errors} errors, ${h.timeouts} timeouts, ${h.non2xx} non-2xx answers` : 'not measured'}.
The load generator runs on the same ${cpus} cores as the server it loads, so this is a lower bound on what the
server alone could do, and the latency includes queueing behind 99 other connections.`;
}
