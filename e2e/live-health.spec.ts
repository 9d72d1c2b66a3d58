// The live view against a real 3-member mTLS cluster: members stopped and started by PID.
import { expect, test } from '@playwright/test';
import path from 'node:path';
import { LocalCluster } from '../scripts/lib/local-cluster';
import { CertificateAuthority } from '../scripts/lib/pki';
import { startDashboard } from '../scripts/lib/dashboard-process';
import { E2E_CLUSTER_DIR, E2E_EXTRA_DASHBOARD_PORT, E2E_ROOT } from './support/e2e-env';
import { readStatus, waitForStatus } from './support/status-api';

const cluster = () => LocalCluster.load(E2E_CLUSTER_DIR);

test.afterEach(async () => {
  // Leave the cluster whole for the next test, whatever this one did.
  const c = cluster();
  for (let i = 0; i < c.state.members.length; i++) c.startMember(i);
  await c.waitHealthy(30_000);
});

test('a healthy cluster shows healthy quorum, a leader and three healthy members', async ({ page, request }) => {
  await waitForStatus(request, (s) => s.quorum.state === 'healthy', 10_000);
  const status = await readStatus(request);
  expect(status.stale).toBe(false);
  expect(status.quorum).toEqual({ members: 3, voting: 3, healthy: 3, required: 2, tolerance: 1, state: 'healthy' });
  expect(status.leader).not.toBeNull();
  // Member ids are the hex strings etcdctl prints.
  for (const m of status.members) expect(m.id).toMatch(/^[0-9a-f]{1,16}$/);
  expect(status.members.filter((m) => m.status?.isLeader)).toHaveLength(1);

  await page.goto('/');
  await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'healthy');
  await expect(page.getByTestId('quorum-summary')).toHaveText('3 of 3 healthy, quorum 2, can lose 1 more');
  await expect(page.getByTestId('member-row')).toHaveCount(3);
  await expect(page.locator('[data-testid=member-row][data-health=healthy]')).toHaveCount(3);
  await expect(page.getByTestId('freshness')).toHaveAttribute('data-fresh', 'true');
  await expect(page.getByText(`Leader: ${status.leader!.name}`)).toBeVisible();
});

test('stopping one member, then a second, then starting both: at-risk, lost, healthy', async ({ page, request }) => {
  const c = cluster();
  await page.goto('/');
  await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'healthy');

  // Stop a follower, so the leader stays and the verdict is about quorum only.
  const before = await readStatus(request);
  const followerName = before.members.find((m) => !m.status?.isLeader)!.name;
  const first = c.indexOfName(followerName);
  const stoppedAt = Date.now();
  await c.stopMember(first, 'SIGKILL');
  const atRisk = await waitForStatus(
    request,
    (s) => s.quorum.state === 'at-risk' && s.members.find((m) => m.name === followerName)?.health === 'unreachable',
    3_000,
  );
  test
    .info()
    .annotations.push({ type: 'detect-ms', description: `one member down → at-risk in ${Date.now() - stoppedAt} ms` });
  expect(atRisk.status.quorum).toMatchObject({ healthy: 2, required: 2, tolerance: 0 });
  // A SIGKILLed member refuses new connections; a read already in flight on the old one is reset or dropped instead.
  expect(atRisk.status.members.find((m) => m.name === followerName)?.error).toMatch(
    /refused|reset|unavailable|closed|dropped/i,
  );
  await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'at-risk', { timeout: 3_000 });
  await expect(page.getByTestId('quorum-summary')).toHaveText('2 of 3 healthy, quorum 2, can lose 0 more');
  await expect(page.locator(`[data-testid=member-row][data-member-name="${followerName}"]`)).toHaveAttribute(
    'data-health',
    'unreachable',
  );

  // A second member: quorum is gone.
  const second = c.state.members.findIndex((m, i) => i !== first && m.name !== atRisk.status.leader?.name);
  await c.stopMember(second, 'SIGKILL');
  const lost = await waitForStatus(request, (s) => s.quorum.state === 'lost', 5_000);
  expect(lost.status.quorum.healthy).toBeLessThan(2);
  await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'lost', { timeout: 5_000 });
  await expect(page.getByTestId('quorum-state')).toContainText('Quorum lost');

  // Both back: healthy again, without touching the page.
  c.startMember(first);
  c.startMember(second);
  await waitForStatus(request, (s) => s.quorum.state === 'healthy', 20_000);
  await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'healthy', { timeout: 5_000 });
  await expect(page.locator('[data-testid=member-row][data-health=healthy]')).toHaveCount(3);
});

test('a dashboard given the wrong CA stays up and shows every member unreachable with a TLS reason', async ({
  browser,
}) => {
  const c = cluster();
  const wrongCa = CertificateAuthority.create(path.join(E2E_ROOT, 'wrong-ca'), 'an unrelated CA');
  const dashboard = await startDashboard({
    port: E2E_EXTRA_DASHBOARD_PORT,
    env: { ...c.etcdctlEnv, ETCDCTL_CACERT: wrongCa.cert, DASHBOARD_ANONYMOUS: 'viewer' },
    logFile: path.join(E2E_ROOT, 'dashboard-wrong-ca.log'),
  });
  try {
    const page = await browser.newPage({ baseURL: dashboard.url });
    const deadline = Date.now() + 5_000;
    let body: { quorum: { state: string }; members: Array<{ health: string; error: string | null }> } | null = null;
    while (Date.now() < deadline) {
      const res = await page.request.get('/api/clusters/default/status');
      expect(res.status()).toBe(200);
      body = await res.json();
      if (body && body.members.length === 3 && body.members.every((m) => m.health === 'unreachable')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(body?.members).toHaveLength(3);
    for (const m of body!.members) {
      expect(m.health).toBe('unreachable');
      expect(m.error).toMatch(/^TLS handshake failed: /);
    }
    expect(body?.quorum.state).toBe('lost');

    await page.goto('/');
    await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'lost');
    await expect(page.locator('[data-testid=member-row][data-health=unreachable]')).toHaveCount(3);
    await expect(page.getByTestId('member-error').first()).toContainText('TLS handshake failed');
    await page.close();
  } finally {
    await dashboard.stop();
  }
});
