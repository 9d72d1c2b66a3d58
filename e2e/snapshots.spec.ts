// Snapshots of a real cluster holding 50+ MB: taken through the API, verified the way etcdctl does, kept with
// mode 0600, copied to a real S3-protocol server, restorable with etcdctl, and failing cleanly when things break.
import { expect, request, test, type APIRequestContext } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type S3rver from 's3rver';
import { stringify } from 'yaml';
import { LocalCluster } from '../scripts/lib/local-cluster';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import type { SnapshotDetail, SnapshotRecord } from '../lib/snapshots/snapshot-types';
import type { RunbookStep } from '../lib/snapshots/restore-runbook';
import { E2E_ROOT } from './support/e2e-env';
import { etcdctlOn } from './support/local-stack';
import { offsiteOf, startS3 } from './support/s3-server';

const PORT = 3189;
const S3_PORT = 24380;
const ROOT = path.join(E2E_ROOT, 'snapshots');
const DATA_DIR = path.join(ROOT, 'data');
const SNAPSHOT_DIR = path.join(DATA_DIR, 'snapshots');
const ADMIN_PASSWORD = 'snapshot-admin-password-1';

let cluster: LocalCluster;
let dashboard: DashboardProcess;
let s3: S3rver;
let admin: APIRequestContext;
let operator: APIRequestContext;
let viewer: APIRequestContext;

const etcdctl = (args: string[], input?: string) => etcdctlOn(cluster, args, input);

/** The cluster's own offline tool: etcdutl from 3.5 on (3.6 removed etcdctl's snapshot status and restore). */
const etcdutl = (args: string[]) =>
  execFileSync(cluster.binaries.etcdutl ?? cluster.binaries.etcdctl, args, {
    env: { ...process.env, ETCDCTL_API: '3' },
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });

function writeConfig(schedule?: string): string {
  const file = path.join(ROOT, 'dashboard.yaml');
  const c = cluster.state;
  writeFileSync(
    file,
    stringify({
      clusters: [
        {
          id: 'snap',
          name: 'Snapshot test cluster',
          endpoints: c.members.map((m) => m.clientUrl),
          tls: { ca: c.caCert, cert: c.clientCert, key: c.clientKey },
          snapshots: {
            ...(schedule ? { schedule } : {}),
            retention: { keepLast: 20 },
            offsite: offsiteOf(ROOT, S3_PORT, 'e2e/'),
          },
        },
      ],
    }),
  );
  return file;
}

async function startDash(): Promise<void> {
  dashboard = await startDashboard({
    port: PORT,
    env: { ETCD_DASHBOARD_CONFIG: path.join(ROOT, 'dashboard.yaml'), DASHBOARD_ADMIN_PASSWORD: ADMIN_PASSWORD },
    dataDir: DATA_DIR,
    logFile: path.join(ROOT, 'dashboard.log'),
    waitReady: false,
  });
  await expect
    .poll(async () => (await fetch(`${dashboard.url}/api/auth/me`).catch(() => null))?.status ?? 0, { timeout: 30_000 })
    .toBe(401);
  await expect.poll(() => /local user\(s\)/.test(dashboard.log()), { timeout: 10_000 }).toBe(true);
  admin = await request.newContext({ baseURL: dashboard.url });
  const login = await admin.post('/api/auth/login', { data: { username: 'admin', password: ADMIN_PASSWORD } });
  expect(login.status(), await login.text()).toBe(200);
}

async function tokenContext(role: 'viewer' | 'operator'): Promise<APIRequestContext> {
  const res = await admin.post('/api/tokens', { data: { name: `e2e-${role}-${Date.now()}`, role } });
  expect(res.status()).toBe(201);
  const { token } = (await res.json()) as { token: string };
  return request.newContext({ baseURL: dashboard.url, extraHTTPHeaders: { Authorization: `Bearer ${token}` } });
}

async function snapshots(): Promise<SnapshotRecord[]> {
  const res = await viewer.get('/api/clusters/snap/snapshots');
  expect(res.status()).toBe(200);
  return ((await res.json()) as { snapshots: SnapshotRecord[] }).snapshots;
}

async function waitFinished(id: string, timeout = 60_000): Promise<SnapshotRecord> {
  let last: SnapshotRecord | undefined;
  await expect
    .poll(
      async () => {
        last = (await snapshots()).find((s) => s.id === id);
        return last && last.status !== 'running' && last.progress === null ? last.status : 'running';
      },
      { timeout, intervals: [100] },
    )
    .not.toBe('running');
  return last as SnapshotRecord;
}

/** Starts a snapshot (of `memberId`, when given) and returns its record once its bytes are flowing. */
async function snapshotStreaming(data?: { memberId: string }): Promise<SnapshotRecord> {
  const res = await operator.post('/api/clusters/snap/snapshots', data ? { data } : undefined);
  expect(res.status(), await res.text()).toBe(202);
  const started = (await res.json()) as SnapshotRecord;
  await expect
    .poll(async () => (await snapshots()).find((s) => s.id === started.id)?.progress?.receivedBytes ?? 0, {
      timeout: 10_000,
      intervals: [20],
    })
    .toBeGreaterThan(0);
  return started;
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  cluster = LocalCluster.create({ dir: path.join(ROOT, 'cluster'), members: 3, basePort: 24390, name: 'snap' });
  await cluster.start();
  // 56 values of 1 MiB (random, so nothing compresses them away) under Kubernetes-like prefixes.
  const value = randomBytes(768 * 1024).toString('base64');
  for (let i = 0; i < 56; i++) etcdctl(['put', `/registry/configmaps/default/big-${i}`], value);
  for (let i = 0; i < 40; i++) etcdctl(['put', `/registry/pods/default/pod-${i}`], `{"kind":"Pod","n":${i}}`);
  etcdctl(['put', '/registry/secrets/default/db-password'], 'k8s\u0000plain');
  s3 = await startS3(ROOT, S3_PORT);
  writeConfig();
  await startDash();
  operator = await tokenContext('operator');
  viewer = await tokenContext('viewer');
});

test.afterAll(async () => {
  await Promise.all([admin?.dispose(), operator?.dispose(), viewer?.dispose()]);
  await dashboard?.stop();
  await s3?.close();
  await cluster?.stop();
});

test('a snapshot through the API is verified, matches etcdctl, is 0600, copied off-site and restorable', async () => {
  test.setTimeout(120_000);
  const res = await operator.post('/api/clusters/snap/snapshots');
  expect(res.status(), await res.text()).toBe(202);
  const started = (await res.json()) as SnapshotRecord;
  expect(started.status).toBe('running');
  expect(started.triggeredBy).toMatch(/^token:e2e-operator/);

  const done = await waitFinished(started.id);
  expect(done.status, done.error ?? '').toBe('succeeded');
  expect(done.verified).toBe(true);
  expect(done.sizeBytes).toBeGreaterThan(50 * 1024 * 1024);
  expect(done.locations.map((l) => l.kind).sort()).toEqual(['local', 's3']);

  // The file on the dashboard's disk: mode 0600, no partial file beside it.
  const file = path.join(SNAPSHOT_DIR, 'snap', `${done.id}.db`);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readdirSync(path.join(SNAPSHOT_DIR, 'snap')).filter((f) => f.endsWith('.part'))).toEqual([]);

  // Download it and ask the cluster's own etcdctl (3.4) or etcdutl (3.5+) what it holds.
  const dl = await operator.get(`/api/clusters/snap/snapshots/${done.id}/download`);
  expect(dl.status()).toBe(200);
  const downloaded = path.join(ROOT, 'downloaded.db');
  writeFileSync(downloaded, await dl.body());
  const ctl = JSON.parse(etcdutl(['snapshot', 'status', downloaded, '-w', 'json'])) as {
    hash: number;
    revision: number;
    totalKey: number;
  };
  expect(done.hash).toBe(ctl.hash.toString(16));
  expect(done.revision).toBe(ctl.revision);
  expect(done.totalKeys).toBe(ctl.totalKey);

  // The off-site copy is byte for byte the same file.
  const s3Object = readdirSync(path.join(ROOT, 's3', 'etcd-backups', 'e2e', 'snap'));
  expect(s3Object.some((f) => f.startsWith(`${done.id}.db`))).toBe(true);

  // The keyspace breakdown and the restore runbook, and the runbook's restore command really restores it.
  const detail = (await (await viewer.get(`/api/clusters/snap/snapshots/${done.id}`)).json()) as SnapshotDetail & {
    runbook: RunbookStep[];
  };
  expect(detail.keyspace?.[0]).toMatchObject({ prefix: '/registry/configmaps', liveKeys: 56 });
  expect(detail.keyspace?.find((k) => k.prefix === '/registry/pods')?.liveKeys).toBe(40);
  const restoreStep = detail.runbook.find((s) => s.commands.includes('snapshot restore'));
  for (const m of cluster.state.members) expect(restoreStep?.commands).toContain(`${m.name}=${m.peerUrl}`);
  const restoreDir = path.join(ROOT, 'restored');
  const member = cluster.state.members[0]!;
  // The cluster's own restore tool: etcdutl from 3.5 on (etcdctl lost the command in 3.6), etcdctl for 3.4.
  execFileSync(
    cluster.binaries.etcdutl ?? cluster.binaries.etcdctl,
    [
      'snapshot',
      'restore',
      downloaded,
      '--name',
      member.name,
      '--initial-cluster',
      cluster.state.members.map((m) => `${m.name}=${m.peerUrl}`).join(','),
      '--initial-cluster-token',
      'restore-test',
      '--initial-advertise-peer-urls',
      member.peerUrl,
      '--data-dir',
      restoreDir,
    ],
    { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'pipe' },
  );
  expect(existsSync(path.join(restoreDir, 'member', 'snap', 'db'))).toBe(true);

  // The overview says how fresh the last verified snapshot is.
  const overview = (await (await viewer.get('/api/clusters/snap/status')).json()) as {
    lastVerifiedSnapshot: { id: string; offsite: boolean };
  };
  expect(overview.lastVerifiedSnapshot).toMatchObject({ id: done.id, offsite: true });
});

test('two snapshots requested at once: one 202, one 409 naming the running one', async () => {
  const [a, b] = await Promise.all([
    operator.post('/api/clusters/snap/snapshots'),
    operator.post('/api/clusters/snap/snapshots'),
  ]);
  const statuses = [a.status(), b.status()].sort();
  expect(statuses).toEqual([202, 409]);
  const accepted = (await (a.status() === 202 ? a : b).json()) as SnapshotRecord;
  const refused = (await (a.status() === 409 ? a : b).json()) as { error: { code: string; message: string } };
  expect(refused.error.code).toBe('snapshot_running');
  expect(refused.error.message).toContain(accepted.id);
  expect((await waitFinished(accepted.id)).status).toBe('succeeded');
});

test('a viewer may look but not take, download or delete; anonymous gets 401', async () => {
  const take = await viewer.post('/api/clusters/snap/snapshots');
  expect(take.status()).toBe(403);
  expect(((await take.json()) as { error: { code: string } }).error.code).toBe('forbidden');
  const one = (await snapshots()).find((s) => s.status === 'succeeded')!;
  expect((await viewer.get(`/api/clusters/snap/snapshots/${one.id}/download`)).status()).toBe(403);
  expect((await viewer.delete(`/api/clusters/snap/snapshots/${one.id}`)).status()).toBe(403);
  const anon = await request.newContext({ baseURL: dashboard.url });
  expect((await anon.post('/api/clusters/snap/snapshots')).status()).toBe(401);
  await anon.dispose();
  // Ids are validated: no path ever comes from the request.
  expect((await operator.get('/api/clusters/snap/snapshots/..%2F..%2Fdashboard.sqlite/download')).status()).toBe(400);
});

test('the member stopped mid-stream: the snapshot fails with the reason, and no file is left', async () => {
  const before = (await (await viewer.get('/api/clusters/snap/status')).json()) as {
    members: Array<{ id: string; name: string; status: { isLeader: boolean } | null }>;
  };
  const follower = before.members.find((m) => m.status && !m.status.isLeader)!;
  // Kill it as soon as bytes are flowing.
  const started = await snapshotStreaming({ memberId: follower.id });
  await cluster.stopMember(cluster.indexOfName(follower.name), 'SIGKILL');
  const done = await waitFinished(started.id);
  cluster.startMember(cluster.indexOfName(follower.name));
  expect(done.status).toBe('failed');
  expect(done.error).toBeTruthy();
  expect(done.verified).toBe(false);
  const files = readdirSync(path.join(SNAPSHOT_DIR, 'snap'));
  expect(files.filter((f) => f.startsWith(started.id))).toEqual([]);
  await cluster.waitHealthy(30_000);
});

test('at start, unknown good files are adopted, damaged ones are not, and interrupted records are failed', async () => {
  const good = (await snapshots()).find((s) => s.status === 'succeeded' && s.verified)!;
  const dir = path.join(SNAPSHOT_DIR, 'snap');
  const source = path.join(dir, `${good.id}.db`);
  // A copy under a foreign name, and a copy with one byte flipped.
  copyFileSync(source, path.join(dir, 'copied-by-hand.db'));
  const flipped = readFileSync(source);
  const middle = Math.floor(flipped.length / 2);
  flipped[middle] = (flipped[middle] ?? 0) ^ 0xff;
  writeFileSync(path.join(dir, 'flipped.db'), flipped);
  writeFileSync(path.join(dir, 'leftover.db.part'), 'partial');

  // And the dashboard killed in the middle of a snapshot.
  const interrupted = await snapshotStreaming();
  await Promise.all([admin.dispose(), operator.dispose(), viewer.dispose()]);
  await dashboard.stop('SIGKILL');
  await startDash();
  operator = await tokenContext('operator');
  viewer = await tokenContext('viewer');

  const after = await snapshots();
  const killed = after.find((s) => s.id === interrupted.id);
  expect(killed).toMatchObject({ status: 'failed', verified: false });
  expect(killed?.error).toContain('dashboard stopped');
  expect(readdirSync(dir).filter((f) => f.startsWith(interrupted.id))).toEqual([]);
  const adopted = after.filter((s) => s.triggeredBy.startsWith('adopted at start'));
  expect(adopted.map((s) => s.triggeredBy)).toEqual(['adopted at start (copied-by-hand.db)']);
  expect(adopted[0]).toMatchObject({ status: 'succeeded', verified: true, hash: good.hash, revision: good.revision });
  expect(existsSync(path.join(dir, 'leftover.db.part'))).toBe(false);
  expect(dashboard.log()).toMatch(/not adopting .*flipped\.db/);
  // The history from before the restart is all still there.
  expect(after.find((s) => s.id === good.id)?.status).toBe('succeeded');
});

test('an operator takes a snapshot from the page and reads its keyspace and runbook', async ({ page }) => {
  const before = (await snapshots()).length;
  await page.goto(`${dashboard.url}/login?next=${encodeURIComponent('/snapshots?cluster=snap')}`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/snapshots\?cluster=snap$/);
  await expect(page.getByTestId('snapshot-freshness')).toHaveCount(0); // the overview's line, not this page's
  await page.getByTestId('take-snapshot').click();
  await expect(page.getByTestId('snapshot-row')).toHaveCount(before + 1);
  const newest = page.getByTestId('snapshot-row').first();
  await expect(newest).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  await expect(newest).toContainText('✓ verified');
  await expect(newest).toContainText('off-site (S3)');
  await expect(page.getByTestId('keyspace')).toContainText('/registry/configmaps');
  // Written for the cluster's version: etcdutl from 3.5 on (3.6 removed etcdctl's snapshot commands).
  await expect(page.getByTestId('restore-runbook')).toContainText(
    `${cluster.binaries.etcdutl ? 'etcdutl' : 'etcdctl'} snapshot restore`,
  );
  if (cluster.binaries.etcdutl) await expect(page.getByTestId('restore-runbook')).not.toContainText('etcdctl snapshot');
  // The overview says how old the newest verified snapshot is.
  await page.goto(`${dashboard.url}/?cluster=snap`);
  await expect(page.getByTestId('snapshot-freshness')).toHaveAttribute('data-state', 'fresh');
  await expect(page.getByTestId('snapshot-freshness')).toContainText('copied off-site');
});

test('a schedule in cron syntax takes snapshots by itself, recorded as such', async () => {
  // Every three seconds (croner's six-field form), for this test only.
  writeConfig('*/3 * * * * *');
  await Promise.all([admin.dispose(), operator.dispose(), viewer.dispose()]);
  await dashboard.stop();
  await startDash();
  operator = await tokenContext('operator');
  viewer = await tokenContext('viewer');
  try {
    let scheduled: SnapshotRecord | undefined;
    await expect
      .poll(
        async () => {
          scheduled = (await snapshots()).find((s) => s.trigger === 'schedule' && s.status === 'succeeded');
          return scheduled !== undefined;
        },
        { timeout: 30_000, intervals: [250] },
      )
      .toBe(true);
    expect(scheduled).toMatchObject({ triggeredBy: 'schedule', verified: true });
    const audit = (await (await admin.get('/api/audit?action=snapshot.take&actor=schedule')).json()) as {
      entries: Array<{ actor: string; outcome: string }>;
    };
    expect(audit.entries.some((e) => e.actor === 'schedule' && e.outcome === 'success')).toBe(true);
  } finally {
    writeConfig();
  }
});
