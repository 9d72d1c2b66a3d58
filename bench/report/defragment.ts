// docs/performance.md, figure 7 (issue 15): the dashboard's rolling defragment against `etcdctl defrag` by hand.
import type { DefragmentResult, LineResult, MethodSummary, ScenarioResult, Spread } from '../defragment';
import { DEFRAGMENT_ETCD_BASE } from '../lib/ports';
import type { FigureRecord } from '../lib/results';
import { measuredOn, mib, notMeasured, ratio } from './format';

/** Seconds with two decimals: these runs last about a second. */
const sec = (msValue: number) => `${(msValue / 1000).toFixed(2)} s`;
const range = (s: Spread, unit: (v: number) => string) =>
  s.values.length > 1 ? `${unit(s.median)} (${unit(s.min)}–${unit(s.max)})` : unit(s.median);
const msu = (v: number) => `${v} ms`;

export function defragmentCommand(r: DefragmentResult): string {
  const env = r.lines.length > 1 ? `BENCH_DEFRAGMENT_ETCD_LINES=${r.lines.map((l) => l.line).join(',')} ` : '';
  return `${env}npm run bench -- --only defragment`;
}

/** What a scenario is called in tables: the live data kept, and the file before a run. */
export function scenarioLabel(s: ScenarioResult): string {
  const d = s.dashboard;
  return `${s.liveMiB} MiB live (db ${mib(d.dbSizeBefore.median)}, ${mib(d.dbSizeInUseBefore.median)} in use)`;
}

function methodRow(what: string, m: MethodSummary, between: boolean): string {
  return [
    `| ${what}`,
    range(m.wallMs, sec),
    between ? range(m.betweenMs, msu) : '–',
    range(m.leaderStallMs, msu),
    range(m.followerStallMs, msu),
    `${m.leaderFailed} / ${m.followerFailed}`,
    range(m.leaderDefragMs, msu),
    `${range(m.followerDefragMs, msu)} |`,
  ].join(' | ');
}

function scenarioTable(l: LineResult, s: ScenarioResult, pauseMs: number): string {
  const n = s.dashboard.runs;
  const pauses = pauseMs > 0 ? s.defaultPauseAddsMs / pauseMs : 0;
  return `| etcd ${l.version}, ${scenarioLabel(s)}; median (min–max) of ${n} runs | wall time | of it between defragments | longest stall, leader's endpoint | longest stall, a follower's endpoint | failed puts (leader / follower) | the leader's defragment † | a follower's defragment † |
| --- | --- | --- | --- | --- | --- | --- | --- |
${methodRow("the dashboard's rolling defragment, pause 0", s.dashboard, true)}
${methodRow('`etcdctl defrag` by hand, member by member', s.etcdctl, false)}
| **ratio dashboard / etcdctl** | **${ratio(s.ratios.wall)}** (per round: ${s.wallRatioPerRound.map((x) => ratio(x)).join(', ')}) | | **${ratio(s.ratios.leaderStall)}** | **${ratio(s.ratios.followerStall)}** | | | |
| the dashboard with its default pause (computed: + ${pauses} × ${pauseMs / 1000} s) | ${sec(s.dashboardWithDefaultPauseMs)}, ${ratio(s.ratios.wallWithDefaultPause)}× etcdctl | + ${sec(s.defaultPauseAddsMs)} | unchanged | unchanged | | | |`;
}

/** How often the longest stall fell in the writer's own member's defragment, over both methods. */
function ownShare(s: ScenarioResult, w: 'leader' | 'follower'): { own: number; runs: number } {
  const k = w === 'leader' ? 'leaderStallInOwnDefrag' : 'followerStallInOwnDefrag';
  return { own: s.dashboard[k] + s.etcdctl[k], runs: s.dashboard.runs + s.etcdctl.runs };
}

/** bench/defragment.ts keeps every gap longer than this (GAP_KEPT_MS) in the record. */
const GAP_KEPT_MS = 100;

const overlaps = (a: Spread, b: Spread) => a.min <= b.max && b.min <= a.max;

export function defragmentSection(heading: string, rec: FigureRecord<DefragmentResult> | null): string {
  if (!rec) return notMeasured(heading, 'defragment');
  const r = rec.result;
  const st = r.settings;
  const first = r.lines[0];
  const base = first?.scenarios[0];
  if (!first || !base) return notMeasured(heading, 'defragment');
  const heavy = first.scenarios.length > 1 ? first.scenarios.at(-1) : undefined;
  const all = r.lines.flatMap((l) => l.scenarios.map((s) => ({ l, s })));
  const tables = all.map(({ l, s }) => scenarioTable(l, s, st.defaultPauseBetweenMembersMs)).join('\n\n');
  const failed = all.reduce(
    (n, { s }) =>
      n + s.dashboard.leaderFailed + s.dashboard.followerFailed + s.etcdctl.leaderFailed + s.etcdctl.followerFailed,
    0,
  );
  const leaderChanges = all.reduce((n, { s }) => n + s.dashboard.leaderChanges + s.etcdctl.leaderChanges, 0);
  const quietMax = Math.max(...all.flatMap(({ s }) => [s.dashboard.quietGapMs.max, s.etcdctl.quietGapMs.max]));
  const leaderShare = all.map(({ s }) => ownShare(s, 'leader'));
  const followerShare = all.map(({ s }) => ownShare(s, 'follower'));
  const sum = (xs: Array<{ own: number; runs: number }>) =>
    `${xs.reduce((n, x) => n + x.own, 0)} of ${xs.reduce((n, x) => n + x.runs, 0)}`;
  const stallsPerScenario = all
    .map(
      ({ l, s }) =>
        `${msu(s.dashboard.leaderStallMs.median)} / ${msu(s.etcdctl.leaderStallMs.median)} on etcd ${l.version} with ${s.liveMiB} MiB live`,
    )
    .join(', ');
  const notOverlapping = all.flatMap(({ l, s }) =>
    (['leaderStallMs', 'followerStallMs'] as const)
      .filter((k) => !overlaps(s.dashboard[k], s.etcdctl[k]))
      .map(
        (k) =>
          `${k === 'leaderStallMs' ? "the leader's" : "a follower's"} endpoint on ${l.version} with ${s.liveMiB} MiB live`,
      ),
  );
  // Gaps over GAP_KEPT_MS (the record keeps those) that overlapped only other members' defragments.
  const runs = all.flatMap(({ s }) => s.runs);
  const writers = runs.flatMap((run) => [run.writers.leader, run.writers.follower]);
  const otherOnly = writers.flatMap((w) => w.gaps.filter((g) => g.during.length > 0 && !g.during.includes(w.member)));
  const otherOnlyMax = otherOnly.length > 0 ? Math.max(...otherOnly.map((g) => g.ms)) : null;
  const exceptions = writers
    .filter((w) => w.longestGap && !w.longestGap.during.includes(w.member))
    .map((w) =>
      w.longestGap && w.longestGap.during.length === 0
        ? `${msu(w.longestGap.ms)} while nothing was being defragmented`
        : `${msu(w.longestGap?.ms ?? 0)} during ${w.longestGap?.during.join(' and ')}'s defragment`,
    );
  const share = (xs: Array<{ own: number; runs: number }>) =>
    xs.reduce((n, x) => n + x.own, 0) /
    Math.max(
      1,
      xs.reduce((n, x) => n + x.runs, 0),
    );
  const bounded = otherOnlyMax === null && share(leaderShare) >= 0.9 && share(followerShare) >= 0.9;
  const inUse = (s: ScenarioResult) => s.dashboard.dbSizeInUseBefore.median;
  const msPer100MiB =
    heavy && inUse(heavy) > inUse(base)
      ? ((heavy.dashboard.leaderDefragMs.median - base.dashboard.leaderDefragMs.median) /
          (inUse(heavy) - inUse(base))) *
        100 *
        1024 *
        1024
      : null;
  const wallRatios = all
    .map(({ l, s }) => `${ratio(s.ratios.wall)} (etcd ${l.version}, ${s.liveMiB} MiB live)`)
    .join(', ');
  const perRound = all.flatMap(({ s }) => s.wallRatioPerRound);
  const noisy = Math.min(...perRound) <= 1 && Math.max(...perRound) >= 1;
  const wallHeading = noisy
    ? "**Its wall time at pause 0 is etcdctl's, give or take the noise**"
    : Math.min(...perRound) > 1
      ? '**At pause 0 it takes longer than etcdctl by hand**'
      : '**At pause 0 it is quicker than etcdctl by hand**';
  const calls = r.lines.map((l) => `${msu(l.etcdctlCallMs.median)} on ${l.version}`).join(', ');
  const between = all.map(({ s }) => s.dashboard.betweenMs.median);
  return `${heading}

${measuredOn(rec, defragmentCommand(r))} etcd ${r.lines.map((l) => l.version).join(' and ')}; raw values, every run and every
gap over 100 ms, in bench/results/defragment.json.

**The question.** A rolling defragment through the dashboard (issue 15) against doing it by hand as etcd's
documentation says: \`etcdctl --endpoints=<one member> defrag\`, member by member, followers first and the leader last.
Which takes longer, and how long does a client that keeps writing wait?

**How it was measured.** One real 3-member etcd cluster with mutual TLS on loopback per etcd line
(scripts/lib/local-cluster.ts, ports ${DEFRAGMENT_ETCD_BASE}–${DEFRAGMENT_ETCD_BASE + 8}). Before every run it is fragmented the same way: ${st.fragmentMiB} MiB of
${st.valueBytes / 1024} KiB values written in transactions of ${st.putsPerTxn} puts, deleted, and compacted physically, which leaves about
${mib(base.dashboard.dbSizeBefore.median - base.dashboard.dbSizeInUseBefore.median)} of free pages in each member's file (dbSize − dbSizeInUse; every member's sizes before and after
every run are in the JSON). The scenarios differ in the live data kept besides: ${first.scenarios.map((s) => `${s.liveMiB} MiB`).join(', then ')} of the same
values, written once and never deleted, which a defragment must copy. Each scenario has ${st.rounds} round${st.rounds === 1 ? '' : 's'} of one run each
way on the same cluster, the order alternating (the dashboard first in odd rounds):

- **the dashboard**: \`MaintenanceService.start(…, { action: 'defragment' })\` then \`settled()\`, wired as
  lib/app/dashboard.ts wires it (less its check of what etcd lets the dashboard's etcd user do), over a ClusterCollector at the dashboard's defaults (poll ${st.pollIntervalMs} ms, probe deadline
  ${st.probeTimeoutMs} ms, metrics every ${st.metricsIntervalMs / 1000} s) and SQLite, with \`pauseBetweenMembersMs\` 0 for a fair time comparison. Before
  each member it asks every member for Status (one leader, nobody behind, no fault), then sends Defragment, then waits
  until the member answers and has applied what the leader committed. Wall time: \`start()\` to \`settled()\`.

- **by hand**: the cluster's own etcdctl (the members' release), \`etcdctl --endpoints=<member> --command-timeout=${st.etcdctlCommandTimeout} defrag\`
  with the cluster's ETCDCTL_CACERT/CERT/KEY (not ETCDCTL_ENDPOINTS: etcdctl refuses a flag whose variable is also
  set), in the dashboard's order, one right after the other with no checks between; the longer command timeout only
  keeps etcdctl's default of 5 s from cutting a long defragment short. Wall time: the first etcdctl's start to the
  last one's exit. The collector keeps polling during these runs too.

During every run two clients keep writing, each a small key, then ${st.writePauseMs} ms of pause, then the next (deadline ${st.putTimeoutMs / 1000} s):
one on the leader's endpoint, one on the endpoint of the follower defragmented first, from 1 s before the run to
1 s after. A **stall** is the longest time between two acknowledged puts. With no member defragmenting, the longest
gap any writer saw was ${msu(quietMax)} (the ${st.writePauseMs} ms pause plus a put, on a shared 2-core machine).

${tables}

† The dashboard's: its Defragment call. etcdctl's: the whole process, start-up and mTLS connection included
(\`etcdctl endpoint status\`, the same without a defragment, took ${calls}, median of 5).

Failed puts in all runs: ${failed}. Leader changes during a run: ${leaderChanges}.

**What it means for an SRE.**

- ${bounded ? "**The stall is bounded by one member's defragment.**" : '**Where the stalls fell.**'} ${
    otherOnlyMax === null
      ? `While another member defragmented, neither client waited more than ${GAP_KEPT_MS} ms between two puts in any run.`
      : `While only other members defragmented, a client waited up to ${msu(otherOnlyMax)} between two puts.`
  } The longest stall fell inside the defragment of the client's own member in ${sum(leaderShare)} runs on the
  leader's endpoint and ${sum(followerShare)} on the follower's${exceptions.length > 0 ? ` (otherwise: ${exceptions.join('; ')})` : ''}.${
    bounded
      ? ` A member that defragments stops applying entries and answering, but the other two still make a quorum and
  carry on, so a client is held up only while its own member is busy — never for the sum of the three.`
      : ''
  }

- ${share(leaderShare) >= 0.9 ? "**On the leader's endpoint, the leader's own defragment is the stall**" : "**On the leader's endpoint**"}: median ${msu(base.dashboard.leaderStallMs.median)} with ${base.liveMiB} MiB live${
    heavy
      ? ` and
  ${msu(heavy.dashboard.leaderStallMs.median)} with ${heavy.liveMiB} MiB live`
      : ''
  } on etcd ${first.version} (dashboard runs). A defragment copies what is in use into a new
  file, so its length grows with the data in use, not with the free pages it gives back${msPer100MiB !== null ? ` — about ${Math.round(msPer100MiB)} ms more per 100 MiB in use on this machine, which, if it stays linear, is some ${((msPer100MiB * 20.48) / 1000).toFixed(0)} s per member for 2 GiB in use` : ''}.
  Clients whose request deadline is shorter than one member's defragment get
  errors instead of a wait; the writers here had ${st.putTimeoutMs / 1000} s and lost no put.

- ${notOverlapping.length === 0 ? '**The dashboard stalls clients as etcdctl does.**' : "**The dashboard's stalls against etcdctl's.**"} Both send the same Defragment to the same member, one at
  a time. Median stall on the leader's endpoint, dashboard / etcdctl: ${stallsPerScenario}; ${notOverlapping.length === 0 ? 'in every scenario the two ranges overlap: the differences are run-to-run noise' : `the ranges do not overlap for ${notOverlapping.join('; ')}`}.

- ${wallHeading}: ratio ${wallRatios}; round by round the ratio ranged
  ${ratio(Math.min(...perRound))}–${ratio(Math.max(...perRound))}${noisy ? ', because the defragments themselves vary from run to run on a shared machine' : ''}. Its checks between members
  took ${between.map((b) => msu(b)).join(', ')} per run (median, all members together); by hand, each member costs an etcdctl process
  start and connection instead (${msu(first.etcdctlCallMs.median)} each on ${first.version}), and nothing is checked.

- **The default 10 s pause costs time, not availability**: it adds ${sec(base.defaultPauseAddsMs)} to a 3-member run (two pauses), which at
  these sizes is most of its length (${ratio(base.ratios.wallWithDefaultPause)}× etcdctl's wall time${heavy ? `; ${ratio(heavy.ratios.wallWithDefaultPause)}× with ${heavy.liveMiB} MiB live` : ''}), and no stall: no member is
  defragmenting during it. It spaces out the members' blocking periods, so a busy cluster has time to settle before the next
  member blocks; where that is not needed, \`pauseBetweenMembersSeconds\` in the cluster's config makes it shorter.`;
}
