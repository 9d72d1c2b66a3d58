// Runs maintenance actions on a cluster: one at a time per cluster, each a list of steps run in order (followers
// first, the leader last), the cluster's health checked before every step, cancelable between steps, recorded in the
// database as it goes, audited and put on the event timeline. A run left behind by a stopped dashboard is marked
// interrupted when the next one starts (markInterrupted, awaited at startup and before any run).
import 'server-only';
import { randomBytes } from 'node:crypto';
import type { AuditLog } from '@/lib/auth/audit-log';
import { isStale } from '@/lib/cluster/staleness';
import type { EtcdFeature, FeatureAccess } from '@/lib/cluster/etcd-features';
import type { MemberView, Observation } from '@/lib/cluster/status-types';
import type { ClusterConfig } from '@/lib/config/load-config';
import { conflict, invalidInput, notFound } from '@/lib/errors/domain-errors';
import type { ClusterActionLocks } from '@/lib/replicas/action-locks';
import type { WriteFence } from '@/lib/replicas/lease-store';
import { refusedElsewhere } from '@/lib/replicas/action-refusal';
import {
  compact,
  currentRevision,
  defragment,
  disarmAlarm,
  moveLeader,
  writeCheck,
} from '@/lib/etcd/maintenance-calls';
import { listAlarms } from '@/lib/etcd/cluster-calls';
import { createMemberClient, type MemberClient, type StatusClient } from '@/lib/etcd/member-client';
import { MemberClients } from '@/lib/etcd/member-clients';
import { memberIdToHex } from '@/lib/etcd/member-id';
import type { ClusterEvent } from '@/lib/history/series';
import type { SnapshotActor } from '@/lib/snapshots/snapshot-manager';
import {
  buildPlan,
  CAUGHT_UP_ENTRIES,
  compactTarget,
  membersNearQuota,
  NEAR_QUOTA_RATIO,
  refusal,
} from './maintenance-plan';
import { refusedForGood } from '@/lib/db/refusals';
import type { MaintenanceStore } from './maintenance-store';
import type { MaintenancePlan, MaintenanceRun, RunStep, StepFigures, MaintenanceRequest } from './maintenance-types';

/** Who asked: an identity's audit fields, or the schedule (automatic defragmentation). */
export type MaintenanceActor = SnapshotActor;

export interface MaintenanceSettings {
  /** Pause after one member's defragment before the next member's (OpenShift waits 36 s). */
  pauseBetweenMembersMs: number;
  /** Deadline of one member's Defragment call. */
  defragmentTimeoutMs: number;
  /** How long a member may take to answer again and catch up with the leader after its defragment. */
  catchUpTimeoutMs: number;
  /** Deadline of every other call. */
  callTimeoutMs: number;
  /** compact without a revision keeps this many of the newest revisions. */
  keepRevisions: number;
}

export const DEFAULT_MAINTENANCE_SETTINGS: MaintenanceSettings = {
  pauseBetweenMembersMs: 10_000,
  defragmentTimeoutMs: 10 * 60_000,
  catchUpTimeoutMs: 60_000,
  callTimeoutMs: 10_000,
  keepRevisions: 10_000,
};

export interface MaintenanceDeps {
  clusters: readonly ClusterConfig[];
  store: MaintenanceStore;
  audit: AuditLog;
  /**
   * Where runs go on the cluster's timeline (the history recorder: queued, written in order with the collector's
   * events, kept while the database refuses writes); null keeps none (tests of the runs alone).
   */
  events: { recordEvents(clusterId: string, events: ClusterEvent[]): void } | null;
  /** The collector's latest view of a cluster. */
  observe: (clusterId: string) => Observation | null;
  staleAfterMs: number;
  /** The id of the snapshot being taken of the cluster, or null. */
  snapshotRunning: (clusterId: string) => string | null;
  /** Tells the live view a member is busy (defragmenting at the dashboard's request), not down. */
  markBusy: (clusterId: string, memberId: string, busy: boolean) => void;
  /** Tells the timeline the next leader change to `memberId` was asked for by `by`. */
  expectLeaderMove: (clusterId: string, memberId: string, by: string) => void;
  /** An audit row's details for a refused action: what the caller is answered (lib/api's failureDetails). */
  failureDetails: (err: unknown) => Record<string, unknown>;
  /**
   * What etcd lets the dashboard's etcd user do on the cluster (lib/cluster/etcd-features); an action whose call etcd
   * would refuse is refused before it starts, with etcd's reason. Absent: not checked (etcd's refusal fails the step).
   */
  features?: (clusterId: string) => Promise<FeatureAccess[] | null>;
  /** The cluster's revision as recorded at `atMs` (the history's revision series), or null when none was. */
  revisionAt?: (clusterId: string, atMs: number) => Promise<number | null>;
  /** A cluster's settings (its config's pause between members and revisions kept). */
  settings: (clusterId: string) => MaintenanceSettings;
  /**
   * Replicas on PostgreSQL: a run holds the cluster's action lease while it runs, so another replica refuses a second
   * action, and no replica takes a live run elsewhere for one left behind. Absent with one process.
   */
  actionLocks?: Pick<ClusterActionLocks, 'hold' | 'live'> | null;
}

interface Active {
  run: MaintenanceRun;
  cancel: boolean;
  /** Wakes a pause early when a cancel arrives. */
  wake: (() => void) | null;
  done: Promise<void>;
}

const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;
/** The key the write check puts and deletes again. */
export const WRITE_CHECK_KEY = 'etcd-dashboard/write-check';

function newRunId(now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

const isoNow = () => new Date().toISOString();
const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
/** How long a run's final row waits between tries while the database refuses it. */
const END_RETRY_MS = { first: 1_000, max: 60_000 } as const;

/** Thrown inside a run to stop it with a reason; the step it names has failed. */
class StepFailed extends Error {}

export class MaintenanceService {
  private readonly active = new Map<string, Active>();
  /** Each run's writes, in the order they were asked for: the run's id → the last one queued. */
  private readonly writes = new Map<string, Promise<void>>();
  /** Runs that ended whose final row is not stored yet: answered from memory until it is. */
  private readonly unsaved = new Map<string, MaintenanceRun>();
  /** markInterrupted's work, once per process (null again after a failure, to be tried again). */
  private interrupted: Promise<void> | null = null;

  constructor(private readonly deps: MaintenanceDeps) {}

  /**
   * Marks the runs a stopped dashboard left "running" as interrupted, each audited and put on the timeline: once per
   * process, awaited at startup and by every start() before its run is stored (so a run of this process is never
   * taken for one left behind). Rejects when the database refuses; the next call tries again.
   */
  markInterrupted(): Promise<void> {
    this.interrupted ??= this.sweepInterrupted().then(
      () => undefined,
      (err: unknown) => {
        this.interrupted = null;
        throw err;
      },
    );
    return this.interrupted;
  }

  /**
   * Marks interrupted every run recorded as running that no live process runs: with one process, all of them (this
   * one's own have not started yet); replicas on PostgreSQL keep those whose action lease is live (a run on another
   * replica) and those of this process. The leader calls it every minute there: a replica that died mid-run leaves
   * its run to be marked once its lease ran out.
   */
  async sweepInterrupted(): Promise<number> {
    const live = new Set(
      ((await this.deps.actionLocks?.live()) ?? []).filter((h) => h.kind === 'maintenance').map((h) => h.runId),
    );
    for (const a of this.active.values()) live.add(a.run.id);
    const runs = await this.deps.store.markInterrupted(Date.now(), live);
    for (const run of runs) {
      this.audit(run.clusterId, null, `maintenance.${run.action}`, 'failure', {
        runId: run.id,
        phase: 'interrupted',
        reason: run.reason,
      });
      this.event(run, 'interrupted');
    }
    return runs.length;
  }

  private cluster(clusterId: string): ClusterConfig {
    const c = this.deps.clusters.find((x) => x.id === clusterId);
    if (!c) throw notFound(`no cluster with id "${clusterId}"`);
    return c;
  }

  /** The id of the run in progress on the cluster, or null: the snapshot manager refuses to start beside it. */
  running(clusterId: string): string | null {
    return this.active.get(clusterId)?.run.id ?? null;
  }

  async list(clusterId: string): Promise<MaintenanceRun[]> {
    this.cluster(clusterId);
    return (await this.deps.store.list(clusterId)).map((r) => this.inMemory(r.clusterId, r.id) ?? r);
  }

  async get(clusterId: string, runId: string): Promise<MaintenanceRun> {
    this.cluster(clusterId);
    if (!RUN_ID.test(runId)) throw invalidInput(`"${runId.slice(0, 60)}" is not a maintenance run id`);
    // The run in progress is answered from memory: it is newer than its row, and known while the database is down.
    const live = this.inMemory(clusterId, runId);
    if (live) return live;
    const run = await this.deps.store.get(clusterId, runId);
    if (!run) throw notFound(`no maintenance run "${runId}" for cluster "${clusterId}"`);
    return this.inMemory(clusterId, runId) ?? run;
  }

  /**
   * The run as this process knows it where its row may be behind: the active run (its steps are newer than the last
   * save), or one that ended and whose final row is not stored yet.
   */
  private inMemory(clusterId: string, runId: string): MaintenanceRun | null {
    const a = this.active.get(clusterId);
    if (a && a.run.id === runId) return structuredClone(a.run);
    const ended = this.unsaved.get(runId);
    return ended && ended.clusterId === clusterId ? structuredClone(ended) : null;
  }

  /**
   * Resolves when the run in progress on the cluster (if any) has finished and its rows are written (a final row the
   * database refuses is retried, and waited for); for tests and shutdown.
   */
  async settled(clusterId: string): Promise<void> {
    const a = this.active.get(clusterId);
    if (!a) return;
    await a.done;
    await this.writes.get(a.run.id);
  }

  /**
   * Queues a write of a run's row after the ones queued before it, so they land in the order asked (a pool of
   * PostgreSQL connections would otherwise race them). The run never waits for it: a write that fails is logged and
   * the run goes on, one that hangs holds up only the writes behind it.
   */
  private write(runId: string, what: string, op: () => Promise<void>): void {
    const tail = (this.writes.get(runId) ?? Promise.resolve())
      .then(op)
      .catch((err: unknown) => console.error(`maintenance ${runId}: ${what} failed: ${firstLine(err)}`));
    this.writes.set(runId, tail);
    void tail.then(() => {
      if (this.writes.get(runId) === tail) this.writes.delete(runId);
    });
  }

  /** Resolves once every run's queued writes have settled (at shutdown). */
  async flushWrites(): Promise<void> {
    await Promise.all([...this.writes.values()]);
  }

  /** The plan and whether the action could start now, changing nothing. */
  async plan(
    clusterId: string,
    asked: MaintenanceRequest,
  ): Promise<MaintenancePlan & { refusal: { code: string; message: string } | null }> {
    this.cluster(clusterId);
    const req = await this.resolveKeepMinutes(clusterId, asked);
    const obs = this.deps.observe(clusterId);
    const refused = this.gate(clusterId, obs, req);
    if (refused?.code === 'bad_request') throw invalidInput(refused.message);
    if (!obs) return { action: req.action, clusterId, steps: [], warnings: [], refusal: refused };
    // The newest revision a member reported in the last poll: the plan's numbers; the run reads it again.
    const revisions = obs.members.map((m) => m.status?.revision ?? 0).filter((r) => r > 0);
    const current = revisions.length > 0 ? Math.max(...revisions) : null;
    const keep = this.deps.settings(clusterId).keepRevisions;
    const target = req.action === 'nospace-recovery' ? current : compactTarget(req, current, keep);
    const withTarget = target !== null && req.action === 'compact' ? { ...req, revision: target } : req;
    return { ...buildPlan(obs, withTarget, current, keep), refusal: refused };
  }

  private gate(clusterId: string, obs: Observation | null, req: MaintenanceRequest) {
    return refusal(obs, req, {
      stale: !obs || isStale(obs.observedAt, Date.now(), this.deps.staleAfterMs),
      runningMaintenance: this.running(clusterId),
      runningSnapshot: this.deps.snapshotRunning(clusterId),
    });
  }

  /**
   * Starts a run and returns it at once (state "running", its steps pending); the work goes on in the background.
   * Throws invalid (bad input), conflict (unsafe now, with the reason) or not-found; every refusal is audited.
   */
  async start(
    clusterId: string,
    asked: MaintenanceRequest,
    by: MaintenanceActor,
    trigger: 'manual' | 'schedule' = 'manual',
    /** A scheduled run's: stored (and so started) only while this replica still leads (Leadership.fence). */
    fence?: WriteFence,
  ): Promise<MaintenanceRun> {
    const action = `maintenance.${asked.action}`;
    let req = asked;
    try {
      req = await this.resolveKeepMinutes(clusterId, asked);
      const cluster = this.cluster(clusterId);
      const obs = this.deps.observe(clusterId);
      // etcd's own refusal first: without the root role even Status may be refused, which the gate would name instead.
      await this.refuseIfEtcdWould(clusterId, req.action);
      const refused = this.gate(clusterId, obs, req);
      if (refused) {
        throw refused.code === 'bad_request' ? invalidInput(refused.message) : conflict(refused.code, refused.message);
      }
      const snapshot = obs as Observation;
      // The compaction's revision is read now, so the plan shows the number the run will use.
      let revision: number | null = null;
      if (req.action === 'compact' || req.action === 'nospace-recovery') {
        revision = await this.readRevision(cluster, snapshot);
        if (req.revision !== undefined && revision !== null && req.revision > revision) {
          throw invalidInput(`revision: ${req.revision} is newer than the cluster's current revision ${revision}`);
        }
      }
      const target =
        req.action === 'nospace-recovery'
          ? revision
          : compactTarget(req, revision, this.deps.settings(clusterId).keepRevisions);
      const plan = buildPlan(
        snapshot,
        { ...req, ...(target !== null ? { revision: target } : {}) },
        revision,
        this.deps.settings(clusterId).keepRevisions,
      );
      // A run left behind by a stopped dashboard is marked before this one is stored.
      await this.markInterrupted();
      // Checked again after the awaits: a snapshot may have started, or the cluster changed, meanwhile; of two
      // requests at once, only the first to get here starts.
      const refusedNow = this.gate(clusterId, this.deps.observe(clusterId), req);
      if (refusedNow) {
        throw refusedNow.code === 'bad_request'
          ? invalidInput(refusedNow.message)
          : conflict(refusedNow.code, refusedNow.message);
      }
      if (this.running(clusterId)) {
        throw conflict(
          'maintenance_running',
          `another maintenance run is in progress for this cluster: ${this.running(clusterId)}`,
        );
      }
      const now = Date.now();
      const run: MaintenanceRun = {
        id: newRunId(now),
        clusterId,
        action: req.action,
        state: 'running',
        by: by.actor,
        trigger,
        startedAt: new Date(now).toISOString(),
        finishedAt: null,
        reason: null,
        cancelRequested: false,
        steps: plan.steps.map((s) => ({
          ...s,
          state: 'pending',
          startedAt: null,
          finishedAt: null,
          before: null,
          after: null,
          error: null,
        })),
      };
      // The cluster is taken before the insert is awaited (a second request meanwhile is refused), and given back if
      // the run cannot be stored: a run is never started without its row.
      const active: Active = { run, cancel: false, wake: null, done: Promise.resolve() };
      this.active.set(clusterId, active);
      let lock: { release: () => Promise<void> } | null = null;
      try {
        const held = (await this.deps.actionLocks?.hold(clusterId, 'maintenance', run.id)) ?? null;
        if (held && !held.held) throw refusedElsewhere(clusterId, held.by);
        lock = held;
      } catch (err) {
        this.active.delete(clusterId);
        throw err;
      }
      try {
        await this.deps.store.insert(
          {
            id: run.id,
            clusterId,
            action: req.action,
            by: by.actor,
            trigger,
            startedAt: now,
            steps: run.steps,
          },
          fence,
        );
      } catch (err) {
        this.active.delete(clusterId);
        void lock?.release();
        // The insert may have been stored though its answer was lost (a connection cut after the commit): a row left
        // "running" would stay so, as nothing else ends it. Marked failed if it is there; nothing if it is not.
        const reason = `the run could not be stored (${firstLine(err)}); it did not start`;
        this.write(run.id, 'marking the unstored run failed', () =>
          this.deps.store.finish(run.id, 'failed', Date.now(), reason, run.steps),
        );
        throw err;
      }
      this.audit(clusterId, by, action, 'success', {
        runId: run.id,
        phase: 'started',
        steps: run.steps.map((s) => `${s.step}${s.memberName ? ` ${s.memberName}` : ''}`),
        ...(target !== null && (req.action === 'compact' || req.action === 'nospace-recovery')
          ? { revision: target }
          : {}),
        ...(req.target ? { target: req.target } : {}),
      });
      this.event(run, 'started');
      active.done = this.execute(cluster, active, by, target)
        .catch((err: unknown) => console.error(`maintenance ${run.id}: ${firstLine(err)}`))
        .finally(() => {
          this.active.delete(clusterId);
          void lock?.release();
        });
      return structuredClone(run);
    } catch (err) {
      this.audit(clusterId, by, action, 'failure', {
        ...(req.dryRun ? { dryRun: true } : {}),
        ...this.deps.failureDetails(err),
      });
      throw err;
    }
  }

  /** "Keep the last T minutes": the revision the history recorded T minutes ago becomes the compaction's target. */
  private async resolveKeepMinutes(clusterId: string, req: MaintenanceRequest): Promise<MaintenanceRequest> {
    if (req.action !== 'compact' || req.keepMinutes === undefined) return req;
    const at = Date.now() - req.keepMinutes * 60_000;
    const revision = (await this.deps.revisionAt?.(clusterId, at)) ?? null;
    if (revision === null) {
      throw invalidInput(
        `keepMinutes: the dashboard recorded no revision of this cluster ${req.keepMinutes} minutes ago; give a revision or keepRevisions`,
      );
    }
    const { keepMinutes: _minutes, ...rest } = req;
    return { ...rest, revision };
  }

  /** Asks the run to stop before its next step; a member's defragment in progress is never cut short. */
  async cancel(clusterId: string, runId: string, by: MaintenanceActor): Promise<MaintenanceRun> {
    const run = await this.get(clusterId, runId);
    const a = this.active.get(clusterId);
    if (!a || a.run.id !== runId) {
      const err = conflict('not_running', `maintenance run ${runId} is ${run.state}: there is nothing to cancel`);
      this.audit(clusterId, by, `maintenance.cancel`, 'failure', { runId, ...this.deps.failureDetails(err) });
      throw err;
    }
    a.cancel = true;
    a.run.cancelRequested = true;
    this.write(runId, 'storing the cancel request', () => this.deps.store.requestCancel(runId));
    a.wake?.();
    this.audit(clusterId, by, 'maintenance.cancel', 'success', { runId, action: a.run.action });
    return structuredClone(a.run);
  }

  /** The etcd calls an action makes that etcd may keep for the root role. */
  private static readonly FEATURES: Record<MaintenanceRequest['action'], EtcdFeature[]> = {
    defragment: ['defragment'],
    compact: [],
    disarm: ['alarm-disarm'],
    'nospace-recovery': ['defragment', 'alarm-disarm'],
    'move-leader': ['move-leader'],
  };

  private async refuseIfEtcdWould(clusterId: string, action: MaintenanceRequest['action']): Promise<void> {
    const needed = MaintenanceService.FEATURES[action];
    if (needed.length === 0 || !this.deps.features) return;
    let features: FeatureAccess[] | null = null;
    try {
      features = await this.deps.features(clusterId);
    } catch {
      return; // Unknown: etcd's own refusal, if any, fails the step with its reason.
    }
    const denied = features?.find((f) => needed.includes(f.feature) && f.allowed === false);
    if (denied) throw conflict('etcd_permission', `etcd would refuse ${denied.call}: ${denied.reason}`);
  }

  private async readRevision(cluster: ClusterConfig, obs: Observation): Promise<number | null> {
    const member = obs.members.find((m) => m.status?.isLeader && m.endpoint) ?? obs.members.find((m) => m.endpoint);
    if (!member?.endpoint) return null;
    const client = this.client(cluster, member.endpoint);
    try {
      const res = await currentRevision(client, this.deps.settings(cluster.id).callTimeoutMs);
      if (!res.ok)
        throw conflict(
          'revision_unavailable',
          `could not read the current revision from ${member.name}: ${res.failure.message}`,
        );
      return res.value;
    } finally {
      client.close();
    }
  }

  private client(cluster: ClusterConfig, endpoint: string): MemberClient {
    return createMemberClient({ endpoint, tls: cluster.tls, timeoutMs: this.deps.settings(cluster.id).callTimeoutMs });
  }

  private async execute(
    cluster: ClusterConfig,
    a: Active,
    by: MaintenanceActor,
    revision: number | null,
  ): Promise<void> {
    const session = new RunSession(cluster, this.deps, a, by, revision);
    let state: MaintenanceRun['state'] = 'succeeded';
    let reason: string | null = null;
    try {
      for (let i = 0; i < a.run.steps.length; i++) {
        if (a.cancel) {
          state = 'canceled';
          reason = `canceled by request before step ${i + 1} of ${a.run.steps.length}`;
          break;
        }
        const step = a.run.steps[i] as RunStep;
        step.state = 'running';
        step.startedAt = isoNow();
        this.save(a);
        try {
          await session.runStep(step);
          step.state = 'succeeded';
        } catch (err) {
          step.state = 'failed';
          step.error = err instanceof Error ? err.message : String(err);
          state = 'failed';
          reason = `${step.step}${step.memberName ? ` of ${step.memberName}` : ''} failed: ${step.error}`;
        } finally {
          step.finishedAt = isoNow();
          this.save(a);
        }
        if (state === 'failed') break;
        // The pause between two members' defragments: a cancel ends it early.
        const next = a.run.steps[i + 1];
        if (step.step === 'defragment' && next?.step === 'defragment' && !a.cancel) {
          await this.pause(a, this.deps.settings(cluster.id).pauseBetweenMembersMs);
        }
      }
    } catch (err) {
      state = 'failed';
      reason = err instanceof Error ? err.message : String(err);
    } finally {
      session.close();
    }
    for (const s of a.run.steps) if (s.state === 'pending') s.state = state === 'canceled' ? 'canceled' : 'skipped';
    a.run.state = state;
    a.run.reason = reason;
    a.run.finishedAt = isoNow();
    // Shown from memory until stored; the write is retried until the database takes it, so the row never stays
    // "running" for a run that ended (a restart meanwhile marks it interrupted instead).
    const ended = structuredClone(a.run);
    this.unsaved.set(ended.id, ended);
    this.write(ended.id, 'storing how it ended', () => this.storeEnd(ended, state));
    this.audit(cluster.id, by, `maintenance.${a.run.action}`, state === 'succeeded' ? 'success' : 'failure', {
      runId: a.run.id,
      phase: 'finished',
      state,
      ...(reason ? { reason } : {}),
    });
    this.event(a.run, state);
  }

  private pause(a: Active, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        a.wake = null;
        resolve();
      }
      a.wake = done;
    });
  }

  /** Saves the steps as they are now (queued behind the run's earlier writes; a failure is logged). */
  private save(a: Active): void {
    const id = a.run.id;
    const steps = structuredClone(a.run.steps);
    this.write(id, 'saving its steps', () => this.deps.store.saveSteps(id, steps));
  }

  /** The run's final row, tried until the database takes it; meanwhile the run is answered from memory. */
  private async storeEnd(run: MaintenanceRun, state: Exclude<MaintenanceRun['state'], 'running'>): Promise<void> {
    let failing = false;
    for (let wait: number = END_RETRY_MS.first; ; wait = Math.min(wait * 2, END_RETRY_MS.max)) {
      try {
        await this.deps.store.finish(run.id, state, Date.parse(run.finishedAt ?? isoNow()), run.reason, run.steps);
        this.unsaved.delete(run.id);
        if (failing) console.error(`maintenance ${run.id}: how it ended is stored now`);
        return;
      } catch (err) {
        if (refusedForGood(err)) {
          console.error(`maintenance ${run.id}: the database refuses how it ended: ${firstLine(err)}; not tried again`);
          return;
        }
        if (!failing) {
          console.error(
            `maintenance ${run.id}: storing how it ended failed (${firstLine(err)}); shown from memory, tried again`,
          );
        }
        failing = true;
        await new Promise<void>((resolve) => setTimeout(resolve, wait).unref());
      }
    }
  }

  private audit(
    clusterId: string,
    by: MaintenanceActor | null,
    action: string,
    outcome: 'success' | 'failure',
    details: Record<string, unknown>,
  ): void {
    const who = by ?? { actor: 'dashboard', role: null, method: 'none' as const, source: null };
    try {
      this.deps.audit.append({
        at: Date.now(),
        actor: who.actor,
        role: who.role,
        method: who.method,
        source: who.source,
        action,
        clusterId,
        memberId: null,
        outcome,
        details: { ...(who.tokenId ? { actorTokenId: who.tokenId } : {}), ...details },
      });
    } catch (err) {
      console.error(`maintenance audit failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private event(run: MaintenanceRun, phase: string): void {
    try {
      this.deps.events?.recordEvents(run.clusterId, [
        {
          at: new Date().toISOString(),
          type: 'maintenance',
          memberId: null,
          details: {
            runId: run.id,
            action: run.action,
            phase,
            by: run.by,
            ...(run.reason ? { reason: run.reason } : {}),
          },
        },
      ]);
    } catch (err) {
      console.error(`maintenance event failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** The clients and the live reads of one run. */
class RunSession {
  private readonly clients: MemberClients;
  private readonly settings: MaintenanceSettings;

  constructor(
    private readonly cluster: ClusterConfig,
    private readonly deps: MaintenanceDeps,
    private readonly active: Active,
    private readonly by: MaintenanceActor,
    private readonly revision: number | null,
  ) {
    this.settings = deps.settings(cluster.id);
    this.clients = new MemberClients(cluster.tls, this.settings.callTimeoutMs);
  }

  close(): void {
    this.clients.close();
  }

  private client(endpoint: string): MemberClient {
    return this.clients.client(endpoint);
  }

  private statusClient(endpoint: string): StatusClient {
    return this.clients.status(endpoint);
  }

  private observation(): Observation {
    const obs = this.deps.observe(this.cluster.id);
    if (!obs) throw new StepFailed('the cluster is no longer observed');
    return obs;
  }

  private member(id: string | null): MemberView {
    const m = this.observation().members.find((x) => x.id === id);
    if (!m?.endpoint) throw new StepFailed(`member ${id ?? '?'} is no longer in the member list or has no endpoint`);
    return m;
  }

  /** Status of every member, asked now: the gate before each step does not trust a poll that may be a second old. */
  private async liveStatuses(): Promise<
    Array<{ member: MemberView; status: Awaited<ReturnType<StatusClient['status']>> }>
  > {
    const obs = this.observation();
    return Promise.all(
      obs.members.map(async (m) => {
        if (!m.endpoint) throw new StepFailed(`${m.name} has no endpoint the dashboard reaches`);
        try {
          return { member: m, status: await this.statusClient(m.endpoint).status() };
        } catch (err) {
          throw new StepFailed(
            `${m.name} does not answer Status: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
          );
        }
      }),
    );
  }

  /** Before a step that blocks or changes a member: every member answers, one leader, nobody far behind. */
  private async requireHealthy(allowAlarm: boolean): Promise<{ leaderId: string; leaderEndpoint: string }> {
    const all = await this.liveStatuses();
    const leaders = new Set(all.map((x) => x.status.leader).filter((l) => l !== '0'));
    if (leaders.size !== 1)
      throw new StepFailed('the members do not agree on one leader: an election may be under way');
    const leaderDec = [...leaders][0] as string;
    const leader = all.find((x) => x.status.header?.member_id === leaderDec);
    if (!leader) throw new StepFailed('the leader does not answer');
    for (const x of all) {
      const errors = this.faults(x.status.errors, allowAlarm);
      if (errors.length > 0) throw new StepFailed(`${x.member.name} reports: ${errors.join('; ')}`);
      const lag = Number(leader.status.raftIndex) - Number(x.status.raftAppliedIndex);
      if (lag > CAUGHT_UP_ENTRIES) throw new StepFailed(`${x.member.name} is ${lag} raft entries behind the leader`);
    }
    return { leaderId: memberIdToHex(leaderDec), leaderEndpoint: leader.member.endpoint as string };
  }

  /** A member's Status errors that stop a run; while recovering from NOSPACE, the alarm itself is expected. */
  private faults(errors: string[], allowAlarm: boolean): string[] {
    return errors.filter((e) => !(allowAlarm && /alarm:\s*NOSPACE|database space exceeded/i.test(e)));
  }

  private figures(s: Awaited<ReturnType<StatusClient['status']>>): StepFigures {
    return { dbSize: Number(s.dbSize), dbSizeInUse: Number(s.dbSizeInUse), revision: Number(s.header?.revision ?? 0) };
  }

  async runStep(step: RunStep): Promise<void> {
    const t = this.settings;
    const recovering = this.active.run.action === 'nospace-recovery';
    switch (step.step) {
      case 'defragment': {
        await this.requireHealthy(recovering);
        const m = this.member(step.memberId);
        const endpoint = m.endpoint as string;
        step.before = this.figures(await this.statusClient(endpoint).status());
        this.deps.markBusy(this.cluster.id, m.id as string, true);
        let res;
        try {
          res = await defragment(this.client(endpoint), t.defragmentTimeoutMs);
        } finally {
          this.deps.markBusy(this.cluster.id, m.id as string, false);
        }
        if (!res.ok) throw new StepFailed(res.failure.message);
        step.after = await this.waitCaughtUp(m);
        return;
      }
      case 'compact': {
        const { leaderEndpoint } = await this.requireHealthy(recovering);
        if (this.revision === null) throw new StepFailed('no revision to compact to');
        const client = this.client(leaderEndpoint);
        const before = await currentRevision(client, t.callTimeoutMs);
        step.before = before.ok ? { revision: before.value } : null;
        const res = await compact(client, this.revision, t.defragmentTimeoutMs);
        if (!res.ok) {
          // Compacting to a revision already compacted is no failure: the space is already free to reclaim.
          if (/compacted/i.test(res.failure.message)) {
            step.after = { compactRevision: this.revision };
            step.error = null;
            return;
          }
          throw new StepFailed(res.failure.message);
        }
        step.after = { compactRevision: this.revision, revision: res.value.revision };
        return;
      }
      case 'disarm': {
        const obs = this.observation();
        const via = obs.members.find((m) => m.status?.isLeader && m.endpoint) ?? obs.members.find((m) => m.endpoint);
        if (!via?.endpoint) throw new StepFailed('no member to send the disarm to');
        if (!recovering) {
          const full = membersNearQuota(obs);
          if (full.length > 0) {
            throw new StepFailed(
              `${full.map((m) => m.name).join(', ')} still above ${NEAR_QUOTA_RATIO * 100} % of the quota`,
            );
          }
        }
        const client = this.client(via.endpoint);
        const res = await disarmAlarm(client, step.memberId as string, 'NOSPACE', t.callTimeoutMs);
        if (!res.ok) throw new StepFailed(res.failure.message);
        // Each member raises its own NOSPACE when a write it applies would pass the quota: one that did so after the
        // plan was made keeps every write refused by itself. Listed again (etcd's answer to a deactivate names only the
        // alarm it cleared) and cleared here too.
        const listed = await listAlarms(client);
        if (!listed.ok) throw new StepFailed(`listing the alarms after the disarm: ${listed.failure.message}`);
        const others = [
          ...new Set(
            listed.value.filter((a) => a.alarm === 'NOSPACE' && a.memberId !== step.memberId).map((a) => a.memberId),
          ),
        ];
        for (const id of others) {
          const more = await disarmAlarm(client, id, 'NOSPACE', t.callTimeoutMs);
          if (!more.ok) throw new StepFailed(`NOSPACE of member ${id}, raised after the plan: ${more.failure.message}`);
        }
        if (others.length > 0)
          step.detail = `NOSPACE; also cleared that of ${others.join(', ')}, which etcd listed now`;
        return;
      }
      case 'write-check': {
        const obs = this.observation();
        const via = obs.members.find((m) => m.endpoint);
        if (!via?.endpoint) throw new StepFailed('no member to write to');
        const res = await writeCheck(this.client(via.endpoint), WRITE_CHECK_KEY, t.callTimeoutMs);
        if (!res.ok) throw new StepFailed(`the cluster still refuses writes: ${res.failure.message}`);
        step.after = {};
        step.detail = `a write succeeded (put and delete ${WRITE_CHECK_KEY} in ${res.value.tookMs} ms)`;
        return;
      }
      case 'move-leader': {
        const { leaderId, leaderEndpoint } = await this.requireHealthy(false);
        const target = step.memberId as string;
        step.before = { leader: leaderId };
        if (leaderId === target) {
          step.after = { leader: leaderId };
          return;
        }
        this.deps.expectLeaderMove(this.cluster.id, target, this.by.actor);
        const res = await moveLeader(this.client(leaderEndpoint), target, t.callTimeoutMs);
        if (!res.ok) throw new StepFailed(res.failure.message);
        step.after = { leader: await this.waitLeader(target) };
        return;
      }
      case 'wait-healthy':
        await this.requireHealthy(recovering);
        return;
    }
  }

  /** After its defragment: the member answers Status again and has applied what the leader had committed. */
  private async waitCaughtUp(m: MemberView): Promise<StepFigures> {
    const deadline = Date.now() + this.settings.catchUpTimeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      try {
        const s = await this.statusClient(m.endpoint as string).status();
        const leaderId = s.leader;
        const leaderMember = this.observation().members.find((x) => x.id !== null && x.id === memberIdToHex(leaderId));
        const leaderStatus = leaderMember?.endpoint ? await this.statusClient(leaderMember.endpoint).status() : s;
        const lag = Number(leaderStatus.raftIndex) - Number(s.raftAppliedIndex);
        const faults = this.faults(s.errors, this.active.run.action === 'nospace-recovery');
        if (s.leader !== '0' && lag <= CAUGHT_UP_ENTRIES && faults.length === 0) return this.figures(s);
        last =
          s.leader === '0' ? 'it sees no leader' : faults.length > 0 ? faults.join('; ') : `${lag} raft entries behind`;
      } catch (err) {
        last = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new StepFailed(
      `${m.name} did not catch up within ${Math.round(this.settings.catchUpTimeoutMs / 1000)} s after its defragment: ${last}`,
    );
  }

  private async waitLeader(target: string): Promise<string> {
    const deadline = Date.now() + Math.max(10_000, this.settings.callTimeoutMs);
    let seen = '?';
    while (Date.now() < deadline) {
      try {
        const m = this.member(target);
        const s = await this.statusClient(m.endpoint as string).status();
        seen = s.leader === '0' ? 'none' : memberIdToHex(s.leader);
        if (seen === target) return seen;
      } catch {
        // The target answers again in a moment.
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new StepFailed(`etcd accepted the move, but the leader is ${seen}, not ${target}`);
  }
}
