// Evaluates the alert rules for every cluster about once a second from what the collectors observed (it never calls
// etcd), keeps pending → firing → resolved states, persists fired alerts, and hands state changes to the dispatcher.
import 'server-only';
import type { ConsistencyCheck } from '@/lib/cluster/consistency-types';
import { boundedRead } from '@/lib/db/bounded-read';
import { refusedForGood } from '@/lib/db/refusals';
import type { ClusterConfig, DashboardConfig } from '@/lib/config/load-config';
import type { ClusterCollector, MemberMetrics } from '@/lib/collector/cluster-collector';
import type { EventStore } from '@/lib/history/event-store';
import type { SampleStore } from '@/lib/history/sample-store';
import { projectGrowth } from '@/lib/history/growth';
import type { SnapshotManager } from '@/lib/snapshots/snapshot-manager';
import { isStale } from '@/lib/cluster/staleness';
import { DEFAULT_QUOTA_BYTES, type RuleName } from '@/lib/cluster/thresholds';
import { AlertTracker, type TrackedAlert, type Transition } from './alert-tracker';
import type { AlertStore, StoredAlert } from './alert-store';
import type { AlertView } from './alert-types';
import { worstFirst } from './alert-groups';
import { alertName, instanceOf, runbookUrl } from './alert-names';
import { NotificationDispatcher, type DeliveryCounts } from './notify/dispatcher';
import type { AlertNotification } from './notify/notification-types';
import { evaluateRules, RULES, type CertificateFact, type RuleContext } from './rules';

/** DB growth is projected from history once a minute and cached between evaluations. */
const GROWTH_EVERY_MS = 60_000;
const LEADER_WINDOW_MS = 15 * 60_000;
const RESOLVED_SHOWN_MS = 60 * 60_000;
/** State changes held while the database refuses writes; beyond this the oldest are dropped (and counted). */
const MAX_UNSTORED = 10_000;

/** The metric each metric-based rule is judged on. */
const METRIC_OF: Partial<Record<RuleName, keyof MemberMetrics>> = {
  wal_fsync_slow: 'walFsyncP99Ms',
  backend_commit_slow: 'backendCommitP99Ms',
  peer_rtt_high: 'worstPeerRttP99Ms',
  proposals_failed: 'proposalsFailedRecent',
};

interface ClusterInputs {
  hoursToQuota: RuleContext['hoursToQuota'];
  growthAt: number;
  /** The last count of leader changes read from the history: kept while the database cannot be read. */
  leaderChanges: number;
}

export interface AlertServiceDeps {
  config: DashboardConfig;
  collectors: Map<string, ClusterCollector>;
  staleAfterMs: number;
  events: EventStore;
  samples: SampleStore;
  snapshots: SnapshotManager;
  store: AlertStore;
  /** Public URL of the dashboard, for links in notifications; null when unknown. */
  dashboardUrl: string | null;
  /** The newest consistency check of a cluster, or null. */
  consistency?: (clusterId: string) => Promise<ConsistencyCheck | null>;
  /**
   * Whether this replica judges the cluster (it owns it: lib/replicas/shard-keeper.ts): only that replica judges,
   * stores and notifies; the others show the alerts it stored (firing ones: pending alerts live in its memory only).
   * Every cluster, by default.
   */
  judges?: (clusterId: string) => boolean;
}

/** How long an evaluation waits for a history read before judging on the last values read. */
const HISTORY_READ_WAIT_MS = 1000;
/** What fromHistory's bounded read answers when the history did not. */
const UNREAD = Symbol('unread');

export class AlertService {
  private readonly trackers = new Map<string, AlertTracker>();
  private readonly dispatchers = new Map<string, NotificationDispatcher>();
  private readonly inputs = new Map<string, ClusterInputs>();
  /** "cluster/memberId" → the member's host:port, so an alert keeps its `instance` label while the member is down. */
  private readonly instances = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly startedAt = Date.now();
  /** Whether the last read of the history failed: logged once per outage, not on every evaluation. */
  private historyReadFailing = false;
  /** Clusters whose open alerts have been read back from the database into their tracker. */
  private readonly restored = new Set<string>();
  private readonly restoring = new Map<string, Promise<boolean>>();
  /** State changes not stored yet (the database refused them), oldest first: written before the next ones. */
  private readonly unstored: Array<{ clusterId: string; t: Transition }> = [];
  /** Whether the last write or read of the alert store failed: logged once per outage. */
  private storeFailing = false;

  constructor(private readonly deps: AlertServiceDeps) {
    for (const c of deps.config.clusters) {
      // Its open alerts are read back before its first evaluation (restoreOpen).
      const tracker = new AlertTracker(c.id, (rule) => this.forMs(c, rule));
      this.trackers.set(c.id, tracker);
      if (c.alerts.receivers.length > 0) {
        this.dispatchers.set(
          c.id,
          new NotificationDispatcher({
            receivers: c.alerts.receivers,
            onSettled: (alertId, state) => {
              this.deps.store.notified(alertId, state).catch((err: unknown) => {
                this.storeRefused(err, `${alertId} may be notified ${state} again by a replica taking over`);
              });
            },
          }),
        );
      }
      this.inputs.set(c.id, { hoursToQuota: null, growthAt: 0, leaderChanges: 0 });
    }
  }

  private forMs(cluster: ClusterConfig, rule: RuleName): number {
    return (cluster.alerts.thresholds.forSeconds[rule] ?? RULES[rule].forSeconds) * 1000;
  }

  start(): void {
    // One evaluation at a time: the next is timed from the end of the last.
    const run = async () => {
      try {
        await this.evaluateAll(Date.now());
      } catch (err) {
        console.error(`alerts: evaluation failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (this.stopped) return;
      this.timer = setTimeout(() => void run(), this.deps.config.pollIntervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(() => void run(), this.deps.config.pollIntervalMs);
    this.timer.unref();
  }

  /** Delivered, failed and retried notifications per cluster and receiver since the start. */
  deliveryCounts(): Array<DeliveryCounts & { clusterId: string }> {
    return [...this.dispatchers].flatMap(([clusterId, d]) => d.counts().map((c) => ({ clusterId, ...c })));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.dispatchers.values()) d.stop();
  }

  /**
   * Shows what the owning replica stored, in one read of every cluster's open alerts; a read that fails or is slow leaves the
   * last one shown. The clusters count as not read back, so that taking over as leader reads them again first.
   */
  async follow(clusterIds: readonly string[] = [...this.trackers.keys()]): Promise<void> {
    for (const id of clusterIds) this.restored.delete(id);
    const open = await boundedRead(this.deps.store.openEverywhere(), null);
    if (!open) return;
    for (const id of clusterIds) this.trackers.get(id)?.replaceWith(open.filter((a) => a.clusterId === id));
  }

  /**
   * Evaluates every cluster this replica judges, one after another in the configured order; shows the stored alerts
   * of the others.
   */
  async evaluateAll(now: number): Promise<void> {
    const shown: string[] = [];
    for (const cluster of this.deps.config.clusters) {
      if (this.deps.judges && !this.deps.judges(cluster.id)) shown.push(cluster.id);
      else await this.evaluate(cluster, now);
    }
    if (shown.length > 0) await this.follow(shown);
  }

  /**
   * Reads the cluster's alerts left open in the database (by the last run of the dashboard) into its tracker, once:
   * they resolve, and say so, if their condition is gone. False while the database cannot answer: the cluster is not
   * judged until it has (a new alert would otherwise be raised beside the stored one, which would stay open).
   */
  private restoreOpen(clusterId: string, tracker: AlertTracker): Promise<boolean> {
    if (this.restored.has(clusterId)) return Promise.resolve(true);
    // One read at a time per cluster: the start and the first evaluation may both ask.
    let reading = this.restoring.get(clusterId);
    if (!reading) {
      reading = this.readOpen(clusterId, tracker).finally(() => this.restoring.delete(clusterId));
      this.restoring.set(clusterId, reading);
    }
    return reading;
  }

  private async readOpen(clusterId: string, tracker: AlertTracker): Promise<boolean> {
    try {
      const dispatcher = this.dispatchers.get(clusterId);
      const [open, owed] = await Promise.all([
        this.deps.store.open(clusterId),
        dispatcher ? this.deps.store.resolvedUnnotified(clusterId, 0) : [],
      ]);
      this.storeAnswered();
      this.adoptOpen(clusterId, tracker, open, owed);
      return true;
    } catch (err) {
      this.storeRefused(err, `the open alerts of ${clusterId} are read again before it is judged`);
      return false;
    }
  }

  /** What the start or the first evaluation of a cluster read back: its open alerts, and the resolves it owes. */
  private adoptOpen(clusterId: string, tracker: AlertTracker, open: StoredAlert[], owed: StoredAlert[]): void {
    const dispatcher = this.dispatchers.get(clusterId);
    tracker.replaceWith(open);
    // An open alert whose firing notice went out (recorded once every receiver was done with it) is not sent again,
    // and its resolved notice is owed. One stored but not recorded as notified (its replica stopped before the
    // receivers were done) is sent at the next evaluation, as firing: never lost, sent twice only if the replica
    // stopped between the delivery and its record.
    dispatcher?.alreadyNotified(open.filter((a) => a.notified !== null).map((a) => a.id));
    // Resolved after its firing notice went out, but the resolve was not: sent now (however old: the first replica
    // to judge the cluster sends and records it, so these are few, and pruned with the alert history).
    const cluster = this.deps.config.clusters.find((c) => c.id === clusterId);
    if (dispatcher && cluster && owed.length > 0) {
      dispatcher.alreadyNotified(owed.map((a) => a.id));
      for (const a of owed) dispatcher.notify(this.notification(cluster, a, 'resolved', a.resolvedAt));
    }
    this.restored.add(clusterId);
  }

  /**
   * Reads every cluster's open alerts back before the dashboard answers its first request, so an alert firing before
   * a restart is listed at once, under its id and since. One read for all of them (a fleet of hundreds of clusters
   * asks the database two queries, not two per cluster); if it fails, each cluster is read at its first evaluation.
   */
  async restoreAll(): Promise<void> {
    const pending = this.deps.config.clusters.filter((c) => this.trackers.has(c.id) && !this.restored.has(c.id));
    if (pending.length === 0) return;
    let open: StoredAlert[];
    let owed: StoredAlert[];
    try {
      [open, owed] = await Promise.all([
        this.deps.store.openEverywhere(),
        this.dispatchers.size > 0 ? this.deps.store.resolvedUnnotified(null, 0) : [],
      ]);
      this.storeAnswered();
    } catch (err) {
      this.storeRefused(err, 'the open alerts of each cluster are read again before it is judged');
      return;
    }
    const byCluster = (alerts: StoredAlert[]) => {
      const out = new Map<string, StoredAlert[]>();
      for (const a of alerts) out.set(a.clusterId, [...(out.get(a.clusterId) ?? []), a]);
      return out;
    };
    const openOf = byCluster(open);
    const owedOf = byCluster(owed);
    for (const c of pending) {
      const tracker = this.trackers.get(c.id);
      // A cluster whose own read began meanwhile (its first evaluation) keeps that read's answer.
      if (!tracker || this.restored.has(c.id) || this.restoring.has(c.id)) continue;
      this.adoptOpen(c.id, tracker, openOf.get(c.id) ?? [], owedOf.get(c.id) ?? []);
    }
  }

  private storeRefused(err: unknown, what: string): void {
    if (this.storeFailing) return;
    this.storeFailing = true;
    console.error(
      `alerts: the database refuses the alerts (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); ${what}`,
    );
  }

  private storeAnswered(): void {
    if (!this.storeFailing) return;
    this.storeFailing = false;
    console.error('alerts: the database answers again');
  }

  /**
   * A read of the history (the rules' only database reads). When the database cannot answer (PostgreSQL down) the
   * last value read stands: the rules judged on what the collectors see go on firing and resolving.
   */
  private async fromHistory<T>(read: () => Promise<T>, fallback: T): Promise<T> {
    let why = `no answer within ${HISTORY_READ_WAIT_MS} ms`;
    // A database that does not answer (PostgreSQL unreachable, each connection attempt waiting out its timeout)
    // must not hold up the rules that judge the live data: past the wait, the last values read stand.
    const value = await boundedRead<T | typeof UNREAD>(
      read().catch((err: unknown) => {
        why = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
        throw err;
      }),
      UNREAD,
      HISTORY_READ_WAIT_MS,
    );
    if (value === UNREAD) {
      if (!this.historyReadFailing) {
        console.error(
          `alerts: cannot read the history (${why}); leader changes and DB growth are judged on the last values read`,
        );
      }
      this.historyReadFailing = true;
      return fallback;
    }
    if (this.historyReadFailing) console.error('alerts: reading the history again');
    this.historyReadFailing = false;
    return value;
  }

  private async evaluate(cluster: ClusterConfig, now: number): Promise<void> {
    const collector = this.deps.collectors.get(cluster.id);
    const tracker = this.trackers.get(cluster.id);
    const inputs = this.inputs.get(cluster.id);
    if (!collector || !tracker || !inputs) return;
    if (!(await this.restoreOpen(cluster.id, tracker))) return;
    const obs = collector.current();
    this.rememberInstances(cluster.id, obs);
    // The first poll has not had its time yet: a start is not an outage, so nothing is judged (data_stale would fire
    // and be notified on every start, and alerts restored from the database would resolve on no data).
    if (obs === null && now - this.startedAt <= this.deps.staleAfterMs) return;
    const observedAt = obs?.observedAt ? Date.parse(obs.observedAt) : null;
    const stale = this.isStale(cluster.id, now);
    await this.refreshGrowth(cluster, inputs, obs, now);
    const latest = this.deps.snapshots.latestVerifiedSummary(cluster.id);
    const restoreTested = this.deps.snapshots.latestRestoreTestedSummary(cluster.id);
    // Read by the collector: the members' server certificates from their TLS handshakes, the Secrets census.
    const memberCerts = collector.certificates();
    const census = collector.census();
    const certificates: CertificateFact[] = (memberCerts ?? []).map((c) => ({
      what: `${c.memberName}'s server certificate`,
      memberId: c.memberId,
      validTo: c.validTo,
    }));
    if (cluster.clientCertificate) {
      certificates.push({
        what: "the dashboard's client certificate",
        memberId: null,
        validTo: Date.parse(cluster.clientCertificate.validTo),
      });
    }
    if (cluster.caValidTo)
      certificates.push({ what: 'the CA certificate', memberId: null, validTo: Date.parse(cluster.caValidTo) });
    if (!stale) {
      inputs.leaderChanges = await this.fromHistory(
        () => this.deps.events.countByType(cluster.id, 'leader_changed', now - LEADER_WINDOW_MS, now),
        inputs.leaderChanges,
      );
    }
    const ctx: RuleContext = {
      now,
      observation: obs,
      stale,
      observedAt,
      metrics: collector.latestMetrics(now),
      leaderChangesIn15m: stale ? 0 : inputs.leaderChanges,
      hoursToQuota: inputs.hoursToQuota,
      snapshots: {
        lastVerifiedAt: latest ? Date.parse(latest.finishedAt) : null,
        restoreTestsEnabled: cluster.snapshots.restoreTest.enabled,
        newestRestoreTest: latest?.restoreTest
          ? { state: latest.restoreTest.state, reason: latest.restoreTest.reason }
          : null,
        lastRestoreTestedAt: restoreTested ? Date.parse(restoreTested.finishedAt) : null,
        lastVerifiedOffsite: latest ? latest.offsite : null,
      },
      certificates,
      // Counts only; null while unknown (no census yet, or the last one failed).
      secrets: census && !('error' in census) ? { total: census.total, plain: census.plain } : null,
      consistency: await this.freshConsistency(cluster, now),
      thresholds: cluster.alerts.thresholds,
    };
    const transitions = tracker.update(evaluateRules(ctx), now, stale, (a) =>
      this.notYetKnown(a, ctx, memberCerts !== null, obs?.members.map((m) => m.id) ?? []),
    );
    await this.store(cluster.id, transitions);
    // Every notification of the evaluation in one synchronous run, after the writes: the dispatcher sends what one
    // run notifies as one message (three members' slow disks in one Slack message), which an await between two
    // notify() calls would split. The same calls, in the same order, as when each followed its own write.
    const dispatcher = this.dispatchers.get(cluster.id);
    for (const t of transitions) {
      dispatcher?.notify(this.notification(cluster, t.alert, t.to, t.to === 'resolved' ? t.at : null));
    }
    dispatcher?.tick(
      tracker
        .current()
        .filter((a) => a.state === 'firing')
        .map((a) => this.notification(cluster, a, 'firing', null)),
    );
  }

  /**
   * The newest consistency check, while it is no older than three check intervals: an old verdict is no verdict.
   * None while the stored one cannot be read (the last verdict of a firing members_diverged stands meanwhile).
   */
  private async freshConsistency(cluster: ClusterConfig, now: number): Promise<ConsistencyCheck | null> {
    const every = cluster.maintenance.consistencyCheckMs;
    if (!this.deps.consistency || every <= 0) return null;
    let check: ConsistencyCheck | null;
    try {
      check = await this.deps.consistency(cluster.id);
    } catch (err) {
      this.storeRefused(err, 'the consistency verdict is read again at the next evaluation');
      return null;
    }
    if (!check) return null;
    return now - Date.parse(check.checkedAt) <= 3 * every ? check : null;
  }

  /**
   * True when the input an alert was judged on is not known at the moment: after a restart the Secrets census, the
   * certificate handshakes and the metric quantiles take a while, and their absence must not read as "resolved".
   */
  private notYetKnown(a: TrackedAlert, ctx: RuleContext, certsKnown: boolean, memberIds: (string | null)[]): boolean {
    if (a.rule === 'secrets_plaintext') return ctx.secrets === null;
    // Between two checks, or while one could not compare, the last verdict stands.
    if (a.rule === 'members_diverged') return !ctx.consistency || ctx.consistency.agree === null;
    if (a.rule === 'cert_expiring') return !certsKnown;
    const metric = METRIC_OF[a.rule];
    if (!metric || a.memberId === null || !memberIds.includes(a.memberId)) return false;
    const m = ctx.metrics.get(a.memberId);
    return !m || m[metric] === null;
  }

  /** The member's client URL as host:port, from the newest observation that listed it (kept while it is down). */
  private memberInstance(clusterId: string, memberId: string | null): string | null {
    if (memberId === null) return null;
    return this.instances.get(`${clusterId}/${memberId}`) ?? null;
  }

  private rememberInstances(clusterId: string, obs: ReturnType<ClusterCollector['current']>): void {
    for (const m of obs?.members ?? []) {
      const instance = instanceOf(m.endpoint ?? m.clientURLs[0]);
      if (instance) this.instances.set(`${clusterId}/${m.id}`, instance);
    }
  }

  /**
   * Stores the state changes in order, after any held from earlier evaluations. A refused write (PostgreSQL down)
   * does not hold up the rest of the evaluation or its notifications: the change is kept, in order, and written
   * first at the next evaluation. fired()'s answer (false: the id was already history, logged by the store) changes
   * nothing here, as before.
   */
  private async store(clusterId: string, transitions: Transition[]): Promise<void> {
    for (const t of transitions) this.unstored.push({ clusterId, t });
    if (this.unstored.length > MAX_UNSTORED) {
      const dropped = this.unstored.splice(0, this.unstored.length - MAX_UNSTORED);
      console.error(`alerts: ${dropped.length} alert state changes were not stored: more than ${MAX_UNSTORED} waited`);
    }
    while (this.unstored.length > 0) {
      const { clusterId: id, t } = this.unstored[0] as { clusterId: string; t: Transition };
      try {
        if (t.to === 'firing') await this.deps.store.fired(id, t.alert);
        else await this.deps.store.resolved(t.alert.id, t.at, t.alert.summary);
      } catch (err) {
        if (refusedForGood(err)) {
          // This change would be refused for ever and hold up every one behind it: it goes alone, with a line.
          console.error(
            `alerts: a state change of ${t.alert.id} refused by the database and dropped: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
          );
          this.unstored.shift();
          continue;
        }
        this.storeRefused(err, `${this.unstored.length} alert state changes held and written when it answers`);
        return;
      }
      this.unstored.shift();
      this.storeAnswered();
    }
  }

  /** Writes the state changes held while the database refused them (at shutdown); never rejects. */
  flush(): Promise<void> {
    return this.store('', []);
  }

  private notification(
    cluster: ClusterConfig,
    a: TrackedAlert,
    state: 'firing' | 'resolved',
    endsAt: number | null,
  ): AlertNotification {
    return {
      id: a.id,
      clusterId: cluster.id,
      clusterName: cluster.name,
      rule: a.rule,
      alertname: alertName(a.rule),
      severity: a.severity,
      state,
      since: new Date(a.firingSince ?? a.pendingSince).toISOString(),
      endsAt: endsAt === null ? null : new Date(endsAt).toISOString(),
      summary: a.summary,
      advice: RULES[a.rule].advice,
      memberId: a.memberId,
      memberName: a.memberName,
      memberInstance: this.memberInstance(cluster.id, a.memberId),
      dashboardUrl: this.deps.dashboardUrl
        ? `${this.deps.dashboardUrl.replace(/\/$/, '')}/?cluster=${encodeURIComponent(cluster.id)}`
        : null,
      runbookUrl: runbookUrl(this.deps.dashboardUrl, a.rule),
    };
  }

  /** How many hours until the fastest-growing member reaches the quota, from the last six hours of history. */
  private async refreshGrowth(
    cluster: ClusterConfig,
    inputs: ClusterInputs,
    obs: ReturnType<ClusterCollector['current']>,
    now: number,
  ): Promise<void> {
    if (now - inputs.growthAt < GROWTH_EVERY_MS) return;
    inputs.growthAt = now;
    const quota = obs?.quotaBackendBytes ?? DEFAULT_QUOTA_BYTES;
    let soonest: RuleContext['hoursToQuota'] = null;
    const history = await this.fromHistory(
      () =>
        this.deps.samples.query({
          clusterId: cluster.id,
          series: 'db_size_bytes',
          from: now - 6 * 3_600_000,
          to: now,
          rawRetentionMs: this.deps.config.history.rawRetentionMs,
          now,
        }),
      null,
    );
    // Unread: the last projection stands, and is tried again at the next evaluation.
    if (history === null) {
      inputs.growthAt = 0;
      return;
    }
    for (const m of history.members) {
      const p = projectGrowth(m.points, quota, now);
      if (p.kind === 'reaches-quota' && (!soonest || p.days * 24 < soonest.hours))
        soonest = { memberId: m.memberId, hours: p.days * 24 };
    }
    inputs.hoursToQuota = soonest;
  }

  /**
   * Active (pending and firing) alerts only, worst first: from the trackers in memory, no database read. What the NOC
   * wall and /metrics read on every request.
   */
  active(clusterId?: string, now = Date.now()): AlertView[] {
    const views: AlertView[] = [];
    for (const [id, tracker] of this.trackers) {
      if (clusterId && id !== clusterId) continue;
      const stale = this.isStale(id, now);
      for (const a of tracker.current()) {
        // Fresh data has arrived since the last evaluation: the alert resolves at the next one (within a poll
        // interval). Until then it is not shown, so no page says "no fresh data" beside fresh data.
        if (a.rule === 'data_stale' && !stale) continue;
        views.push(
          this.view(id, a, a.state, a.state === 'firing' ? (a.firingSince ?? a.pendingSince) : a.pendingSince),
        );
      }
    }
    return views.sort(worstFirst);
  }

  /** The dashboard has no fresh data for the cluster (or none at all). */
  private isStale(clusterId: string, now: number): boolean {
    const obs = this.deps.collectors.get(clusterId)?.current();
    return isStale(obs?.observedAt ?? null, now, this.deps.staleAfterMs);
  }

  /** Active (pending and firing) alerts, and those resolved in the last hour; worst first. */
  async list(clusterId?: string, now = Date.now()): Promise<AlertView[]> {
    const resolved: AlertView[] = [];
    // The active alerts are in memory; the recently resolved ones come from the database, when it answers in time.
    for (const a of await boundedRead(this.deps.store.resolvedSince(now - RESOLVED_SHOWN_MS), [])) {
      if (clusterId && a.clusterId !== clusterId) continue;
      resolved.push(this.view(a.clusterId, a, 'resolved', a.resolvedAt ?? now, a.resolvedAt ?? now));
    }
    // Every active alert sorts before every resolved one, so the two sorted lists end to end are the whole order.
    return [...this.active(clusterId, now), ...resolved.sort(worstFirst)];
  }

  /** Alerts that fired in [from, to] or were firing then, from the database, newest first. */
  async history(q: { clusterId?: string; from: number; to: number }): Promise<AlertView[]> {
    const stored = await this.deps.store.history(q);
    // The trackers as they are once the database has answered.
    const active = new Map<string, TrackedAlert>();
    for (const t of this.trackers.values()) for (const a of t.current()) active.set(a.id, a);
    return stored.map((a) => {
      if (a.resolvedAt !== null) return this.view(a.clusterId, a, 'resolved', a.resolvedAt, a.resolvedAt);
      // Open in the database: firing now, or left open by a stop and not judged again yet.
      const now = active.get(a.id) ?? a;
      return this.view(a.clusterId, now, 'firing', now.firingSince ?? now.pendingSince);
    });
  }

  private view(
    clusterId: string,
    a: TrackedAlert,
    state: AlertView['state'],
    since: number,
    resolvedAt: number | null = null,
  ): AlertView {
    return {
      id: a.id,
      clusterId,
      rule: a.rule,
      alertname: alertName(a.rule),
      severity: a.severity,
      state,
      since: new Date(since).toISOString(),
      summary: a.summary,
      advice: RULES[a.rule].advice,
      memberId: a.memberId,
      memberName: a.memberName,
      firedAt: a.firingSince === null ? null : new Date(a.firingSince).toISOString(),
      resolvedAt: resolvedAt === null ? null : new Date(resolvedAt).toISOString(),
    };
  }

  /** Forgets resolved alerts older than `before` (kept as long as events). */
  prune(before: number): Promise<number> {
    return this.deps.store.prune(before);
  }

  deliveries(clusterId: string) {
    return this.dispatchers.get(clusterId)?.deliveries() ?? [];
  }
}
