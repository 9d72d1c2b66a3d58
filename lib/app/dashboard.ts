// The composition root: builds every service once from the configuration and hands each what it uses. Kept on
// globalThis so instrumentation, route handlers and pages (separate module graphs in Next.js) share one set.
// Domain modules never import this file; route handlers and pages do.
import 'server-only';
import path from 'node:path';
import { AccessControl } from '@/lib/access/access-control';
import { AlertService } from '@/lib/alerts/alert-service';
import { AlertStore } from '@/lib/alerts/alert-store';
import { failureDetails } from '@/lib/api/api-error';
import { AuditLog } from '@/lib/auth/audit-log';
import { LoginLimiter } from '@/lib/auth/login-limiter';
import { SessionStore } from '@/lib/auth/session-store';
import { TokenStore } from '@/lib/auth/token-store';
import { UserStore } from '@/lib/auth/user-store';
import { lowestVersion } from '@/lib/cluster/etcd-version';
import { fallbackAfterMs, shardLeases, staleAfterMs } from '@/lib/cluster/staleness';
import { ClusterAccessReader } from '@/lib/collector/access-reads';
import { bulkhead } from 'cockatiel';
import { ClusterCollector, FIRST_POLLS_AT_ONCE, type CollectorOptions } from '@/lib/collector/cluster-collector';
import { ClusterReads } from '@/lib/collector/cluster-reads';
import { HistoryReads } from '@/lib/collector/history-reads';
import { HistoryRecorder } from '@/lib/collector/history-recorder';
import { loadConfig, type DashboardConfig } from '@/lib/config/load-config';
import { DatabaseError } from '@/lib/db/database';
import { ClusterActionLocks } from '@/lib/replicas/action-locks';
import { LeaseStore, presenceName } from '@/lib/replicas/lease-store';
import { ClusterViewStore } from '@/lib/collector/cluster-view-store';
import { ShardKeeper } from '@/lib/replicas/shard-keeper';
import { ClusterSharing } from './cluster-sharing';
import { Leadership, newReplicaId } from './leadership';
import { openSqliteStore, openStore, type DashboardStore } from '@/lib/db/store';
import { EventStore } from '@/lib/history/event-store';
import { SampleStore } from '@/lib/history/sample-store';
import { ConsistencyChecker } from '@/lib/maintenance/consistency-check';
import {
  DEFAULT_MAINTENANCE_SETTINGS,
  MaintenanceService,
  type MaintenanceSettings,
} from '@/lib/maintenance/maintenance-service';
import { MaintenanceStore } from '@/lib/maintenance/maintenance-store';
import { s3TargetOf } from '@/lib/snapshots/offsite/s3-target';
import { EtcdBinaryFinder } from '@/lib/snapshots/restore-binaries';
import { clusterHashKV, RestoreTester } from '@/lib/snapshots/restore-tester';
import { SnapshotManager } from '@/lib/snapshots/snapshot-manager';
import { SnapshotStore } from '@/lib/snapshots/snapshot-store';

export interface Dashboard {
  config: DashboardConfig;
  staleAfterMs: number;
  collectors: Map<string, ClusterCollector>;
  /** The configured clusters and each one's latest status. */
  clusters: ClusterReads;
  /** What etcd lets the dashboard's own etcd user do, per cluster. */
  etcdAccess: ClusterAccessReader;
  /** The database every store writes to (SQLite or PostgreSQL); readiness checks it, shutdown closes it. */
  store: DashboardStore;
  /** Whether this replica does the work that must happen once (started by startDashboard). */
  leadership: Leadership;
  /** Which clusters this replica polls, records and judges; the others' views come from their owners. */
  shards: ShardKeeper;
  sharing: ClusterSharing;
  history: {
    samples: SampleStore;
    events: EventStore;
    /** The collectors' writes, queued; says whether the history is being written. */
    recorder: HistoryRecorder;
    reads: HistoryReads;
  };
  auth: { users: UserStore; sessions: SessionStore; tokens: TokenStore; audit: AuditLog; limiter: LoginLimiter };
  access: AccessControl;
  snapshots: SnapshotManager;
  snapshotDir: string;
  alerts: AlertService;
  maintenance: MaintenanceService;
  consistency: ConsistencyChecker;
  maintenanceStore: MaintenanceStore;
  restoreTests: RestoreTester;
}

/** Builds the services over an open store; starts nothing. */
export function buildDashboard(config: DashboardConfig, opened: DashboardStore, replicaId = newReplicaId()): Dashboard {
  const store = opened.db;
  const samples = new SampleStore(store);
  const events = new EventStore(store);
  const recorder = new HistoryRecorder(samples, events);
  // Replicas share a PostgreSQL store; one process owns a SQLite file.
  const shared = opened.engine === 'postgresql';
  const leases = new LeaseStore(opened.leaseDb, shared ? 'database' : Date.now);
  if (opened.sqlite) LeaseStore.expireAllOnSqlite(store, opened.sqlite);
  const leadership = new Leadership(leases, replicaId);
  // Replicas on PostgreSQL hold a cluster while a snapshot or maintenance run of theirs runs on it.
  const actionLocks = shared ? new ClusterActionLocks(leases, leadership.replicaId) : null;
  const collectors = new Map<string, ClusterCollector>();
  // eslint-disable-next-line prefer-const -- assigned below, once the collectors exist
  let sharing: ClusterSharing;
  const shards = new ShardKeeper({
    leases,
    replicaId: leadership.replicaId,
    clusterIds: config.clusters.map((c) => c.id),
    ttlMs: shardLeases.shardLeaseMs,
    everyMs: shardLeases.shardRenewMs,
    roundEveryMs: shardLeases.shardRoundMs,
    onGained: (id) => sharing.gained(id),
    onLost: (id) => sharing.lost(id),
    joinBeforeAsking: shared,
  });
  // Only the replica that owns a cluster writes what it saw, so the history has one copy of it (another replica
  // polling it as a fallback, while its owner's view is old, keeps its polls to itself).
  const ownerRecorder: CollectorOptions['recorder'] = {
    recordPoll: (...a) => (shards.owns(a[0]) ? recorder.recordPoll(...a) : undefined),
    recordEvents: (...a) => (shards.owns(a[0]) ? recorder.recordEvents(...a) : undefined),
    recordMetrics: (...a) => (shards.owns(a[0]) ? recorder.recordMetrics(...a) : undefined),
  };
  const firstPolls = bulkhead(FIRST_POLLS_AT_ONCE, Number.POSITIVE_INFINITY);
  for (const cluster of config.clusters) {
    collectors.set(
      cluster.id,
      new ClusterCollector(cluster, {
        pollIntervalMs: config.pollIntervalMs,
        probeTimeoutMs: config.probeTimeoutMs,
        metricsIntervalMs: config.metricsIntervalMs,
        recorder: ownerRecorder,
        firstPolls,
        ...(shared ? { onPolled: (id: string) => sharing.polled(id) } : {}),
      }),
    );
  }
  sharing = new ClusterSharing({
    collectors,
    views: new ClusterViewStore(store),
    replicaId: leadership.replicaId,
    owns: (id) => shards.owns(id),
    pollIntervalMs: config.pollIntervalMs,
    fallbackAfterMs: fallbackAfterMs(
      config.pollIntervalMs,
      config.probeTimeoutMs,
      staleAfterMs(config.pollIntervalMs, config.probeTimeoutMs),
    ),
  });
  const audit = new AuditLog(store);
  const observe = (id: string) => collectors.get(id)?.current() ?? null;
  // The snapshot manager and the maintenance service each refuse to start beside the other.
  let maintenance: MaintenanceService | null = null;
  const clusterConfig = (id: string) => config.clusters.find((c) => c.id === id);
  const finder = new EtcdBinaryFinder(config.etcdBinaries);
  const snapshots = new SnapshotManager({
    config,
    store: new SnapshotStore(store),
    audit,
    observe,
    failureDetails,
    maintenanceRunning: (id) => maintenance?.running(id) ?? null,
    sharedRecords: shared,
    actionLocks,
    afterVerified: (id, snapshotId) => {
      if (clusterConfig(id)?.snapshots.restoreTest.enabled) void restoreTests.enqueue(id, snapshotId);
    },
  });
  const restoreTests = new RestoreTester({
    records: snapshots.records,
    audit,
    tools: (line) => finder.tools(line),
    scratchRoot: path.join(config.dataDir, 'restore-tests'),
    file: (s) => path.join(config.snapshotDir, s.clusterId, s.fileName),
    clusterVersion: (id, memberId) => {
      const members = observe(id)?.members ?? [];
      const own = members.find((m) => m.id === memberId)?.status?.version;
      return own ?? lowestVersion(members.map((m) => m.status?.version));
    },
    sourceHashKV: (id, revision) => {
      const cluster = clusterConfig(id);
      if (!cluster) return Promise.resolve({ ok: false as const, reason: `no cluster "${id}"` });
      return clusterHashKV(cluster, observe(id), revision);
    },
    timeBudgetMs: (id) => clusterConfig(id)?.snapshots.restoreTest.timeBudgetMs ?? 600_000,
    offsite: (id) => {
      const o = clusterConfig(id)?.snapshots.offsite;
      return o ? s3TargetOf(o) : null;
    },
  });
  const stale = staleAfterMs(config.pollIntervalMs, config.probeTimeoutMs);
  // eslint-disable-next-line prefer-const -- assigned below, once ClusterReads exists
  let etcdAccess: ClusterAccessReader;
  const maintenanceStore = new MaintenanceStore(store);
  maintenance = new MaintenanceService({
    actionLocks,
    clusters: config.clusters,
    store: maintenanceStore,
    audit,
    events: recorder,
    observe,
    staleAfterMs: stale,
    snapshotRunning: (id) => snapshots.runningId(id),
    markBusy: (id, memberId, busy) => collectors.get(id)?.markBusy(memberId, busy),
    expectLeaderMove: (id, memberId, by) => collectors.get(id)?.expectLeaderMove(memberId, by),
    failureDetails,
    features: async (id) => (await etcdAccess.read(id)).features,
    revisionAt: (id, at) =>
      samples.latestAt(id, 'revision', at, { lookbackMs: 5 * 60_000, rawRetentionMs: config.history.rawRetentionMs }),
    settings: (id) => maintenanceSettings(config, id),
  });
  const consistency = new ConsistencyChecker({
    clusters: config.clusters,
    store: maintenanceStore,
    observe,
    maintenanceRunning: (id) => maintenance?.running(id) ?? null,
    hashTimeoutMs: 60_000,
    leading: () => leadership.isLeader(),
    fence: () => (shared ? leadership.fence() : undefined),
  });
  const alerts = new AlertService({
    config,
    collectors,
    staleAfterMs: stale,
    events,
    samples,
    snapshots,
    store: new AlertStore(store),
    dashboardUrl: config.dashboardUrl,
    consistency: (id) => consistency.latest(id),
    judges: (id) => shards.owns(id),
  });
  const clusters = new ClusterReads({
    clusters: config.clusters,
    collectors,
    pollIntervalMs: config.pollIntervalMs,
    staleAfterMs: stale,
    lastVerifiedSnapshot: (id) => snapshots.latestVerifiedSummary(id),
    lastRestoreTestedSnapshot: (id) => snapshots.latestRestoreTestedSummary(id),
    secretsCensus: (id) => collectors.get(id)?.census() ?? undefined,
  });
  etcdAccess = new ClusterAccessReader(clusters);
  const auth = {
    users: new UserStore(store),
    sessions: new SessionStore(store),
    tokens: new TokenStore(store),
    audit,
    limiter: new LoginLimiter(store),
  };
  return {
    config,
    staleAfterMs: stale,
    collectors,
    clusters,
    etcdAccess,
    store: opened,
    leadership,
    shards,
    sharing,
    history: {
      samples,
      events,
      recorder,
      reads: new HistoryReads({ clusters, samples, events, rawRetentionMs: config.history.rawRetentionMs }),
    },
    auth,
    access: new AccessControl({ settings: config.auth, ...auth }),
    snapshots,
    snapshotDir: config.snapshotDir,
    alerts,
    maintenance,
    consistency,
    maintenanceStore,
    restoreTests,
  };
}

/** A cluster's maintenance settings: its config's pause and revisions kept, with the fixed deadlines. */
function maintenanceSettings(config: DashboardConfig, clusterId: string): MaintenanceSettings {
  const m = config.clusters.find((c) => c.id === clusterId)?.maintenance;
  return {
    ...DEFAULT_MAINTENANCE_SETTINGS,
    ...(m ? { pauseBetweenMembersMs: m.pauseBetweenMembersMs, keepRevisions: m.keepRevisions } : {}),
  };
}

/** Rollups and retention run once a minute. */
const MAINTENANCE_INTERVAL_MS = 60_000;

/** Runs `step`, logging (not throwing) its failure: one failing step does not keep the others from running. */
async function logged(what: string, step: () => unknown): Promise<void> {
  try {
    await step();
  } catch (err) {
    console.error(`${what} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

/** One run at a time: the next is timed from the end of the last, however long the database took. */
function startHousekeeping(app: Dashboard): void {
  const run = async () => {
    if (!app.leadership.isLeader()) {
      setTimeout(() => void run(), MAINTENANCE_INTERVAL_MS).unref();
      return;
    }
    const now = Date.now();
    const { rollupRetentionMs } = app.config.history;
    // Rollup before prune: raw samples are pruned only once rolled up. Both run in the recorder's queue, between its
    // writes: a sample written while a minute is rolled up would otherwise be left out of that minute for good.
    const { recorder, samples } = app.history;
    await logged('history rollup', () => recorder.serialize(() => samples.rollup(now)));
    await logged('history pruning', () => recorder.serialize(() => samples.prune(now, app.config.history)));
    await logged('event pruning', () => app.history.events.prune(now, rollupRetentionMs));
    await logged('alert pruning', () => app.alerts.prune(now - rollupRetentionMs));
    await logged('session pruning', () => app.auth.sessions.prune(now));
    await logged('login limit pruning', () => app.auth.limiter.prune(now));
    await logged('maintenance pruning', () => app.maintenanceStore.prune(now - rollupRetentionMs));
    setTimeout(() => void run(), MAINTENANCE_INTERVAL_MS).unref();
  };
  setTimeout(() => void run(), MAINTENANCE_INTERVAL_MS).unref();
}

const KEY = Symbol.for('etcd-dashboard.runtime');
type Holder = { [KEY]?: Dashboard };

/** How often the leader on PostgreSQL looks for runs and snapshots a stopped replica left running. */
const ORPHAN_SWEEP_MS = 10_000;

/** How often a replica on PostgreSQL reads the newest snapshots back (another replica may have taken one). */
const SNAPSHOT_RELOAD_MS = 30_000;

/** Starts what runs by itself: the collectors, alert evaluations, consistency checks and housekeeping. */
function startServices(app: Dashboard): void {
  // Each collector starts when its cluster's lease is won (all of them at once for one process on SQLite); replicas on
  // PostgreSQL then show the others' clusters from their owners' views.
  void app.shards.start().then(() => {
    if (app.store.engine === 'postgresql') app.sharing.start();
  });
  app.alerts.start();
  app.consistency.start();
  startHousekeeping(app);
  if (app.store.engine === 'postgresql') {
    // The newest verified and restore-tested snapshots are answered from memory; what other replicas recorded is
    // read in every 30 s (one process on SQLite records every snapshot itself).
    const reload = () => {
      void logged('reading the snapshot records back', () => app.snapshots.load()).finally(() =>
        setTimeout(reload, SNAPSHOT_RELOAD_MS).unref(),
      );
    };
    setTimeout(reload, SNAPSHOT_RELOAD_MS).unref();
    // A replica that died mid-snapshot or mid-run leaves its record running; once its action lease has run out, the
    // leader marks it failed or interrupted.
    const sweep = () => {
      const run = app.leadership.isLeader()
        ? Promise.all([
            logged('failing snapshots of stopped replicas', () => app.snapshots.failOrphans()),
            logged('marking runs of stopped replicas interrupted', () => app.maintenance.sweepInterrupted()),
          ])
        : Promise.resolve();
      void run.finally(() => setTimeout(sweep, ORPHAN_SWEEP_MS).unref());
    };
    setTimeout(sweep, ORPHAN_SWEEP_MS).unref();
  }
}

/**
 * Opens the store, builds the services and starts them, once per process: the server's start (instrumentation)
 * awaits it before the first request. Throws ConfigError or DatabaseError, each with one line naming what is wrong.
 */
export async function openDashboard(): Promise<Dashboard> {
  const holder = globalThis as Holder;
  const existing = holder[KEY];
  if (existing) return existing;
  const config = loadConfig();
  // Named before the store opens: its PostgreSQL sessions carry the name, by which the other replicas see it alive.
  const replicaId = newReplicaId();
  const opened = await openStore(config.database, { applicationName: presenceName(replicaId) });
  // Another caller may have built it while the database opened.
  const raced = holder[KEY];
  if (raced) {
    await opened.close();
    return raced;
  }
  const app = buildDashboard(config, opened, replicaId);
  holder[KEY] = app;
  startServices(app);
  return app;
}

/**
 * The dashboard's services. Once the server has started they exist (openDashboard above). Before that, only the
 * embedded default can be opened here (its SQLite file opens synchronously); a PostgreSQL store cannot, and the
 * error says so.
 */
export function dashboard(): Dashboard {
  const holder = globalThis as Holder;
  const existing = holder[KEY];
  if (existing) return existing;
  const config = loadConfig();
  if (config.database.engine !== 'sqlite') {
    throw new DatabaseError('the dashboard has not opened its PostgreSQL store yet (it does so as the server starts)');
  }
  const app = buildDashboard(config, openSqliteStore(config.database.file));
  holder[KEY] = app;
  startServices(app);
  return app;
}
