// Polls one cluster about once a second and keeps the latest status, with the slower reads beside it (the members'
// server certificates, the Secrets census); API routes and the alert rules read these and never call etcd.
import 'server-only';
import { createHash } from 'node:crypto';
import type { ClusterConfig } from '@/lib/config/load-config';
import type { MemberClient, StatusClient } from '@/lib/etcd/member-client';
import { MemberClients } from '@/lib/etcd/member-clients';
import { probeMembers, type MemberProbeResult } from '@/lib/etcd/member-probe';
import { listAlarms, listMembers, type AlarmEntry, type MemberListEntry } from '@/lib/etcd/cluster-calls';
import { scrapeMetrics } from '@/lib/etcd/metrics-scrape';
import { eventLoopLag } from './event-loop-lag';
import type { Observation } from '@/lib/cluster/status-types';
import {
  deriveMetricsSample,
  parseEtcdMetrics,
  type EtcdMetricsSample,
  type EtcdMetricsScrape,
} from '@/lib/metrics/etcd-metrics';
import { assembleStatus, normalizeUrl } from './assemble-status';
import { CertificateSchedule, type MemberCertificate } from './certificate-schedule';
import { deriveEvents, type EventState } from './derive-events';
import type { HistoryRecorder } from './history-recorder';
import { SecretsCensusSchedule, type CensusOutcome } from './secrets-census-schedule';

export interface CollectorOptions {
  pollIntervalMs: number;
  probeTimeoutMs: number;
  /** How often each member's /metrics is scraped; 0 turns scraping off. */
  metricsIntervalMs: number;
  /** How long this process's event loop was held up between two performance.now() times (event-loop-lag.ts). */
  loopLag?: (from: number, to: number) => number;
  /** Where samples and events go; null keeps no history (tests of the live view alone). */
  recorder: Pick<HistoryRecorder, 'recordPoll' | 'recordEvents' | 'recordMetrics'> | null;
  /** Called after each poll (the replica that owns the cluster publishes what it saw). */
  onPolled?: (clusterId: string) => void;
  /**
   * Shared by a process's collectors (FIRST_POLLS_AT_ONCE): the first polls after start() pass through it, a few at a
   * time. None: no limit.
   */
  firstPolls?: { execute<T>(fn: () => Promise<T>): Promise<T> };
}

/**
 * How many clusters' first polls one process runs at once. A first poll opens every member's connections (TCP, the
 * TLS handshake, for the etcd3 and the Status client each); a replica taking over a hundred clusters (another died),
 * or starting with hundreds, that opened them all in the same second had its calls wait on each other's handshakes
 * past their deadline, and showed healthy clusters as "every member unreachable" (the fleet benchmark). A few at a
 * time, each poll answers within its deadline and the last is shown sooner than after a failed burst and its retries.
 */
export const FIRST_POLLS_AT_ONCE = 8;

/**
 * What the replica that polls a cluster shares with the others, which show it instead of polling etcd themselves:
 * the latest observation and what the rules read beside it. JSON; counts only from the Secrets census, never values.
 */
export interface ClusterView {
  observation: Observation;
  lastAnsweredAt: string | null;
  certificates: MemberCertificate[] | null;
  census: CensusOutcome | null;
  metrics: Array<[string, MemberMetrics]>;
}

/** The newest metric-derived figures of one member, as the alert rules judge them. */
export interface MemberMetrics {
  walFsyncP99Ms: number | null;
  backendCommitP99Ms: number | null;
  worstPeerRttP99Ms: number | null;
  /** Failed proposals in the last few minutes. */
  proposalsFailedRecent: number | null;
}

export interface CollectorCounters {
  polls: number;
  lastPollMs: number | null;
  /** Polls not shown because this process was held up while their calls missed the deadline. */
  heldUp: number;
  /** First polls after a takeover not shown because calls of theirs missed the deadline (asked again soon). */
  heldBack: number;
}

const PEER_RTT_WINDOW_MS = 60_000;
/** Failed proposals count for an alert while they happened within this long. */
const RECENT_FAILURES_MS = 5 * 60_000;
/**
 * ...and only while they go on: a minute without a new failure (two scrapes, when scrapes are further apart) ends the
 * alert; the count stays in the history.
 */
export const FAILURES_QUIET_MS = 60_000;
/**
 * A held-up first poll after a takeover is asked again after a fifth of the poll interval (at least this), plus up to
 * as much again by the cluster's phase: past the burst of the takeover, and spread.
 */
const FIRST_POLL_RETRY_MS = 1_000;
/**
 * How many times: twice, so that two retries (4–8 s at a 10 s poll) end before the regular next poll would come, and
 * a cluster taken over in a held-up burst is not left showing the old owner's view for one or two whole intervals.
 */
const FIRST_POLL_RETRIES = 2;

/**
 * The failed proposals of the last five minutes, counted while they go on; 0 once none has failed for the quiet time,
 * so the alert resolves soon after the election or outage that caused them rather than five minutes later.
 */
export function recentFailedProposals(
  failed: ReadonlyArray<[number, number]>,
  now: number,
  metricsIntervalMs = 0,
): number {
  const last = failed.at(-1)?.[0];
  if (last === undefined || now - last > Math.max(FAILURES_QUIET_MS, 2 * metricsIntervalMs)) return 0;
  return failed.filter(([t]) => now - t <= RECENT_FAILURES_MS).reduce((n, [, c]) => n + c, 0);
}

export class ClusterCollector {
  private readonly clients: MemberClients;
  private memberList: MemberListEntry[] | null = null;
  private readonly endpointMembers = new Map<string, string>();
  private alarms: AlarmEntry[] = [];
  private latest: Observation | null = null;
  /** The newest view another replica published, when it is newer than this one's own latest poll. */
  private adopted: { view: ClusterView; at: number } | null = null;
  private lastAnswered: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private metricsTimer: NodeJS.Timeout | null = null;
  private running = false;
  private eventState: EventState | null = null;
  /** Last scrape per member id, for bucket and counter deltas. */
  private readonly lastScrape = new Map<string, EtcdMetricsScrape>();
  /**
   * Per member, the scrape peer round trips are measured from: etcd probes each peer only about every 30 s,
   * so a window of one scrape interval is usually empty.
   */
  private readonly rttBase = new Map<string, EtcdMetricsScrape>();
  /** Leader changes the members counted since the last poll took them into account; null: no scrape since. */
  private metricLeaderChanges: number | null = null;
  private quotaBackendBytes: number | null = null;
  /** Per member: the newest metric-derived sample, and recent failed proposals, for the alert rules. */
  private readonly memberMetrics = new Map<
    string,
    {
      sample: EtcdMetricsSample;
      at: number;
      worstPeerRtt: { value: number; at: number } | null;
      failed: Array<[number, number]>;
    }
  >();
  /** The endpoint that answered best last time: cluster-wide calls go there first. */
  private preferred: string | null = null;
  readonly counters: CollectorCounters = { polls: 0, lastPollMs: null, heldUp: 0, heldBack: 0 };
  /** Whether the log has said that a poll was not shown because this process was held up (once until one is). */
  private saidHeldUp = false;
  /**
   * The quick retries of a held-up first poll of a cluster another replica polled before: `owed` once a poll with
   * nothing of its own shown yet was not shown, `left` how many more may follow since start() (a held-up fleet is not
   * asked again and again).
   */
  private firstPollRetry = { owed: false, left: FIRST_POLL_RETRIES };
  private readonly certificateSchedule: CertificateSchedule;
  private readonly censusSchedule: SecretsCensusSchedule;
  /** Members the dashboard itself is defragmenting now (a maintenance run). */
  private readonly busy = new Set<string>();
  /** When each member's defragment by the dashboard ended: a poll that overlapped it still shows it busy. */
  private readonly busyEnded = new Map<string, number>();
  /** A leader move the dashboard asked for: the next change to `to` is put on the timeline as caused by `by`. */
  private leaderMove: { to: string; by: string; until: number } | null = null;
  /** How many times stop() was called: a poll under way across one is discarded. */
  private stops = 0;

  constructor(
    readonly cluster: ClusterConfig,
    readonly options: CollectorOptions,
  ) {
    this.clients = new MemberClients(cluster.tls, options.probeTimeoutMs);
    this.certificateSchedule = new CertificateSchedule(cluster.tls);
    this.censusSchedule = new SecretsCensusSchedule(cluster.tls);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.firstPollRetry = { owed: false, left: FIRST_POLL_RETRIES };
    // Taking over from another replica (or polling while its view is old): its last certificates and census are
    // carried on, so a takeover of dozens of clusters does not add a round of TLS handshakes and a census each.
    const from = this.adopted?.view;
    if (from) {
      const now = Date.now();
      this.certificateSchedule.carryOn(from.certificates, now);
      this.censusSchedule.carryOn(from.census, now);
    }
    // The first poll at once; the next ones at this cluster's own phase of the interval, and its scrapes likewise, so
    // a fleet's hundreds of collectors (started together) spread their calls over the interval instead of sending
    // them all in the same instant, where they would wait on each other past the probe deadline.
    const phase = phaseOf(this.cluster.id);
    let phaseOwed = true;
    let first = true;
    this.repeat(
      'poll',
      async () => {
        const obs = first ? await this.firstPoll() : await this.pollOnce();
        first = false;
        if (!obs) return;
        // Each keeps its own clock (certificates every 10 min, the census every 5) and runs beside the polls.
        this.certificateSchedule.refresh(obs, Date.now());
        this.censusSchedule.refresh(obs, Date.now());
      },
      () => {
        if (this.firstPollRetry.owed) {
          // Asked again once, soon (spread by the phase): a replica taking over dozens of clusters is held up by their
          // first polls together, and would otherwise show none of them for a whole interval.
          this.firstPollRetry.owed = false;
          const retry = Math.max(FIRST_POLL_RETRY_MS, Math.floor(this.options.pollIntervalMs / 5));
          return retry + Math.floor(phase * retry);
        }
        const next = this.nextInterval();
        if (!phaseOwed) return next;
        phaseOwed = false;
        return next + Math.floor(phase * this.options.pollIntervalMs);
      },
      0,
    );
    if (this.options.metricsIntervalMs > 0) {
      const every = this.options.metricsIntervalMs;
      this.repeat(
        'metrics scrape',
        () => this.scrapeOnce(),
        () => every,
        Math.max(1000, Math.floor(phase * every)),
      );
    }
  }

  /**
   * The first poll since start(), through the process's gate (firstPolls): it waits for its turn, and one stopped
   * meanwhile (another replica owns the cluster again) does not poll, nor open a connection.
   */
  private firstPoll(): Promise<Observation | null> {
    const gate = this.options.firstPolls;
    if (!gate) return this.pollOnce();
    const stops = this.stops;
    return gate.execute(() => (this.stops === stops ? this.pollOnce() : Promise.resolve(null)));
  }

  stop(): void {
    this.running = false;
    this.stops++;
    if (this.timer) clearTimeout(this.timer);
    if (this.metricsTimer) clearTimeout(this.metricsTimer);
    this.timer = null;
    this.metricsTimer = null;
    this.clients.close();
  }

  /** Whether this process polls the cluster now (else it shows what another replica published, if anything). */
  polling(): boolean {
    return this.running;
  }

  /** The other replica's view, when it is newer than this process's own last poll. */
  private newerView(): ClusterView | null {
    const a = this.adopted;
    if (!a) return null;
    const own = this.latest?.observedAt ? Date.parse(this.latest.observedAt) : -Infinity;
    return a.at > own ? a.view : null;
  }

  /** Shows a view another replica published (ignored if this process has polled more recently). */
  adopt(view: ClusterView): void {
    const at = Date.parse(view.observation.observedAt ?? '');
    if (Number.isNaN(at) || (this.adopted && this.adopted.at >= at)) return;
    this.adopted = { view, at };
  }

  /** What this process saw at its last poll, to publish for the other replicas; null before a first poll. */
  view(now = Date.now()): ClusterView | null {
    if (!this.latest) return null;
    return {
      observation: this.latest,
      lastAnsweredAt: this.lastAnswered,
      certificates: this.certificateSchedule.latest(),
      census: this.censusSchedule.latest(),
      metrics: [...this.latestMetrics(now)],
    };
  }

  /** The last completed poll (here or on the replica that owns the cluster), without the staleness verdict. */
  current(): Observation | null {
    return this.newerView()?.observation ?? this.latest;
  }

  /** The members' server certificates from the latest round of TLS handshakes; null until a first has finished. */
  certificates(): MemberCertificate[] | null {
    return this.newerView()?.certificates ?? this.certificateSchedule.latest();
  }

  /** The latest Secrets census (counts only, never values) or why it failed; null until a first has finished. */
  census(): CensusOutcome | null {
    return this.newerView()?.census ?? this.censusSchedule.latest();
  }

  /** ISO time a member last answered a probe; null when none has since this process started. */
  lastAnsweredAt(): string | null {
    const theirs = this.newerView()?.lastAnsweredAt ?? null;
    if (!theirs || !this.lastAnswered) return theirs ?? this.lastAnswered;
    return theirs > this.lastAnswered ? theirs : this.lastAnswered;
  }

  /**
   * A setTimeout chain: the next run is scheduled after this one ends, so runs never overlap or pile up.
   * `run` is built not to throw; if it does, the view goes stale rather than the process down. A run under way across
   * stop() and start() ends its chain there (the new start() began its own).
   */
  private repeat(
    what: 'poll' | 'metrics scrape',
    run: () => Promise<unknown>,
    interval: () => number,
    delayMs: number,
    stops = this.stops,
  ): void {
    if (!this.running || this.stops !== stops) return;
    const timer = setTimeout(() => {
      const started = Date.now();
      run()
        .catch((err: unknown) => {
          console.error(
            `collector ${this.cluster.id}: ${what} failed: ${err instanceof Error ? err.message : String(err)}`,
          );
        })
        .finally(() => this.repeat(what, run, interval, Math.max(0, interval() - (Date.now() - started)), stops));
    }, delayMs);
    timer.unref?.();
    if (what === 'poll') this.timer = timer;
    else this.metricsTimer = timer;
  }

  /**
   * While there is no leader an election is under way: poll ten times as often, so the new leader (and how
   * long the cluster was without one) shows up within a fraction of the poll interval.
   */
  private nextInterval(): number {
    const leaderless = this.latest !== null && this.latest.leader === null && this.latest.members.some((m) => m.status);
    return leaderless ? Math.max(100, Math.round(this.options.pollIntervalMs / 10)) : this.options.pollIntervalMs;
  }

  private rememberMetrics(memberId: string, sample: EtcdMetricsSample, at: number): void {
    const prev = this.memberMetrics.get(memberId);
    const failed = (prev?.failed ?? []).filter(([t]) => at - t <= RECENT_FAILURES_MS);
    if (sample.proposalsFailed) failed.push([at, sample.proposalsFailed]);
    // Peer round trips are measured once a minute: keep the last one rather than the empty windows in between.
    const worstPeerRtt =
      sample.worstPeerRttP99Ms !== null ? { value: sample.worstPeerRttP99Ms, at } : (prev?.worstPeerRtt ?? null);
    this.memberMetrics.set(memberId, { sample, at, worstPeerRtt, failed });
  }

  /** The newest metric-derived figures per member id, no older than a few scrape intervals. */
  latestMetrics(now = Date.now()): Map<string, MemberMetrics> {
    const theirs = this.newerView();
    if (theirs) return new Map(theirs.metrics);
    const fresh = Math.max(3 * this.options.metricsIntervalMs, 15_000);
    const out = new Map<string, MemberMetrics>();
    for (const [id, m] of this.memberMetrics) {
      if (now - m.at > fresh) continue;
      out.set(id, {
        walFsyncP99Ms: m.sample.walFsyncP99Ms,
        backendCommitP99Ms: m.sample.backendCommitP99Ms,
        worstPeerRttP99Ms:
          m.worstPeerRtt && now - m.worstPeerRtt.at <= 3 * PEER_RTT_WINDOW_MS ? m.worstPeerRtt.value : null,
        proposalsFailedRecent: recentFailedProposals(m.failed, now, this.options.metricsIntervalMs),
      });
    }
    return out;
  }

  /** A maintenance run tells the live view that it is defragmenting a member (busy, not down), and when it is done. */
  markBusy(memberId: string, busy: boolean): void {
    if (busy) this.busy.add(memberId);
    else if (this.busy.delete(memberId)) this.busyEnded.set(memberId, Date.now());
  }

  /** A maintenance run asked etcd to move the leader to `to`: the change it sees next is recorded as asked by `by`. */
  expectLeaderMove(to: string, by: string, withinMs = 60_000): void {
    this.leaderMove = { to, by, until: Date.now() + withinMs };
  }

  /**
   * Members defragmenting: at the dashboard's request at any time since `pollStarted` (a probe that waited on a
   * defragment is answered after it ends), or as their latest fresh scrape says.
   */
  private defragmenting(pollStarted: number, now = Date.now()): Set<string> {
    const fresh = Math.max(3 * this.options.metricsIntervalMs, 15_000);
    const ids = new Set<string>(this.busy);
    for (const [id, ended] of this.busyEnded) {
      if (ended >= pollStarted) ids.add(id);
      else this.busyEnded.delete(id);
    }
    for (const [id, m] of this.memberMetrics) if (m.sample.defragInflight && now - m.at <= fresh) ids.add(id);
    return ids;
  }

  /** Where a member's /metrics is read: its configured plain URL, else its client endpoint over mTLS. */
  private metricsTarget(member: { name: string; endpoint: string | null }): { url: string; tls: boolean } | null {
    const plain = this.cluster.metricsUrls[member.name];
    if (plain) return { url: plain, tls: plain.startsWith('https:') };
    if (!member.endpoint) return null;
    return { url: `${member.endpoint}/metrics`, tls: member.endpoint.startsWith('https:') };
  }

  /** Scrapes every known member's metrics once and records the metric-derived samples. */
  async scrapeOnce(): Promise<void> {
    const obs = this.latest;
    if (!obs) return;
    const members = obs.members.filter((m): m is typeof m & { id: string } => m.id !== null);
    const timeoutMs = Math.max(this.options.probeTimeoutMs, 2000);
    // One time for the whole round, so the members' points line up on the charts.
    const roundAt = Date.now();
    const results = await Promise.all(
      members.map(async (m) => {
        const target = this.metricsTarget(m);
        if (!target) return null;
        const res = await scrapeMetrics(target.url, target.tls ? this.cluster.tls : null, timeoutMs);
        return res.ok ? { member: m, scrape: parseEtcdMetrics(res.text, roundAt) } : null;
      }),
    );
    let leaderChanges: number | null = null;
    for (const r of results) {
      if (!r) continue;
      const sample = deriveMetricsSample(this.lastScrape.get(r.member.id) ?? null, r.scrape);
      this.lastScrape.set(r.member.id, r.scrape);
      const base = this.rttBase.get(r.member.id);
      if (!base) this.rttBase.set(r.member.id, r.scrape);
      else if (r.scrape.at - base.at >= PEER_RTT_WINDOW_MS) {
        sample.worstPeerRttP99Ms = deriveMetricsSample(base, r.scrape).worstPeerRttP99Ms;
        this.rttBase.set(r.member.id, r.scrape);
      } else sample.worstPeerRttP99Ms = null;
      if (sample.quotaBackendBytes !== null) this.quotaBackendBytes = sample.quotaBackendBytes;
      // Every member counts the same election; a restarted member's counter counts its own start.
      if (sample.leaderChanges !== null && !sample.counterReset) {
        leaderChanges = Math.max(leaderChanges ?? 0, sample.leaderChanges);
      }
      this.options.recorder?.recordMetrics(this.cluster.id, r.member, sample, r.scrape.at);
      this.rememberMetrics(r.member.id, sample, r.scrape.at);
    }
    if (leaderChanges !== null) this.metricLeaderChanges = (this.metricLeaderChanges ?? 0) + leaderChanges;
  }

  private client(endpoint: string): MemberClient {
    return this.clients.client(endpoint);
  }

  private statusClient(endpoint: string): StatusClient {
    return this.clients.status(endpoint);
  }

  /** Configured endpoints, plus the advertised client URL of any listed member none of them reaches. */
  private targets(): string[] {
    const targets = [...this.cluster.endpoints];
    const configured = new Set(targets.map(normalizeUrl));
    const covered = new Set(targets.map((e) => this.endpointMembers.get(e)).filter(Boolean));
    for (const m of this.memberList ?? []) {
      if (covered.has(m.id) || m.clientURLs.some((u) => configured.has(normalizeUrl(u)))) continue;
      const url = m.clientURLs[0];
      if (url) targets.push(url);
    }
    return targets;
  }

  // A history write that fails (disk full, locked file) must not stop the live view: log it and go on.
  private record(events: ReturnType<typeof deriveEvents>['events']): void {
    const recorder = this.options.recorder;
    if (!recorder || !this.latest) return;
    try {
      recorder.recordPoll(this.cluster.id, this.latest, Date.parse(this.latest.observedAt ?? '') || Date.now());
      if (events.length > 0) recorder.recordEvents(this.cluster.id, events);
    } catch (err) {
      console.error(
        `collector ${this.cluster.id}: history write failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /** What a poll that is not shown (nor recorded) answered, for its caller alone, with why in its warnings. */
  /** Whether a held-up or held-back poll may be asked again soon: a takeover's first (nothing of its own shown yet). */
  private firstPollRetryLeft(): boolean {
    return this.latest === null && this.adopted !== null && this.firstPollRetry.left > 0;
  }

  private oweFirstPollRetry(): void {
    this.firstPollRetry.left -= 1;
    this.firstPollRetry.owed = true;
  }

  private notShown(probes: MemberProbeResult[], why: string): Observation {
    return assembleStatus({
      clusterId: this.cluster.id,
      name: this.cluster.name,
      pollIntervalMs: this.options.pollIntervalMs,
      observedAt: new Date().toISOString(),
      memberList: this.memberList,
      probes,
      endpointMembers: this.endpointMembers,
      alarms: this.alarms,
      warnings: [why],
      quotaBackendBytes: this.quotaBackendBytes,
      defragmenting: new Set<string>(),
    });
  }

  async pollOnce(): Promise<Observation> {
    const stopsAtStart = this.stops;
    const started = performance.now();
    const startedAt = Date.now();
    const targets = this.targets();
    const learners = new Set((this.memberList ?? []).filter((m) => m.isLearner).map((m) => m.id));
    const wideEndpoint = this.preferred && targets.includes(this.preferred) ? this.preferred : targets[0];

    // Member probes and the cluster-wide calls run side by side: a slow call costs one deadline, not a sum.
    const [probes, memberList, alarms] = await Promise.all([
      probeMembers(
        targets.map((e) => ({
          endpoint: e,
          statusClient: this.statusClient(e),
          client: this.client(e),
          isLearner: learners.has(this.endpointMembers.get(e) ?? ''),
          knownMemberId: this.endpointMembers.get(e) ?? null,
        })),
      ),
      wideEndpoint ? listMembers(this.client(wideEndpoint)) : null,
      wideEndpoint ? listAlarms(this.client(wideEndpoint)) : null,
    ]);

    const warnings: string[] = [];
    // Stopped meanwhile (another replica owns the cluster again): its calls were cut by closing the clients, and what
    // they answered says nothing about etcd. Not shown, not recorded.
    if (this.stops !== stopsAtStart) {
      return this.notShown(probes, 'stopped during this poll');
    }
    for (const p of probes) if (p.status) this.endpointMembers.set(p.endpoint, p.status.memberId);
    const answering = probes.filter((p) => p.status);
    if (memberList?.ok) this.memberList = memberList.value;
    else if (memberList) warnings.push(`member list unavailable from ${wideEndpoint}: ${memberList.failure.message}`);
    if (alarms?.ok) this.alarms = alarms.value;
    else if (alarms) warnings.push(`alarm list unavailable from ${wideEndpoint}: ${alarms.failure.message}`);

    // Calls that missed their deadline while this process's event loop was held up for a whole deadline or more were
    // not answered late by etcd but heard late here: the poll is not shown (the last one stays, and goes stale if
    // this goes on). The next poll comes at the usual interval: asking sooner would add to the load that held it up;
    // only the first poll of a cluster taken over (nothing of its own to show yet) is asked again, twice at most, within
    // seconds.
    // Not at a fleet's start (nothing adopted yet): retrying hundreds of first polls there only added to the load.
    const heldUpMs = (this.options.loopLag ?? ((a, b) => eventLoopLag().maxBetween(a, b)))(started, performance.now());
    const missed = probes.some((p) => p.statusFailure?.kind === 'timeout' || p.health.failure?.kind === 'timeout');
    if (missed && heldUpMs >= this.options.probeTimeoutMs) {
      this.counters.heldUp += 1;
      if (this.firstPollRetryLeft()) this.oweFirstPollRetry();
      if (!this.saidHeldUp) {
        this.saidHeldUp = true;
        console.error(
          `collector ${this.cluster.id}: this process was held up ${heldUpMs} ms during a poll whose calls missed their deadline; not shown`,
        );
      }
      return this.latest ?? this.notShown(probes, 'this process was held up during the poll');
    }
    // A first poll after a takeover whose calls missed their deadline, though this process was not held up that long,
    // is held back the same way while a quick retry is left: its connections are all new, opened with dozens of others
    // at once (in the fleet figure such polls showed healthy clusters as "quorum lost, every member unreachable" for
    // seconds); the old owner's view stays shown meanwhile. A member really down is shown by the retry, seconds later.
    if (missed && this.firstPollRetryLeft()) {
      this.counters.heldBack += 1;
      this.oweFirstPollRetry();
      return this.notShown(probes, 'the first poll after a takeover missed its deadline; asked again');
    }
    this.saidHeldUp = false;
    this.preferred = pickPreferred(probes) ?? answering[0]?.endpoint ?? null;
    const observedAt = new Date().toISOString();
    if (answering.length > 0) this.lastAnswered = observedAt;
    this.latest = assembleStatus({
      clusterId: this.cluster.id,
      name: this.cluster.name,
      pollIntervalMs: this.options.pollIntervalMs,
      observedAt,
      memberList: this.memberList,
      probes,
      endpointMembers: this.endpointMembers,
      alarms: this.alarms,
      warnings,
      quotaBackendBytes: this.quotaBackendBytes,
      defragmenting: this.defragmenting(startedAt),
    });
    if (this.leaderMove && this.leaderMove.until < Date.now()) this.leaderMove = null;
    const { events, state } = deriveEvents(this.eventState, {
      observation: this.latest,
      leaderChangesFromMetrics: this.metricLeaderChanges,
      matchWindowMs: Math.max(60_000, 3 * this.options.metricsIntervalMs),
      leaderMove: this.leaderMove,
    });
    if (this.leaderMove && events.some((e) => e.type === 'leader_changed' && e.details.requestedBy !== undefined)) {
      this.leaderMove = null;
    }
    this.eventState = state;
    this.metricLeaderChanges = null;
    this.record(events);
    this.counters.polls += 1;
    this.counters.lastPollMs = performance.now() - started;
    this.options.onPolled?.(this.cluster.id);
    return this.latest;
  }
}

/** A healthy follower if there is one (sparing the leader), else any healthy member. */
function pickPreferred(probes: MemberProbeResult[]): string | null {
  const healthy = probes.filter((p) => p.status && p.health.ok);
  const follower = healthy.find((p) => p.status && p.status.leader !== p.status.memberId);
  return (follower ?? healthy[0])?.endpoint ?? null;
}

/** Where in its intervals a cluster's polls and scrapes fall: a fraction in [0, 1), the same on every start. */
function phaseOf(clusterId: string): number {
  return createHash('sha256').update(clusterId).digest().readUInt32BE(0) / 2 ** 32;
}
