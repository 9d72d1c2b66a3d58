// No response, page or log line shows key material: every body this spec sees (the pages an admin uses, the API
// routes with their error answers, the logs of the dashboards and of refused configurations) is searched for
// "PRIVATE KEY" and for the base64 of the configured client key, client certificate and CA.
import { expect, request, test, type APIRequestContext } from '@playwright/test';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import { LocalCluster, type LocalClusterState } from '../scripts/lib/local-cluster';
import { SERIES_NAMES } from '../lib/history/series';
import { bearer, hashPasswordWithCli, sessionHeaders, signInCookie, startAuthDashboard } from './support/access';
import { writeDashboardConfig } from './support/config-file';
import { E2E_CLUSTER_DIR, E2E_ROOT } from './support/e2e-env';
import { BodyRecorder, findSecrets, secretNeedles, type Needle } from './support/secrets';

const PORT = 3199;
const CONFIG_ERROR_PORT = 3198;
const PASSWORD = { admin: 'admin-password-secrets-scan', vera: 'vera-password-secrets-scan' };

let cluster: LocalClusterState;
let dashboard: DashboardProcess;
let api: APIRequestContext;
let needles: Needle[];

test.beforeAll(async () => {
  cluster = LocalCluster.load(E2E_CLUSTER_DIR).state;
  needles = secretNeedles(
    { 'client key': cluster.clientKey, 'client certificate': cluster.clientCert, 'CA certificate': cluster.caCert },
    { 'the admin password': PASSWORD.admin, "vera's password": PASSWORD.vera },
  );
  const config = writeDashboardConfig(
    path.join(E2E_ROOT, 'secrets-dashboard.yaml'),
    [{ id: 'default', name: 'e2e', cluster }],
    { users: [{ username: 'vera', role: 'viewer', passwordHash: await hashPasswordWithCli(PASSWORD.vera) }] },
  );
  dashboard = await startAuthDashboard({
    port: PORT,
    name: 'secrets',
    env: { ETCD_DASHBOARD_CONFIG: config, DASHBOARD_ADMIN_PASSWORD: PASSWORD.admin, DASHBOARD_ANONYMOUS: '' },
  });
  api = await request.newContext();
});

test.afterAll(async () => {
  await api?.dispose();
  await dashboard?.stop();
});

test('the scan finds key material however it is written, and nothing in text without it', () => {
  const pem = readFileSync(cluster.clientKey, 'utf8');
  const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
  const middle = body[Math.floor(body.length / 2)]!;
  expect(findSecrets(pem, needles)).toEqual(expect.arrayContaining(['"PRIVATE KEY"', 'client key (whole body)']));
  // Inside a JSON answer, with its line breaks escaped, and without its header line.
  expect(findSecrets(JSON.stringify({ key: body.join('\n') }), needles)).toContain('client key (whole body)');
  // One line of it in a page.
  expect(findSecrets(`<pre>${middle}</pre>`, needles)).toEqual(['client key (a line)']);
  // The certificate files too.
  const cert = readFileSync(cluster.clientCert, 'utf8');
  expect(findSecrets(JSON.stringify({ pem: cert }), needles)).toContain('client certificate (whole body)');
  expect(findSecrets(`ca: ${readFileSync(cluster.caCert, 'utf8')}`, needles)).toContain('CA certificate (whole body)');
  expect(findSecrets(`{"password":"${PASSWORD.admin}"}`, needles)).toEqual(['the admin password']);
  // And nothing in what the dashboard legitimately says about its certificate and key files.
  expect(findSecrets(`{"clientCertificate":{"subject":"CN=dashboard"},"key":"${cluster.clientKey}"}`, needles)).toEqual(
    [],
  );
});

async function startAndExpectExit(name: string, env: Record<string, string>): Promise<string> {
  const refused = await startDashboard({
    port: CONFIG_ERROR_PORT,
    env: { ETCD_DASHBOARD_CONFIG: '', ...env },
    logFile: path.join(E2E_ROOT, `config-error-secrets-${name}.log`),
    waitReady: false,
  });
  const code = await Promise.race([
    refused.exited,
    new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 20_000).unref()),
  ]);
  if (code === 'running') await refused.stop();
  expect(code, `${name}: the server must stop on a bad configuration`).toBe(1);
  expect(refused.log(), name).toContain('configuration error');
  return refused.logFile;
}

test('no API answer, page or log shows a private key or the contents of the certificate files', async ({ page }) => {
  test.setTimeout(120_000);
  const rec = new BodyRecorder();
  const url = (p: string) => `${dashboard.url}${p}`;
  const json = (data: unknown, headers: Record<string, string> = {}) => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    data: JSON.stringify(data),
  });

  // Configurations that point the certificate settings at the key, and the key setting at a certificate: the
  // refusal names the files, never their contents.
  const { clientKey, clientCert, caCert } = cluster;
  const etcdctl = LocalCluster.load(E2E_CLUSTER_DIR).etcdctlEnv;
  const badConfig = path.join(E2E_ROOT, 'secrets-bad-dashboard.yaml');
  writeFileSync(
    badConfig,
    `clusters:\n  - id: prod\n    endpoints: [${cluster.members[0]!.clientUrl}]\n` +
      `    tls: { ca: ${clientKey}, cert: ${clientCert}, key: ${clientKey} }\n`,
  );
  const configErrorLogs = [
    await startAndExpectExit('key-as-ca', { ...etcdctl, ETCDCTL_CACERT: clientKey }),
    await startAndExpectExit('key-as-cert', { ...etcdctl, ETCDCTL_CERT: clientKey, ETCDCTL_KEY: clientCert }),
    await startAndExpectExit('ca-as-key', { ...etcdctl, ETCDCTL_KEY: caCert }),
    await startAndExpectExit('file-key-as-ca', { ETCD_DASHBOARD_CONFIG: badConfig }),
  ];

  // The API without identity, and the sign-in route's refusals.
  for (const p of ['/api/clusters', '/api/clusters/default/status', '/api/auth/me', '/api/tokens', '/api/audit']) {
    await rec.call(api, url(p));
  }
  await rec.call(api, url('/api/tokens'), json({ name: 'x', role: 'admin' }));
  await rec.call(api, url('/api/tokens/0123456789abcdef'), { method: 'DELETE' });
  await rec.call(api, url('/api/clusters'), { headers: bearer('etcdd_0123456789abcdef_not-a-real-token') });
  await rec.call(api, url('/api/clusters'), { headers: { Authorization: 'Basic YWRtaW46YWRtaW4=' } });
  await rec.call(api, url('/api/auth/login'), json({ username: 'admin', password: 'wrong password!' }));
  await rec.call(api, url('/api/auth/login'), json({ username: 'nobody-here', password: 'wrong password!' }));
  await rec.call(api, url('/api/auth/login'), json({ username: 'admin', password: PASSWORD.admin, extra: 1 }));
  await rec.call(api, url('/api/auth/login'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    data: '{"username": "admin", "password": ',
  });
  await rec.call(api, url('/api/auth/login'), { method: 'POST', data: 'username=admin' });
  await rec.call(
    api,
    url('/api/auth/login'),
    json({ username: 'admin', password: 'x' }, { Origin: 'http://evil.example' }),
  );
  await rec.call(api, url('/api/nope'));

  // A viewer, refused what needs admin.
  const vera = sessionHeaders(dashboard.url, await signInCookie(dashboard.url, 'vera', PASSWORD.vera));
  await rec.call(api, url('/api/clusters/default/status'), { headers: vera });
  await rec.call(api, url('/api/audit'), { headers: vera });
  await rec.call(api, url('/api/tokens'), json({ name: 'x', role: 'admin' }, vera));

  // An admin, everywhere, once the cluster has been polled (members, certificates in use, metrics).
  const admin = sessionHeaders(dashboard.url, await signInCookie(dashboard.url, 'admin', PASSWORD.admin));
  await expect
    .poll(
      async () =>
        (
          (await (await api.get(url('/api/clusters/default/status'), { headers: admin })).json()) as {
            quorum: { state: string };
          }
        ).quorum.state,
      { timeout: 20_000 },
    )
    .toBe('healthy');
  for (const p of [
    '/api/clusters',
    '/api/clusters/default/status',
    '/api/clusters/nope/status',
    '/api/auth/me',
    '/api/clusters/default/events?from=-1h',
    '/api/clusters/default/events?type=meteor_strike',
    '/api/clusters/default/history?series=bogus',
    '/api/clusters/default/history?series=probe_ms&from=yesterday',
    ...SERIES_NAMES.map((s) => `/api/clusters/default/history?series=${s}&from=-15m`),
  ]) {
    await rec.call(api, url(p), { headers: admin });
  }
  const created = await rec.call(
    api,
    url('/api/tokens'),
    json({ name: 'scan-bot', role: 'viewer', expiresAt: new Date(Date.now() + 86_400_000).toISOString() }, admin),
  );
  const { id } = (await created.json()) as { id: string };
  await rec.call(
    api,
    url('/api/tokens'),
    json({ name: 'late', role: 'viewer', expiresAt: '2001-01-01T00:00:00Z' }, admin),
  );
  await rec.call(api, url('/api/tokens'), json({ name: 'root', role: 'root' }, admin));
  await rec.call(
    api,
    url('/api/tokens'),
    json({ name: 'x', role: 'admin' }, { ...admin, Origin: 'http://evil.example' }),
  );
  await rec.call(api, url('/api/tokens'), { headers: admin });
  await rec.call(api, url(`/api/tokens/${id}`), { method: 'DELETE', headers: admin });
  await rec.call(api, url(`/api/tokens/${id}`), { method: 'DELETE', headers: admin });
  await rec.call(api, url('/api/tokens/../../etc/passwd'), { method: 'DELETE', headers: admin });
  for (const q of ['', '?outcome=denied', '?outcome=maybe', '?limit=0', '?from=yesterday']) {
    await rec.call(api, url(`/api/audit${q}`), { headers: admin });
  }
  await rec.call(api, url('/api/auth/logout'), { method: 'POST', headers: admin });

  // The pages, in Chromium, as an admin uses them.
  rec.watch(page);
  await page.goto(url('/'));
  await expect(page).toHaveURL(url('/login?next=%2F'));
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(PASSWORD.admin);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(url('/'));
  await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'healthy');
  await page.reload(); // the sign-in moved in-app (an RSC payload, recorded too); now the page as a whole document
  await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'healthy');
  await page.goto(url('/history'));
  await expect(page.getByTestId('chart-probe_ms')).not.toHaveAttribute('data-points', '0');
  await page.goto(url('/tokens'));
  await page.getByRole('form', { name: 'New API token' }).getByLabel('Name').fill('scan-ui-bot');
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByTestId('new-token')).toContainText('etcdd_');
  await page.goto(url('/audit'));
  await expect(page.getByTestId('audit-row').first()).toBeVisible();
  await page.goto(url('/no-such-page'));
  await page.goto(url('/login'));
  await rec.settle();

  // It saw what it was meant to see.
  const documents = rec.seen
    .filter((s) => s.kind === 'document' && s.status === 200)
    .map((s) => new URL(s.url).pathname);
  expect(documents).toEqual(expect.arrayContaining(['/', '/history', '/login', '/tokens', '/audit']));
  const statuses = new Set(rec.seen.filter((s) => new URL(s.url).pathname.startsWith('/api/')).map((s) => s.status));
  expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 201, 400, 401, 403, 404, 409]));
  expect(rec.seen.filter((s) => s.kind === 'fetch' && s.url.includes('/api/')).length).toBeGreaterThan(3);
  expect(rec.seen.filter((s) => s.kind === 'script').length).toBeGreaterThan(3);
  test.info().annotations.push({ type: 'bodies-scanned', description: String(rec.seen.length) });

  const leaks = rec.seen.flatMap((s) => findSecrets(s.body, needles).map((label) => `${s.what}: ${label}`));
  expect(leaks).toEqual([]);

  // Every dashboard log under E2E_ROOT: this one, the suite's, other specs' and the refusals above (etcd's own
  // member logs, in members/ folders, are not the dashboard's).
  const logs = readdirSync(E2E_ROOT, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.log') && !f.split(path.sep).includes('members'))
    .map((f) => path.join(E2E_ROOT, f));
  expect(logs).toEqual(expect.arrayContaining([dashboard.logFile, ...configErrorLogs]));
  const logLeaks = logs.flatMap((f) =>
    findSecrets(readFileSync(f, 'utf8'), needles).map((label) => `${path.basename(f)}: ${label}`),
  );
  expect(logLeaks).toEqual([]);
});
