// Alerts against a real cluster: two members stopped → "no leader" and "insufficient members" fire after their
// for-durations and reach a webhook receiver on loopback; members back → both resolve and the resolved notifications
// arrive. The same cluster holds plain and encrypted Kubernetes Secrets: the census counts them, never shows them.
import { expect, request, test, type APIRequestContext } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { LocalCluster } from '../scripts/lib/local-cluster';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import { startReceiver, type TestReceiver } from '../test/support/test-receiver';
import type { AlertsResponse, AlertView } from '../lib/alerts/alert-types';
import type { WebhookBody } from '../lib/alerts/notify/receiver-request';
import type { DeliveryRecord } from '../lib/alerts/notify/notification-types';
import { writeDashboardConfig } from './support/config-file';
import { E2E_ROOT } from './support/e2e-env';
import { waitForStatus } from './support/status-api';

const ROOT = path.join(E2E_ROOT, 'alerts');
const CLUSTER_ID = 'alerting';
/** Every value under /registry/secrets carries it: it must never leave the server. */
const MARKER = `SECRET-VALUE-${randomBytes(6).toString('hex')}`;

let cluster: LocalCluster;
let dashboard: DashboardProcess;
let receiver: TestReceiver;
let api: APIRequestContext;

function putRaw(key: string, value: Buffer): void {
  // Without a value argument, etcdctl reads the value from standard input: binary values (k8s\0…) pass unchanged.
  execFileSync(cluster.binaries.etcdctl, ['put', key], {
    input: value,
    env: { ...process.env, ...cluster.etcdctlEnv },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
}

test.beforeAll(async () => {
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  receiver = await startReceiver();
  cluster = LocalCluster.create({ dir: path.join(ROOT, 'cluster'), members: 3, basePort: 25400, name: 'alerting' });
  await cluster.start();
  // 2 stored plain (protobuf and JSON), 3 encrypted (2 aescbc, 1 kms).
  putRaw(
    '/registry/secrets/default/plain-proto',
    Buffer.concat([Buffer.from('k8s\0\n\x0cv1\x12\x06Secret'), Buffer.from(MARKER)]),
  );
  putRaw('/registry/secrets/default/plain-json', Buffer.from(JSON.stringify({ kind: 'Secret', data: { v: MARKER } })));
  putRaw('/registry/secrets/kube-system/enc-1', Buffer.from(`k8s:enc:aescbc:v1:key1:${MARKER}`));
  putRaw('/registry/secrets/kube-system/enc-2', Buffer.from(`k8s:enc:aescbc:v1:key1:${MARKER}x`));
  putRaw('/registry/secrets/prod/enc-3', Buffer.from(`k8s:enc:kms:v1:vault:${MARKER}`));
  const config = writeDashboardConfig(path.join(ROOT, 'dashboard.yaml'), [
    {
      id: CLUSTER_ID,
      name: 'Alerting',
      cluster: cluster.state,
      alerts: {
        receivers: [{ type: 'webhook', name: 'loopback hook', url: `${receiver.origin}/hooks/etcd` }],
        // The test PKI's certificates last a year (the CA ten): a 100-year warning window makes every one of them
        // "expiring", so the whole path from TLS handshake to alert is exercised.
        thresholds: { certWarnDays: 36_500 },
      },
    },
  ]);
  dashboard = await startDashboard({
    port: 3196,
    env: { ETCD_DASHBOARD_CONFIG: config, DASHBOARD_ANONYMOUS: 'viewer' },
    logFile: path.join(ROOT, 'dashboard.log'),
  });
  api = await request.newContext({ baseURL: dashboard.url });
});

test.afterAll(async () => {
  await api?.dispose();
  await dashboard?.stop();
  await cluster?.stop();
  await receiver?.close();
});

async function alerts(): Promise<AlertView[]> {
  const res = await api.get(`/api/alerts?cluster=${CLUSTER_ID}`);
  expect(res.status()).toBe(200);
  return ((await res.json()) as AlertsResponse).alerts;
}

/** The alerts the receiver was sent, in arrival order. */
function delivered(): WebhookBody['alerts'] {
  return receiver.requests.flatMap((r) => (r.body as WebhookBody).alerts ?? []);
}

/** The quorum alerts (no leader, insufficient members) in `state`, by rule name, sorted. */
function quorumRules(list: Array<{ rule: string; state: string }>, state: 'firing' | 'resolved'): string[] {
  return list
    .filter((a) => a.state === state && ['no_leader', 'insufficient_members'].includes(a.rule))
    .map((a) => a.rule)
    .sort();
}

test('Secrets stored plain are counted against encrypted ones, alerted on, and their values never leave the server', async ({
  page,
}) => {
  const { status } = await waitForStatus(api, (s) => s.secretsAtRest !== null, 20_000, CLUSTER_ID);
  expect(status.secretsAtRest).toMatchObject({ total: 5, encrypted: 3, plain: 2, byProvider: { aescbc: 2, kms: 1 } });
  await expect
    .poll(async () => (await alerts()).find((a) => a.rule === 'secrets_plaintext' && a.state === 'firing')?.summary, {
      timeout: 15_000,
    })
    .toBe('2 of 5 Secrets are stored unencrypted in etcd');

  await page.goto(`${dashboard.url}/?cluster=${CLUSTER_ID}`);
  await expect(page.getByTestId('secrets-at-rest')).toContainText(
    '3 of 5 Kubernetes Secrets encrypted at rest (aescbc 2, kms 1) — 2 stored plain',
  );
  const alert = page.locator('[data-testid="alert"][data-rule="secrets_plaintext"]');
  await expect(alert).toContainText('EncryptionConfiguration');
  // Nothing the browser got, and no line the dashboard logged, holds a value.
  expect(await page.content()).not.toContain(MARKER);
  for (const url of ['/api/alerts', `/api/clusters/${CLUSTER_ID}/status`, '/api/noc']) {
    expect(await (await api.get(url)).text(), url).not.toContain(MARKER);
  }
  expect(dashboard.log()).not.toContain(MARKER);
  expect(JSON.stringify(receiver.requests.map((r) => r.body))).not.toContain(MARKER);
});

test('certificate expiry: each member’s server certificate as its TLS handshake presents it, the client certificate and the CA', async () => {
  const expected = cluster.state.members.map((m) => {
    const end = execFileSync('openssl', ['x509', '-in', m.serverCert, '-noout', '-enddate'], { encoding: 'utf8' });
    return { name: m.name, date: new Date(end.trim().replace('notAfter=', '')).toISOString().slice(0, 10) };
  });
  let certs: AlertView[] = [];
  await expect
    .poll(
      async () => {
        certs = (await alerts()).filter((a) => a.rule === 'cert_expiring' && a.state === 'firing');
        return certs.length;
      },
      { timeout: 20_000, intervals: [250] },
    )
    .toBe(5);
  for (const { name, date } of expected) {
    const alert = certs.find((a) => a.summary.startsWith(`${name}'s server certificate expires in`));
    expect(alert, name).toBeDefined();
    expect(alert!.summary).toContain(`(${date})`);
    expect(alert!.severity).toBe('warning');
    expect(alert!.memberId).toMatch(/^[0-9a-f]+$/);
  }
  expect(certs.some((a) => a.summary.startsWith("the dashboard's client certificate expires in"))).toBe(true);
  expect(certs.some((a) => a.summary.startsWith('the CA certificate expires in'))).toBe(true);
});

test('two members stopped: no leader and insufficient members fire and are delivered; back: both resolve', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await waitForStatus(api, (s) => s.quorum.state === 'healthy' && s.quorum.healthy === 3, 20_000, CLUSTER_ID);
  expect((await alerts()).filter((a) => a.state !== 'resolved').map((a) => a.rule)).not.toContain('no_leader');

  const stoppedAt = Date.now();
  await cluster.stopMember(1, 'SIGKILL');
  await cluster.stopMember(2, 'SIGKILL');

  // Pending first, firing once the for-duration (10 s for no leader, 5 s for insufficient members) has held.
  await expect
    .poll(async () => quorumRules(await alerts(), 'firing'), { timeout: 40_000, intervals: [250] })
    .toEqual(['insufficient_members', 'no_leader']);
  const firing = (await alerts()).filter((a) => a.state === 'firing');
  const noLeader = firing.find((a) => a.rule === 'no_leader')!;
  expect(noLeader).toMatchObject({ clusterId: CLUSTER_ID, severity: 'critical', memberId: null });
  expect(Date.parse(noLeader.since) - stoppedAt).toBeGreaterThanOrEqual(10_000);
  // The member left running has no leader either, so its health read fails too, as `etcdctl endpoint health` says.
  expect(firing.find((a) => a.rule === 'insufficient_members')!.summary).toBe(
    '0 of 3 voting members healthy, quorum needs 2',
  );
  // Each stopped member is down, by name; the one left running is not (it is only leaderless).
  expect(
    firing
      .filter((a) => a.rule === 'member_down')
      .map((a) => a.memberName)
      .sort(),
  ).toEqual(['alerting-m1', 'alerting-m2']);

  await expect.poll(() => quorumRules(delivered(), 'firing')).toEqual(['insufficient_members', 'no_leader']);
  const sent = delivered().find((a) => a.rule === 'no_leader' && a.state === 'firing')!;
  expect(sent).toMatchObject({ id: noLeader.id, clusterId: CLUSTER_ID, clusterName: 'Alerting', severity: 'critical' });
  expect(sent.advice).toContain('majority of members');
  // No DASHBOARD_URL here: no links in the notification, and the log said so at start.
  expect(sent).toMatchObject({ alertname: 'etcdDashboardNoLeader', dashboardUrl: null, runbookUrl: null });
  expect(dashboard.log()).toContain(
    'DASHBOARD_URL is not set: alert notifications carry no link back to the dashboard',
  );
  expect(receiver.requests[0]!.url).toBe('/hooks/etcd');
  expect(receiver.requests[0]!.headers['content-type']).toContain('application/json');

  await page.goto(`${dashboard.url}/?cluster=${CLUSTER_ID}`);
  await expect(page.locator('[data-testid="alert"][data-rule="no_leader"][data-state="firing"]')).toContainText(
    'no member knows a leader',
  );
  await expect(
    page.locator('[data-testid="alert"][data-rule="no_leader"]').getByRole('link', { name: 'Runbook' }),
  ).toHaveAttribute('href', '/runbooks#etcdDashboardNoLeader');

  cluster.startMember(1);
  cluster.startMember(2);
  await expect
    .poll(async () => quorumRules(await alerts(), 'resolved'), { timeout: 40_000, intervals: [250] })
    .toEqual(['insufficient_members', 'no_leader']);
  expect((await alerts()).filter((a) => a.state !== 'resolved').map((a) => a.rule)).not.toContain('no_leader');
  await expect.poll(() => quorumRules(delivered(), 'resolved')).toEqual(['insufficient_members', 'no_leader']);
  const resolved = delivered().find((a) => a.rule === 'no_leader' && a.state === 'resolved')!;
  expect(resolved.id).toBe(noLeader.id);
  expect(Date.parse(resolved.endsAt!)).toBeGreaterThan(Date.parse(resolved.since));

  const res = await api.get(`/api/clusters/${CLUSTER_ID}/alerts/deliveries`);
  const records = ((await res.json()) as { deliveries: DeliveryRecord[] }).deliveries;
  expect(records.filter((r) => r.alertId === noLeader.id).map((r) => [r.state, r.outcome])).toEqual(
    expect.arrayContaining([
      ['firing', 'ok'],
      ['resolved', 'ok'],
    ]),
  );
  await expect(page.locator('[data-testid="alert"][data-rule="no_leader"]')).toHaveCount(0, { timeout: 10_000 });
});

test('a receiver that fails is retried and the failing delivery is shown on the page', async ({ page }) => {
  test.setTimeout(90_000);
  receiver.answer = () => ({ status: 503, body: 'maintenance' });
  const before = receiver.requests.length;
  await cluster.stopMember(2, 'SIGKILL');
  try {
    await expect
      .poll(() => receiver.requests.length - before, { timeout: 40_000, intervals: [250] })
      .toBeGreaterThanOrEqual(2);
    await page.goto(`${dashboard.url}/?cluster=${CLUSTER_ID}`);
    await expect(page.getByTestId('delivery-failures')).toContainText('loopback hook: ', { timeout: 15_000 });
    await expect(page.getByTestId('delivery-failures')).toContainText('503');
  } finally {
    receiver.answer = () => ({ status: 200, body: 'ok' });
    cluster.startMember(2);
  }
  await waitForStatus(api, (s) => s.quorum.healthy === 3, 30_000, CLUSTER_ID);
});

test('alerts are kept across a dashboard restart: a firing alert keeps its id and its since', async () => {
  test.setTimeout(90_000);
  const before = (await alerts()).find((a) => a.rule === 'secrets_plaintext' && a.state === 'firing');
  expect(before, 'the plain Secrets alert fires before the restart').toBeDefined();
  await dashboard.stop();
  dashboard = await startDashboard({
    port: 3196,
    env: { ETCD_DASHBOARD_CONFIG: path.join(ROOT, 'dashboard.yaml'), DASHBOARD_ANONYMOUS: 'viewer' },
    logFile: path.join(ROOT, 'dashboard.log'),
  });
  // Right after the start, before a census has run again, the alert is still there, firing since the same time.
  const after = (await alerts()).find((a) => a.rule === 'secrets_plaintext');
  expect(after).toMatchObject({ id: before!.id, state: 'firing', since: before!.since });
  // Until the census has run again the count is unknown, which must not read as "resolved"; once it has, the same
  // alert is still firing: never a resolved-then-fired-again pair.
  await waitForStatus(api, (s) => s.secretsAtRest !== null, 20_000, CLUSTER_ID);
  const mine = (await alerts()).filter((a) => a.rule === 'secrets_plaintext');
  expect(mine.map((a) => [a.id, a.state])).toEqual([[before!.id, 'firing']]);
  expect(mine[0]!.since).toBe(before!.since);
});

test('the alert history outlives the restart: what fired, when, and for how long, in the API and on /history', async ({
  page,
}) => {
  const res = await api.get(`/api/alerts?cluster=${CLUSTER_ID}&from=-1h`);
  expect(res.status()).toBe(200);
  const history = ((await res.json()) as AlertsResponse).alerts;
  const noLeader = history.find((a) => a.rule === 'no_leader');
  expect(noLeader).toMatchObject({ state: 'resolved', severity: 'critical', clusterId: CLUSTER_ID });
  expect(Date.parse(noLeader!.resolvedAt!)).toBeGreaterThan(Date.parse(noLeader!.firedAt!));
  expect(history.find((a) => a.rule === 'secrets_plaintext')).toMatchObject({ state: 'firing', resolvedAt: null });

  const bad = await api.get(`/api/alerts?cluster=${CLUSTER_ID}&from=yesterday`);
  expect(bad.status()).toBe(400);
  expect(await bad.text()).toContain('from: \\"yesterday\\" is not an ISO time');

  await page.goto(`${dashboard.url}/history?cluster=${CLUSTER_ID}&range=1h`);
  const item = page.locator('[data-testid="alert-history-item"][data-rule="no_leader"]');
  await expect(item).toContainText('CRITICAL · no member knows a leader');
  await expect(item).toContainText('resolved');
});
