// The folder the container image, the systemd unit and the static pod run (dist/standalone, from
// `npm run build:standalone`), copied where no node_modules is beside it or above it, owned by root and run as the
// image's user (65532), who can write only its data folder and its certificates' copies: a read-only root as the
// image runs. Against a real 3-member mTLS cluster: ready, the status fast path, a verified snapshot, the NOC wall.
import { expect, test } from '@playwright/test';
import { chmodSync, chownSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClusterStatus } from '../lib/cluster/status-types';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import type { LocalCluster } from '../scripts/lib/local-cluster';
import { etcdctlOn, freshCluster, operatorApi } from './support/local-stack';
import { snapshotEnding } from './support/snapshot-api';
import { E2E_ROOT } from './support/e2e-env';

const PORT = 3320;
const BASE_PORT = 25740;
/** The image's user and group (Dockerfile: USER 65532:65532). */
const IMAGE_USER = { uid: 65532, gid: 65532 };
const ADMIN_PASSWORD = 'standalone-admin-pw-1';
const BUILT = path.resolve(__dirname, '..', 'dist', 'standalone');
const ROOT = path.join(E2E_ROOT, 'standalone');

let cluster: LocalCluster;
let dashboard: DashboardProcess;
let place: string;

/** A folder only the image's user may read and write, as a volume mounted for it. */
function ownedFolder(dir: string): string {
  mkdirSync(dir, { recursive: true });
  chownSync(dir, IMAGE_USER.uid, IMAGE_USER.gid);
  chmodSync(dir, 0o700);
  return dir;
}

/** Copies a certificate or key for the image's user, as a Kubernetes Secret volume would present it. */
function secretFile(from: string, dir: string): string {
  const to = path.join(dir, path.basename(from));
  copyFileSync(from, to);
  chownSync(to, IMAGE_USER.uid, IMAGE_USER.gid);
  chmodSync(to, 0o400);
  return to;
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  if (!existsSync(path.join(BUILT, 'server', 'server.mjs'))) {
    throw new Error(`${BUILT} is missing: run \`npm run build:standalone\` first`);
  }
  cluster = freshCluster(ROOT, { basePort: BASE_PORT, name: 'sa' });
  await cluster.start();
  etcdctlOn(cluster, ['put', '/standalone/written-before', 'a key the snapshot must hold']);

  // Somewhere else, with no node_modules on the way up: what the folder needs, it carries.
  place = path.join(os.tmpdir(), `etcd-dashboard-standalone-${process.pid}`);
  rmSync(place, { recursive: true, force: true });
  const app = path.join(place, 'app');
  cpSync(BUILT, app, { recursive: true, verbatimSymlinks: true });
  for (let dir = place; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    expect(existsSync(path.join(dir, 'node_modules')), `node_modules in ${dir}`).toBe(false);
  }
  expect(readdirSync(app).sort()).toEqual(['.next', 'node_modules', 'package.json', 'public', 'server']);

  const pki = ownedFolder(path.join(place, 'pki'));
  const { caCert, clientCert, clientKey } = cluster.state;
  dashboard = await startDashboard({
    port: PORT,
    serverDir: app,
    user: IMAGE_USER,
    env: {
      NODE_ENV: 'production',
      HOME: ownedFolder(path.join(place, 'home')),
      TMPDIR: ownedFolder(path.join(place, 'tmp')),
      ETCDCTL_ENDPOINTS: cluster.endpoints.join(','),
      ETCDCTL_CACERT: secretFile(caCert, pki),
      ETCDCTL_CERT: secretFile(clientCert, pki),
      ETCDCTL_KEY: secretFile(clientKey, pki),
      DASHBOARD_ADMIN_PASSWORD: ADMIN_PASSWORD,
      DASHBOARD_ANONYMOUS: 'viewer',
    },
    dataDir: ownedFolder(path.join(place, 'data')),
    logFile: path.join(ROOT, 'dashboard.log'),
  });
});

test.afterAll(async () => {
  await dashboard?.stop();
  await cluster?.stop();
  if (place) rmSync(place, { recursive: true, force: true });
});

test('the standalone folder, run elsewhere as the image user, is ready, answers the status, snapshots and shows the NOC wall', async ({
  page,
  request,
}) => {
  // Ready: configuration loaded, database writable in its volume, the cluster polled.
  await expect.poll(async () => (await request.get(`${dashboard.url}/readyz`)).status(), { timeout: 30_000 }).toBe(200);

  // The status route through the fast path in server/server.mjs (its answers carry no x-powered-by and are gzipped
  // from 1 KiB), reporting the real cluster: every member healthy once a poll has read them all (the first poll of a
  // busy machine may time out on a health read, and ready does not wait for healthy).
  let status = await request.get(`${dashboard.url}/api/clusters/default/status`);
  await expect
    .poll(
      async () => {
        status = await request.get(`${dashboard.url}/api/clusters/default/status`, {
          headers: { 'accept-encoding': 'gzip' },
        });
        expect(status.status()).toBe(200);
        const body = (await status.json()) as ClusterStatus;
        return { stale: body.stale, health: body.members.map((m) => m.health) };
      },
      { timeout: 30_000 },
    )
    .toEqual({ stale: false, health: ['healthy', 'healthy', 'healthy'] });
  expect(status.headers()['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");

  // A snapshot, taken by an operator, written to the data volume and verified.
  const operator = await operatorApi(dashboard.url, ADMIN_PASSWORD, 'standalone-operator');
  try {
    const snapshot = await snapshotEnding(operator, 'default', 'succeeded', 60_000);
    expect(snapshot.verified).toBe(true);
    expect(snapshot.totalKeys).toBe(1);
    const local = snapshot.locations.find((l) => l.kind === 'local');
    expect(local?.where.startsWith(path.join(place, 'data'))).toBe(true);
    expect(existsSync(local!.where)).toBe(true);
  } finally {
    await operator.dispose();
  }

  // The NOC wall, in Chromium: its scripts, styles and fonts come from the copied static files.
  const failed: string[] = [];
  page.on('response', (res) => {
    if (res.status() >= 400) failed.push(`${res.status()} ${res.url()}`);
  });
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto(`${dashboard.url}/noc`);
  const tile = page.locator('[data-testid="noc-tile"][data-cluster="default"]');
  await expect(tile).toHaveAttribute('data-state', 'healthy', { timeout: 15_000 });
  await expect(tile).toContainText('3/3 healthy');
  await expect(page.getByTestId('noc-clock')).toContainText('updated');
  expect(failed).toEqual([]);
  // Nothing was written beside the server: the image's root filesystem is read-only.
  expect(readdirSync(path.join(place, 'app')).sort()).toEqual([
    '.next',
    'node_modules',
    'package.json',
    'public',
    'server',
  ]);
});
