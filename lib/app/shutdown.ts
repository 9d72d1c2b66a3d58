// What the dashboard writes a moment after it is asked to (the queues of the history recorder and the audit log, the
// alerts' held state changes, the maintenance runs' rows) is written before the process exits: server/server.mjs
// calls this on SIGTERM and SIGINT, and waits a few seconds.
import 'server-only';
import { dashboard } from './dashboard';

const SHUTDOWN_KEY = Symbol.for('etcd-dashboard.shutdown');

/** Resolves once the queued writes are stored (or with the reason they are not) and the store is closed; never rejects. */
async function flushQueuedWrites(): Promise<void> {
  const app = dashboard();
  // No new polls, so nothing new is queued behind what is written now.
  for (const c of app.collectors.values()) c.stop();
  // Another replica takes over at its next try (2 s), not after the lease runs out (6 s).
  await app.leadership.stop();
  // And its clusters: the other replicas poll them from their next round.
  app.sharing.stop();
  await app.shards.stop();
  const results = await Promise.allSettled([
    app.history.recorder.flush(),
    app.auth.audit.flush(),
    app.alerts.flush(),
    app.maintenance.flushWrites(),
    app.snapshots.flushWrites(),
  ]);
  for (const r of results) {
    if (r.status === 'rejected') {
      const why = r.reason instanceof Error ? r.reason.message.split('\n')[0] : String(r.reason);
      console.error(`etcd-dashboard: stopping with writes not stored: ${why}`);
    }
  }
  // PostgreSQL sees its connections closed rather than dropped; SQLite checkpoints its write-ahead log.
  await app.store.close().catch(() => undefined);
}

/** Called once the dashboard has started (instrumentation.ts). */
export function registerShutdown(): void {
  (globalThis as { [SHUTDOWN_KEY]?: () => Promise<void> })[SHUTDOWN_KEY] = flushQueuedWrites;
}
