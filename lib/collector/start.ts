// Starts the collectors when the server starts; a bad configuration stops the server with one clear line.
import 'server-only';
import { ConfigError } from '@/lib/config/config-error';
import { DatabaseError } from '@/lib/db/database';
import { getRuntime } from './runtime';

export function startDashboard(): void {
  try {
    if (process.env.ETCD_DASHBOARD_CONFIG && process.env.ETCDCTL_ENDPOINTS) {
      console.log('etcd-dashboard: ETCD_DASHBOARD_CONFIG is set; the ETCDCTL_* variables are ignored');
    }
    const { config } = getRuntime();
    const names = config.clusters.map((c) => `${c.id} (${c.endpoints.length} endpoints)`).join(', ');
    console.log(`etcd-dashboard: polling every ${config.pollIntervalMs} ms from ${config.source}: ${names}`);
    console.log(`etcd-dashboard: history in ${config.dataDir}`);
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
