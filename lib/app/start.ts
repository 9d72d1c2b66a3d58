// Starts the collectors when the server starts; a bad configuration stops the server with one clear line.
import 'server-only';
import { ConfigError } from '@/lib/config/config-error';
import { DatabaseError } from '@/lib/db/database';
import { syncUsers } from '@/lib/access/sync-users';
import { startAutoDefragment } from '@/lib/maintenance/auto-defragment';
import { startSnapshotSchedules } from '@/lib/snapshots/snapshot-schedule';
import { openDashboard, type Dashboard } from './dashboard';

export async function startDashboard(): Promise<void> {
  try {
    if (process.env.ETCD_DASHBOARD_CONFIG && process.env.ETCDCTL_ENDPOINTS) {
      console.log('etcd-dashboard: ETCD_DASHBOARD_CONFIG is set; the ETCDCTL_* variables are ignored');
    }
    const app = await openDashboard();
    const { config, auth, snapshots } = app;
    // The newest verified and restore-tested snapshots are answered from memory from the first request (and the first
    // alert evaluation) on.
    await snapshots.load();
    await syncUsers(config.auth, auth.users, auth.sessions);
    // The leader's duties begin when it takes over, here at once on SQLite (one process, the lease is free), before
    // the first request: what a stopped leader left running is marked interrupted, and its open alerts read back.
    await app.leadership.start({ gained: () => takeOver(app), lost: () => undefined });
    const leading = () => app.leadership.isLeader();
    // Scheduled work's records are stored under the leader's term on PostgreSQL (one process on SQLite needs none).
    const fence = () => (app.store.engine === 'postgresql' ? app.leadership.fence() : undefined);
    startSnapshotSchedules(config, snapshots, app.restoreTests, leading, fence);
    startAutoDefragment({
      clusters: config.clusters,
      maintenance: app.maintenance,
      observe: (id) => app.collectors.get(id)?.current() ?? null,
      audit: auth.audit,
      leading,
      fence,
    });
    const names = config.clusters.map((c) => `${c.id} (${c.endpoints.length} endpoints)`).join(', ');
    console.log(`etcd-dashboard: polling every ${config.pollIntervalMs} ms from ${config.source}: ${names}`);
    console.log(`etcd-dashboard: data in ${config.dataDir}; stores in ${app.store.description}`);
    const receivers = config.clusters.reduce((n, c) => n + c.alerts.receivers.length, 0);
    if (receivers > 0 && !config.dashboardUrl) {
      console.log(
        'etcd-dashboard: DASHBOARD_URL is not set: alert notifications carry no link back to the dashboard (no generatorURL, no runbook_url, no Slack link)',
      );
    }
    const users = (await auth.users.list()).length;
    console.log(
      `etcd-dashboard: ${users} local user(s); anonymous viewing ${config.auth.anonymous === 'viewer' ? 'ON (viewer)' : 'off'}` +
        (config.auth.trustedProxies.entries.length > 0
          ? `; proxy headers believed from ${config.auth.trustedProxies.entries.join(', ')}`
          : ''),
    );
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`etcd-dashboard: configuration error: ${err.message}`);
      process.exit(1);
    }
    if (err instanceof DatabaseError) {
      console.error(`etcd-dashboard: database error: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

/** What a new leader does first: the runs, snapshots and restore tests the last one left running are interrupted. */
async function takeOver(app: Dashboard): Promise<void> {
  const { snapshots } = app;
  // Runs a stopped dashboard left "running" are marked interrupted before anything can start a new one. A database
  // that refuses now is no reason to stop: every start() tries again before its run.
  await app.maintenance.markInterrupted().catch((err: unknown) => {
    console.error(
      `etcd-dashboard: marking interrupted maintenance runs failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); tried again before the next run`,
    );
  });
  // Alerts firing before a restart are listed from the first request on, under their ids and since.
  await app.alerts.restoreAll();
  const r = await snapshots.reconcile();
  if (r.failed + r.missing + r.adopted + r.partsRemoved > 0) {
    console.log(
      `etcd-dashboard: snapshots reconciled: ${r.failed} interrupted marked failed, ${r.missing} missing, ${r.adopted} adopted, ${r.partsRemoved} partial files removed`,
    );
  }
  const t = await app.restoreTests.reconcile();
  if (t.interrupted + t.foldersRemoved > 0) {
    console.log(
      `etcd-dashboard: restore tests reconciled: ${t.interrupted} interrupted, ${t.foldersRemoved} scratch folder(s) removed`,
    );
  }
}
