// A spec's own local cluster and production dashboard under one folder: the cluster made afresh, etcdctl run against
// it, the dashboard with the env admin and anonymous viewing on, and an operator's token for its API.
import { expect, request, type APIRequestContext } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startDashboard, type DashboardProcess } from '../../scripts/lib/dashboard-process';
import { LocalCluster, type CreateOptions, type LocalClusterState } from '../../scripts/lib/local-cluster';
import { bearer } from './access';
import { writeDashboardConfig } from './config-file';

/** Empties `root` and makes (not starts) a 3-member cluster in root/cluster. */
export function freshCluster(root: string, opts: Omit<CreateOptions, 'dir' | 'members'>): LocalCluster {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  return LocalCluster.create({ dir: path.join(root, 'cluster'), members: 3, ...opts });
}

/** Runs the cluster's own etcdctl against it and returns what it printed. */
export function etcdctlOn(cluster: LocalCluster, args: string[], input?: string): string {
  return execFileSync(cluster.binaries.etcdctl, args, {
    env: { ...process.env, ...cluster.etcdctlEnv },
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Starts the dashboard with its config, data and log under `root`, for the cluster `entry.id`. */
export function startAdminDashboard(opts: {
  root: string;
  port: number;
  adminPassword: string;
  entry: { id: string; name: string; cluster: LocalClusterState };
}): Promise<DashboardProcess> {
  const config = writeDashboardConfig(path.join(opts.root, 'dashboard.yaml'), [opts.entry]);
  return startDashboard({
    port: opts.port,
    env: { ETCD_DASHBOARD_CONFIG: config, DASHBOARD_ADMIN_PASSWORD: opts.adminPassword, DASHBOARD_ANONYMOUS: 'viewer' },
    dataDir: path.join(opts.root, 'data'),
    logFile: path.join(opts.root, 'dashboard.log'),
  });
}

/** Signs in as the env admin, makes an operator token named `tokenName` and returns a context that sends it. */
export async function operatorApi(
  baseURL: string,
  adminPassword: string,
  tokenName: string,
): Promise<APIRequestContext> {
  const admin = await request.newContext({ baseURL });
  try {
    expect(
      (await admin.post('/api/auth/login', { data: { username: 'admin', password: adminPassword } })).status(),
    ).toBe(200);
    const res = await admin.post('/api/tokens', { data: { name: tokenName, role: 'operator' } });
    const { token } = (await res.json()) as { token: string };
    return await request.newContext({ baseURL, extraHTTPHeaders: bearer(token) });
  } finally {
    await admin.dispose();
  }
}
