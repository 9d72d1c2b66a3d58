// Starts one real 3-member mTLS etcd cluster and the production dashboard against it for the whole suite.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { FullConfig } from '@playwright/test';
import { LocalCluster } from '../scripts/lib/local-cluster';
import { startDashboard } from '../scripts/lib/dashboard-process';
import { E2E_CLUSTER_BASE_PORT, E2E_CLUSTER_DIR, E2E_DASHBOARD_PORT, E2E_ROOT } from './support/e2e-env';

export default async function globalSetup(_config: FullConfig): Promise<() => Promise<void>> {
  // A previous run that was killed may have left members running: stop them by their recorded PIDs.
  try {
    await LocalCluster.load(E2E_CLUSTER_DIR).stop();
  } catch {
    // nothing recorded
  }
  rmSync(E2E_ROOT, { recursive: true, force: true });
  mkdirSync(E2E_ROOT, { recursive: true });
  const cluster = LocalCluster.create({
    dir: E2E_CLUSTER_DIR,
    members: 3,
    basePort: E2E_CLUSTER_BASE_PORT,
    name: 'e2e',
  });
  await cluster.start();
  const dashboard = await startDashboard({
    port: E2E_DASHBOARD_PORT,
    // Anonymous viewing, as on a NOC screen: the live-view specs look without signing in.
    env: { ...cluster.etcdctlEnv, DASHBOARD_ANONYMOUS: 'viewer' },
    logFile: path.join(E2E_ROOT, 'dashboard.log'),
  });
  return async () => {
    await dashboard.stop();
    // Load again: tests restart members, and the state file holds their current PIDs.
    await LocalCluster.load(E2E_CLUSTER_DIR).stop();
  };
}
