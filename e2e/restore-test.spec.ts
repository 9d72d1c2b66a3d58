// Restore tests on a real cluster: every verified snapshot is restored by itself into a throwaway etcd of the
// cluster's version and matches (revision, live keys, HashKV); the Snapshots page and the overview say so; an operator
// restore-tests again on demand, one at a time; a viewer may not; the audit log keeps every result.
import { expect, request, test, type APIRequestContext, type Page } from '@playwright/test';
import path from 'node:path';
import type { ClusterStatus } from '../lib/cluster/status-types';
import type { RestoreTest, SnapshotRecord } from '../lib/snapshots/snapshot-types';
import type { DashboardProcess } from '../scripts/lib/dashboard-process';
import type { LocalCluster } from '../scripts/lib/local-cluster';
import { bearer, expectApiError, readAudit } from './support/access';
import { E2E_ROOT } from './support/e2e-env';
import { etcdctlOn, freshCluster, operatorApi, startAdminDashboard } from './support/local-stack';
import { snapshotEnding } from './support/snapshot-api';

const PORT = 3215;
const ROOT = path.join(E2E_ROOT, 'restore-test');
const ADMIN_PASSWORD = 'restore-test-admin-password-1';
const CLUSTER = 'rt';
const LIVE_KEYS = 39;

let cluster: LocalCluster;
let dashboard: DashboardProcess | null = null;
let admin: APIRequestContext;
let operator: APIRequestContext;
let viewer: APIRequestContext;
/** The snapshot the first test takes; the later tests restore-test it again. */
let first: SnapshotRecord;

const restoreTestUrl = (id: string) => `/api/clusters/${CLUSTER}/snapshots/${id}/restore-test`;

async function record(id: string): Promise<SnapshotRecord> {
  const res = await viewer.get(`/api/clusters/${CLUSTER}/snapshots/${id}`);
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()) as SnapshotRecord;
}

/**
 * Polls until the snapshot's restore test has ended (neither absent nor running), started after `after` when given
 * (a later test than the one already recorded); returns the record then.
 */
async function restoreTestEnded(id: string, after: string | null = null, timeout = 60_000): Promise<SnapshotRecord> {
  let last: SnapshotRecord | undefined;
  await expect
    .poll(
      async () => {
        last = await record(id);
        const t = last.restoreTest;
        if (!t || (after !== null && Date.parse(t.testedAt) <= Date.parse(after))) return 'not started';
        return t.state === 'running' ? 'running' : 'ended';
      },
      { timeout, intervals: [100], message: `restore test of ${id}` },
    )
    .toBe('ended');
  return last as SnapshotRecord;
}

/** A passed test of `s`: its own revision and live keys, HashKV equal to the source cluster's. */
function expectPassed(s: SnapshotRecord): RestoreTest {
  const t = s.restoreTest as RestoreTest;
  expect(t.state, `restore test of ${s.id}: ${t.reason}`).toBe('passed');
  expect(t).toMatchObject({ revision: s.revision, totalKeys: LIVE_KEYS, hashKvEqual: true, reason: null });
  expect(t.etcdVersion?.startsWith(`${cluster.binaries.line}.`), `etcd ${t.etcdVersion}`).toBe(true);
  expect(t.durationMs).toBeGreaterThan(0);
  return t;
}

async function signIn(page: Page, next: string): Promise<void> {
  await page.goto(`${dashboard!.url}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(new RegExp(`${next.replace(/[?]/g, '\\?')}$`));
}

const row = (page: Page, id: string) => page.locator(`[data-testid="snapshot-row"][data-snapshot-id="${id}"]`);

test.beforeAll(async () => {
  test.setTimeout(120_000);
  cluster = freshCluster(ROOT, { basePort: 24950, name: 'rt' });
  await cluster.start();
  for (let i = 0; i < LIVE_KEYS + 1; i++) etcdctlOn(cluster, ['put', `/registry/configmaps/default/cm-${i}`, `v${i}`]);
  etcdctlOn(cluster, ['del', '/registry/configmaps/default/cm-0']);
  dashboard = await startAdminDashboard({
    root: ROOT,
    port: PORT,
    adminPassword: ADMIN_PASSWORD,
    entry: { id: CLUSTER, name: 'Restore test cluster', cluster: cluster.state },
  });
  await expect.poll(() => /local user\(s\)/.test(dashboard!.log()), { timeout: 10_000 }).toBe(true);
  operator = await operatorApi(dashboard.url, ADMIN_PASSWORD, 'restore-test-operator');
  admin = await request.newContext({ baseURL: dashboard.url });
  const login = await admin.post('/api/auth/login', { data: { username: 'admin', password: ADMIN_PASSWORD } });
  expect(login.status(), await login.text()).toBe(200);
  const made = await admin.post('/api/tokens', { data: { name: 'restore-test-viewer', role: 'viewer' } });
  expect(made.status(), await made.text()).toBe(201);
  const { token } = (await made.json()) as { token: string };
  viewer = await request.newContext({ baseURL: dashboard.url, extraHTTPHeaders: bearer(token) });
  // The tester restores with the cluster's own release, which it learns from the members' Status.
  await expect
    .poll(async () => {
      const s = (await (await viewer.get(`/api/clusters/${CLUSTER}/status`)).json()) as ClusterStatus;
      return s.members.filter((m) => m.status?.version).length;
    })
    .toBe(3);
});

test.afterAll(async () => {
  await Promise.all([admin?.dispose(), operator?.dispose(), viewer?.dispose()]);
  await dashboard?.stop();
  await cluster?.stop();
});

test('a verified snapshot is restore-tested by itself: its revision, its live keys, HashKV equal', async () => {
  const taken = await snapshotEnding(operator, CLUSTER, 'succeeded', 60_000);
  expect(taken.verified).toBe(true);
  first = await restoreTestEnded(taken.id);
  const t = expectPassed(first);
  expect(t.source).toBe('local');
  expect(first.revision).toBe(taken.revision);

  const status = (await (await viewer.get(`/api/clusters/${CLUSTER}/status`)).json()) as ClusterStatus;
  expect(status.lastVerifiedSnapshot?.restoreTest).toMatchObject({ state: 'passed', testedAt: t.testedAt });
  expect(status.lastRestoreTestedSnapshot).toEqual({
    id: first.id,
    finishedAt: first.finishedAt,
    testedAt: t.testedAt,
  });
});

test('the Snapshots page shows the passed badge and the full result; the overview says when', async ({ page }) => {
  const t = first.restoreTest as RestoreTest;
  await page.goto(`${dashboard!.url}/snapshots?cluster=${CLUSTER}`);
  const r = row(page, first.id);
  await expect(r).toHaveAttribute('data-restore-test', 'passed');
  const badge = r.getByTestId('restore-test-badge');
  await expect(badge).toHaveText('restore-tested ✓');
  await expect(badge).toHaveAttribute(
    'title',
    new RegExp(
      `^restored with etcd ${t.etcdVersion!.replace(/\./g, '\\.')} and matched at revision ${first.revision}, ${LIVE_KEYS} keys, HashKV equal, `,
    ),
  );
  await expect(r.getByTestId('restore-test-reason')).toHaveCount(0);
  // Anonymous viewers look; only operators get the button.
  await expect(page.getByTestId('restore-test-now')).toHaveCount(0);

  await r.getByRole('button', { name: 'details' }).click();
  const details = page.getByTestId('restore-test-details');
  await expect(details).toHaveAttribute('data-state', 'passed');
  await expect(details).toContainText(`etcd ${t.etcdVersion}`);
  await expect(details).toContainText(`${first.revision} (the snapshot says ${first.revision})`);
  await expect(details).toContainText('equal to the source cluster’s at that revision');

  await page.goto(`${dashboard!.url}/?cluster=${CLUSTER}`);
  const line = page.getByTestId('restore-test-freshness');
  await expect(line).toHaveAttribute('data-state', 'passed');
  await expect(line).toContainText(/last restore-tested snapshot \d+ (s|min) ago/);
  await expect(page.getByTestId('snapshot-freshness')).toContainText('last restore-tested');
});

test('an operator restore-tests now: 202, a second while it runs 409, it passes again; a viewer gets 403', async () => {
  const before = first.restoreTest as RestoreTest;
  const res = await operator.post(restoreTestUrl(first.id));
  expect(res.status(), await res.text()).toBe(202);
  const started = ((await res.json()) as { restoreTest: RestoreTest }).restoreTest;
  expect(started.state).toBe('running');
  expect(Date.parse(started.testedAt)).toBeGreaterThan(Date.parse(before.testedAt));

  // At once, while the first runs (restoring and starting a member takes over a second): one at a time.
  const second = await operator.post(restoreTestUrl(first.id));
  const message = await expectApiError(second, 409, 'restore_test_running', 'second restore test');
  expect(message).toContain(first.id);

  const refused = await viewer.post(restoreTestUrl(first.id));
  await expectApiError(refused, 403, 'forbidden', 'viewer');

  const again = await restoreTestEnded(first.id, before.testedAt);
  expect(Date.parse(again.restoreTest!.testedAt)).toBeGreaterThanOrEqual(Date.parse(started.testedAt));
  expectPassed(again);
});

test('on the page an operator restore-tests now, and a second while one runs shows the 409', async ({ page }) => {
  test.setTimeout(90_000);
  const other = await snapshotEnding(operator, CLUSTER, 'succeeded', 60_000);
  expectPassed(await restoreTestEnded(other.id));
  const before = (await record(first.id)).restoreTest as RestoreTest;

  await signIn(page, `/snapshots?cluster=${CLUSTER}`);
  const a = row(page, first.id);
  const b = row(page, other.id);
  await expect(a).toHaveAttribute('data-restore-test', 'passed');
  await a.getByTestId('restore-test-now').click();
  await expect(a).toHaveAttribute('data-restore-test', 'running');
  await expect(a.getByTestId('restore-test-badge')).toHaveText('restore testing…');
  await b.getByTestId('restore-test-now').click();
  await expect(b.getByRole('alert')).toContainText('a restore test is already running');
  // The refused one keeps its result; the running one passes and the row says so by itself.
  await expect(b).toHaveAttribute('data-restore-test', 'passed');
  await expect(a).toHaveAttribute('data-restore-test', 'passed', { timeout: 30_000 });
  expectPassed(await restoreTestEnded(first.id, before.testedAt));
});

test("the audit log keeps every test's result and who asked", async () => {
  const entries = await readAudit(admin, dashboard!.url, {}, { action: 'snapshot.restore-test' });
  const results = entries.filter((e) => e.actor === 'dashboard');
  // The automatic test and two asked for, of the first snapshot; the automatic one of the other.
  const ofFirst = results.filter((e) => e.details.snapshotId === first.id);
  expect(ofFirst.length).toBe(3);
  for (const e of results) {
    expect(e).toMatchObject({ clusterId: CLUSTER, outcome: 'success', details: { state: 'passed' } });
    expect(e.details.durationMs).toEqual(expect.any(Number));
  }
  expect(results.length).toBe(4);
  const byOperator = entries.filter((e) => e.actor === 'token:restore-test-operator');
  expect(byOperator.filter((e) => e.outcome === 'success').map((e) => e.details)).toEqual([
    expect.objectContaining({ snapshotId: first.id, phase: 'started' }),
  ]);
  expect(
    byOperator.some((e) => e.outcome === 'failure' && JSON.stringify(e.details).includes('restore_test_running')),
  ).toBe(true);
  expect(entries.some((e) => e.actor === 'token:restore-test-viewer' && e.outcome === 'denied')).toBe(true);
  // The admin's clicks on the page: one started, one refused.
  const byAdmin = entries.filter((e) => e.actor === 'admin');
  expect(byAdmin.map((e) => e.outcome).sort()).toEqual(['failure', 'success']);
});
