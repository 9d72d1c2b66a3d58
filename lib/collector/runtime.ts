// The process-wide state: configuration, the history store and one collector per cluster, kept on globalThis
// so instrumentation and route handlers (separate module graphs in Next.js) share them.
import 'server-only';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { loadConfig, type DashboardConfig } from '@/lib/config/load-config';
import { staleAfterMs } from '@/lib/cluster/staleness';
import { openDatabase } from '@/lib/db/database';
import { SampleStore } from '@/lib/history/sample-store';
import { EventStore } from '@/lib/history/event-store';
import { AuditLog } from '@/lib/auth/audit-log';
import type { TrustedProxies } from '@/lib/auth/address';
import { LoginLimiter } from '@/lib/auth/login-limiter';
import { SessionStore } from '@/lib/auth/session-store';
import { TokenStore } from '@/lib/auth/token-store';
import { UserStore } from '@/lib/auth/user-store';
import { SnapshotManager } from '@/lib/snapshots/snapshot-manager';
import { SnapshotStore } from '@/lib/snapshots/snapshot-store';
import { AlertService } from '@/lib/alerts/alert-service';
import { AlertStore } from '@/lib/alerts/alert-store';
import { ClusterCollector } from './cluster-collector';
import { HistoryRecorder } from './history-recorder';

interface Runtime {
  config: DashboardConfig;
  collectors: Map<string, ClusterCollector>;
  staleAfterMs: number;
  history: { db: Database.Database; samples: SampleStore; events: EventStore };
  auth: {
    users: UserStore;
    sessions: SessionStore;
    tokens: TokenStore;
    audit: AuditLog;
    limiter: LoginLimiter;
    trusted: TrustedProxies;
  };
  snapshots: SnapshotManager;
  alerts: AlertService;
}

const KEY = Symbol.for('etcd-dashboard.runtime');
type Holder = { [KEY]?: Runtime };

/** Rollups and retention run once a minute. */
const MAINTENANCE_INTERVAL_MS = 60_000;

function startMaintenance(runtime: Runtime): void {
  const run = () => {
    const now = Date.now();
    try {
      runtime.history.samples.rollup(now);
      runtime.history.samples.prune(now, runtime.config.history);
      runtime.history.events.prune(now, runtime.config.history.rollupRetentionMs);
      runtime.alerts.prune(now - runtime.config.history.rollupRetentionMs);
      runtime.auth.sessions.prune(now);
    } catch (err) {
      console.error(`history maintenance failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    setTimeout(run, MAINTENANCE_INTERVAL_MS).unref();
  };
  setTimeout(run, MAINTENANCE_INTERVAL_MS).unref();
}

/**
 * Loads the configuration, opens the dashboard database and starts the collectors, once per process.
 * Throws ConfigError or DatabaseError, each with one line naming what is wrong.
 */
export function getRuntime(): Runtime {
  const holder = globalThis as Holder;
  const existing = holder[KEY];
  if (existing) return existing;
  const config = loadConfig();
  const db = openDatabase(path.join(config.dataDir, 'dashboard.sqlite'));
  const samples = new SampleStore(db);
  const events = new EventStore(db);
  const recorder = new HistoryRecorder(samples, events);
  const collectors = new Map<string, ClusterCollector>();
  for (const cluster of config.clusters) {
    collectors.set(
      cluster.id,
      new ClusterCollector(cluster, {
        pollIntervalMs: config.pollIntervalMs,
        probeTimeoutMs: config.probeTimeoutMs,
        metricsIntervalMs: config.metricsIntervalMs,
        recorder,
      }),
    );
  }
  const audit = new AuditLog(db);
  const snapshots = new SnapshotManager({
    config,
    store: new SnapshotStore(db),
    audit,
    observe: (id) => collectors.get(id)?.current() ?? null,
  });
  const stale = staleAfterMs(config.pollIntervalMs, config.probeTimeoutMs);
  const alerts = new AlertService({
    config,
    collectors,
    staleAfterMs: stale,
    events,
    samples,
    snapshots,
    store: new AlertStore(db),
    dashboardUrl: config.dashboardUrl,
  });
  const runtime: Runtime = {
    config,
    collectors,
    staleAfterMs: stale,
    history: { db, samples, events },
    auth: {
      users: new UserStore(db),
      sessions: new SessionStore(db),
      tokens: new TokenStore(db),
      audit,
      limiter: new LoginLimiter(),
      trusted: config.auth.trustedProxies,
    },
    snapshots,
    alerts,
  };
  holder[KEY] = runtime;
  for (const c of collectors.values()) c.start();
  alerts.start();
  startMaintenance(runtime);
  return runtime;
}
