// Maintenance from the page, against a real 3-member cluster of its own (so moving its leader disturbs no other
// spec) and the production dashboard with a 1 s pause between members and a consistency check every 3 s: an operator
// signs in, plans a rolling defragment (the leader last), starts it and follows every step to the end; Start shows a
// 409 refusal with its reason; Cancel stops between steps; a viewer sees the history but no actions, and the API
// refuses their POST; moving the leader from the page moves it on the overview.
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { DashboardProcess } from '../scripts/lib/dashboard-process';
import type { LocalCluster } from '../scripts/lib/local-cluster';
import type { MaintenanceRun } from '../lib/maintenance/maintenance-types';
import {
  expectApiError,
  hashPasswordWithCli,
  SESSION_COOKIE,
  sessionHeaders,
  signInCookie,
  startAuthDashboard,
} from './support/access';
import { E2E_ROOT } from './support/e2e-env';
import { overflowingElements } from './support/layout';
import { etcdctlOn, freshCluster } from './support/local-stack';
import { waitForStatus } from './support/status-api';

const ROOT = path.join(E2E_ROOT, 'maintenance');
const PORT = 3210;
const BASE = `http://127.0.0.1:${PORT}`;
const CLUSTER = 'mt';
const PASSWORD = { otto: 'otto-operator-password-maint', vera: 'vera-viewer-password-maint' } as const;

let cluster: LocalCluster;
let dashboard: DashboardProcess;

test.use({ baseURL: BASE });

test.beforeAll(async () => {
  test.setTimeout(120_000);
  cluster = freshCluster(ROOT, { basePort: 24900, name: 'mt' });
  const [, ottoHash, veraHash] = await Promise.all([
    cluster.start(),
    hashPasswordWithCli(PASSWORD.otto),
    hashPasswordWithCli(PASSWORD.vera),
  ]);
  // 8 MiB written and deleted, then compacted away: free pages that a defragment gives back to the disk.
  const value = randomBytes(384 * 1024).toString('base64');
  for (let i = 0; i < 16; i++) etcdctlOn(cluster, ['put', `/registry/configmaps/default/big-${i}`], value);
  etcdctlOn(cluster, ['del', '--prefix', '/registry/configmaps/default/big-']);
  const { header } = JSON.parse(etcdctlOn(cluster, ['get', 'anything', '-w', 'json'])) as {
    header: { revision: number };
  };
  etcdctlOn(cluster, ['compact', String(header.revision)]);

  const c = cluster.state;
  const config = path.join(ROOT, 'dashboard.yaml');
  writeFileSync(
    config,
    stringify({
      auth: {
        users: [
          { username: 'otto', role: 'operator', passwordHash: ottoHash },
          { username: 'vera', role: 'viewer', passwordHash: veraHash },
        ],
      },
      clusters: [
        {
          id: CLUSTER,
          name: 'Maintenance e2e',
          endpoints: c.members.map((m) => m.clientUrl),
          tls: { ca: c.caCert, cert: c.clientCert, key: c.clientKey },
          maintenance: { pauseBetweenMembersSeconds: 1, consistencyCheckMinutes: 0.05 },
        },
      ],
    }),
  );
  dashboard = await startAuthDashboard({ port: PORT, name: 'maintenance', env: { ETCD_DASHBOARD_CONFIG: config } });
});

test.afterAll(async () => {
  await dashboard?.stop();
  await cluster?.stop();
});

async function signedIn(context: BrowserContext, user: keyof typeof PASSWORD): Promise<void> {
  const value = await signInCookie(BASE, user, PASSWORD[user]);
  await context.addCookies([{ name: SESSION_COOKIE, value, url: BASE }]);
}

/** Every member healthy, none defragmenting, a leader: what a run's gates want before it starts. */
async function healthyCluster(page: Page) {
  const { status } = await waitForStatus(
    page.request,
    (s) =>
      !s.stale &&
      s.quorum.state === 'healthy' &&
      s.leader !== null &&
      s.members.every((m) => m.health === 'healthy' && !m.defragmenting),
    20_000,
    CLUSTER,
  );
  return status;
}

/** Presses Start and returns what the POST answered: the run's id (202), or the refusal's status. */
async function pressStart(page: Page): Promise<{ status: number; id: string | null }> {
  const [res] = await Promise.all([
    // The plan is asked of the same URL (dryRun): only the start's answer counts, whichever arrives first.
    page.waitForResponse(
      (r) =>
        r.request().method() === 'POST' &&
        new URL(r.url()).pathname === `/api/clusters/${CLUSTER}/maintenance` &&
        (r.request().postDataJSON() as { dryRun?: boolean } | null)?.dryRun !== true,
    ),
    page.getByTestId('maintenance-start').click(),
  ]);
  return { status: res.status(), id: res.status() === 202 ? ((await res.json()) as MaintenanceRun).id : null };
}

const runPanel = (page: Page, id: string) => page.locator(`[data-testid=maintenance-run][data-run-id="${id}"]`);

async function waitRunEnded(page: Page, runId: string): Promise<MaintenanceRun> {
  let run: MaintenanceRun | undefined;
  await expect
    .poll(
      async () => {
        run = (await (
          await page.request.get(`/api/clusters/${CLUSTER}/maintenance/${runId}`)
        ).json()) as MaintenanceRun;
        return run.state;
      },
      { timeout: 60_000, intervals: [200] },
    )
    .not.toBe('running');
  return run as MaintenanceRun;
}

test('an operator plans a rolling defragment (leader last), starts it and follows every step to the end', async ({
  page,
}, testInfo) => {
  await page.goto('/maintenance');
  await expect(page).toHaveURL(/\/login\?next=%2Fmaintenance/);
  await page.getByLabel('Username').fill('otto');
  await page.getByLabel('Password').fill(PASSWORD.otto);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${BASE}/maintenance`);
  await expect(
    page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Maintenance' }),
  ).toHaveAttribute('aria-current', 'page');

  // The members are compared every 3 s: the card says they agree, at which revision and when.
  const card = page.getByTestId('consistency-card');
  await expect(card).toHaveAttribute('data-verdict', 'agree', { timeout: 20_000 });
  await expect(card).toContainText(/Members agree at revision [\d,]+ · checked \d+ s ago/);

  const status = await healthyCluster(page);
  const leader = status.leader!.name;
  const followers = status.members
    .map((m) => m.name)
    .filter((n) => n !== leader)
    .sort((a, b) => a.localeCompare(b));

  await expect(page.getByTestId('maintenance-action')).toHaveValue('defragment');
  await page.getByTestId('maintenance-plan-button').click();
  const plan = page.getByTestId('maintenance-plan');
  await expect(plan).toHaveAttribute('data-refused', 'false');
  const steps = plan.getByTestId('plan-step');
  await expect(steps).toHaveCount(3);
  // Followers first, the leader last, each with the space it should give back.
  await expect(steps.nth(2)).toHaveAttribute('data-member', leader);
  await expect(steps.nth(2).getByTestId('plan-step-detail')).toHaveText('the leader, last');
  for (const i of [0, 1]) {
    await expect(steps.nth(i)).toHaveAttribute('data-member', followers[i]!);
    await expect(steps.nth(i).getByTestId('plan-step-detail')).toHaveText('a follower');
  }
  for (const i of [0, 1, 2]) await expect(steps.nth(i)).toContainText(/≈ [\d.]+ MiB to reclaim/);
  await expect(plan).toContainText('followers first, the leader last');
  await expect(page.getByTestId('plan-refusal')).toHaveCount(0);

  await expect(page.getByTestId('maintenance-start')).toBeEnabled();
  const started = await pressStart(page);
  expect(started.status).toBe(202);
  const runId = started.id!;
  const run = runPanel(page, runId);
  await expect(run).toBeVisible();
  // While it runs: Cancel, with what it does and does not stop; the first member done while the others wait.
  await expect(page.getByTestId('maintenance-cancel')).toBeVisible();
  await expect(run).toContainText('never in the middle of one');
  await expect(
    page
      .locator(`[data-testid=maintenance-run][data-run-id="${runId}"][data-state=running]`)
      .locator('[data-testid=run-step][data-state=succeeded]')
      .first(),
  ).toBeVisible({ timeout: 30_000 });

  await expect(run).toHaveAttribute('data-state', 'succeeded', { timeout: 60_000 });
  const runSteps = run.getByTestId('run-step');
  await expect(runSteps).toHaveCount(3);
  await expect(runSteps.nth(2)).toHaveAttribute('data-member', leader);
  for (const i of [0, 1, 2]) {
    await expect(runSteps.nth(i)).toHaveAttribute('data-state', 'succeeded');
    await expect(runSteps.nth(i).getByTestId('run-step-sizes')).toContainText(
      /DB [\d.]+ MiB .*→ [\d.]+ MiB, reclaimed/,
    );
  }
  await expect(run.getByTestId('run-step-error')).toHaveCount(0);
  await expect(run.getByTestId('run-outcome')).toContainText('Succeeded in');
  await expect(page.getByTestId('maintenance-cancel')).toHaveCount(0);

  const row = page.locator(`[data-testid=maintenance-run-row][data-run-id="${runId}"]`);
  await expect(row).toHaveAttribute('data-state', 'succeeded');
  await expect(row).toContainText('Defragment');
  await expect(row).toContainText('otto');
  await expect(page.getByTestId('maintenance-run-row').first()).toHaveAttribute('data-run-id', runId);

  // On a phone at 3 a.m.: the form, the finished run and the history fit the width (the table scrolls in its box).
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await overflowingElements(page), 'elements past the right edge at 390 px').toEqual([]);
  await page.screenshot({ path: testInfo.outputPath('maintenance-390.png'), fullPage: true });
  await testInfo.attach('maintenance-390', {
    path: testInfo.outputPath('maintenance-390.png'),
    contentType: 'image/png',
  });
});

test('Start shows a 409 refusal with its reason; Cancel stops the run between steps', async ({ page, context }) => {
  await signedIn(context, 'otto');
  await healthyCluster(page);
  await page.goto('/maintenance');
  await page.getByTestId('maintenance-plan-button').click();
  await expect(page.getByTestId('maintenance-plan')).toHaveAttribute('data-refused', 'false');

  // Someone else starts a run between this plan and its Start: the dashboard refuses the second one.
  const other = await page.request.post(`/api/clusters/${CLUSTER}/maintenance`, {
    data: { action: 'defragment' },
    headers: { Origin: BASE },
  });
  expect(other.status(), await other.text()).toBe(202);
  const otherId = ((await other.json()) as MaintenanceRun).id;
  expect((await pressStart(page)).status).toBe(409);
  const refused = page.getByTestId('start-error');
  await expect(refused).toContainText('another maintenance run is in progress for this cluster');
  await expect(refused).toContainText('409 maintenance_running');
  // Everyone sees the run in progress, whoever started it.
  await expect(runPanel(page, otherId)).toBeVisible();
  expect((await waitRunEnded(page, otherId)).state).toBe('succeeded');

  await healthyCluster(page);
  await page.getByTestId('maintenance-plan-button').click();
  await expect(page.getByTestId('maintenance-plan')).toHaveAttribute('data-refused', 'false');
  const started = await pressStart(page);
  expect(started.status).toBe(202);
  const run = runPanel(page, started.id!);
  await page.getByTestId('maintenance-cancel').click();
  await expect(run).toHaveAttribute('data-state', 'canceled', { timeout: 30_000 });
  await expect(run.getByTestId('run-outcome')).toContainText(/canceled by request before step [23] of 3/);
  // The member in progress finished its defragment; no member after it was touched (the leader, last, never is).
  await expect(run.locator('[data-testid=run-step][data-state=succeeded]').first()).toBeVisible();
  await expect(run.getByTestId('run-step').last()).toHaveAttribute('data-state', 'canceled');
  await expect(run.getByTestId('run-step').last()).toContainText('the leader, last');
  await expect(page.locator(`[data-testid=maintenance-run-row][data-run-id="${started.id}"]`)).toHaveAttribute(
    'data-state',
    'canceled',
  );
});

test('a viewer sees the history and the consistency check but no actions; the API refuses their POST', async ({
  page,
  context,
}) => {
  await signedIn(context, 'vera');
  await page.goto('/maintenance');
  await expect(page.getByTestId('maintenance-viewer-note')).toBeVisible();
  await expect(page.getByTestId('consistency-card')).not.toHaveAttribute('data-verdict', 'loading');
  await expect(page.getByTestId('maintenance-run-row').first()).toBeVisible();
  await expect(page.locator('[data-testid=maintenance-run-row][data-action=defragment]').first()).toContainText('otto');
  await expect(page.getByTestId('maintenance-plan-button')).toHaveCount(0);
  await expect(page.getByTestId('maintenance-start')).toHaveCount(0);
  await expect(page.getByTestId('consistency-check-now')).toHaveCount(0);

  const cookie = (await context.cookies(BASE)).find((c) => c.name === SESSION_COOKIE)!.value;
  for (const data of [{ action: 'defragment' }, { action: 'defragment', dryRun: true }]) {
    const res = await page.request.post(`/api/clusters/${CLUSTER}/maintenance`, {
      data,
      headers: sessionHeaders(BASE, cookie),
    });
    await expectApiError(res, 403, 'forbidden', `viewer POST ${JSON.stringify(data)}`);
  }
});

test('moving the leader from the page moves it on the overview', async ({ page, context }) => {
  await signedIn(context, 'otto');
  const before = await healthyCluster(page);
  const target = before.members.find((m) => !m.status?.isLeader && m.id !== null)!;
  await page.goto('/maintenance');
  await page.getByTestId('maintenance-action').selectOption('move-leader');
  await page.getByTestId('maintenance-target').selectOption(target.id!);
  await page.getByTestId('maintenance-plan-button').click();
  const step = page.getByTestId('plan-step');
  await expect(step).toHaveCount(1);
  await expect(step.getByTestId('plan-step-detail')).toHaveText(`from ${before.leader!.name} to ${target.name}`);
  const started = await pressStart(page);
  expect(started.status).toBe(202);
  const run = runPanel(page, started.id!);
  await expect(run).toHaveAttribute('data-state', 'succeeded', { timeout: 30_000 });
  await expect(run.getByTestId('run-step')).toContainText(`leader ${before.leader!.name} → ${target.name}`);

  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Overview' }).click();
  await expect(page.getByTestId('quorum-card')).toContainText(`Leader: ${target.name}`);
  await expect(page.locator(`[data-testid=member-row][data-member-name="${target.name}"]`)).toContainText('★ Leader');
  await expect(page.getByTestId('consistency-card')).toBeVisible();
});
