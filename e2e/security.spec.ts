// The attacks of the security review (issue 20) that need a running dashboard and a real cluster, against the
// production server: a snapshot file swapped for a link to a key file, links and hard links planted in the snapshot
// folder for adoption at start, HEAD and refused downloads in the audit log, a flood of refused requests, a body sent
// a byte at a time, absolute paths shown to anonymous viewers, and the env admin outliving its variable.
import { expect, request, test, type APIRequestContext } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  linkSync,
  lstatSync,
  statSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import type { AuditEntry } from '../lib/auth/audit-log';
import type { SnapshotRecord } from '../lib/snapshots/snapshot-types';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import { LocalCluster } from '../scripts/lib/local-cluster';
import { expectApiError, readAudit, signInCookie, sessionHeaders } from './support/access';
import { E2E_ROOT } from './support/e2e-env';

const PORT = 3300;
const BASE_PORT = 24700;
const ROOT = path.join(E2E_ROOT, 'security');
const DATA_DIR = path.join(ROOT, 'data');
const FOLDER = path.join(DATA_DIR, 'snapshots', 'sec');
const OUTSIDE = path.join(ROOT, 'outside');
/** A stand-in for the etcd client key: what someone able to write the snapshot folder would like served. */
const KEY_FILE = path.join(OUTSIDE, 'client.key');
const KEY_TEXT =
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-not-a-real-key\n-----END PRIVATE KEY-----\n';
const ADMIN_PASSWORD = 'security-admin-password-1';
const PROXY = '127.0.0.2';

let cluster: LocalCluster;
let dashboard: DashboardProcess;
let api: APIRequestContext;
const headers = { admin: {}, operator: {}, viewer: {} } as Record<
  'admin' | 'operator' | 'viewer',
  Record<string, string>
>;
let adminCookie = '';

function writeConfig(): string {
  const file = path.join(ROOT, 'dashboard.yaml');
  const c = cluster.state;
  writeFileSync(
    file,
    stringify({
      clusters: [
        {
          id: 'sec',
          name: 'Security review',
          endpoints: c.members.map((m) => m.clientUrl),
          tls: { ca: c.caCert, cert: c.clientCert, key: c.clientKey },
          snapshots: { retention: { keepLast: 1 } },
        },
      ],
      auth: { proxy: { groupRoles: { sre: 'operator' } } },
    }),
  );
  return file;
}

async function start(env: Record<string, string>): Promise<void> {
  dashboard = await startDashboard({
    port: PORT,
    env: {
      ETCD_DASHBOARD_CONFIG: path.join(ROOT, 'dashboard.yaml'),
      DASHBOARD_ANONYMOUS: 'viewer',
      // Another loopback address than the tests' own: requests from 127.0.0.1 are from anyone.
      DASHBOARD_TRUSTED_PROXIES: PROXY,
      ...env,
    },
    dataDir: DATA_DIR,
    logFile: path.join(ROOT, 'dashboard.log'),
  });
  await expect.poll(() => /local user\(s\)/.test(dashboard.log()), { timeout: 10_000 }).toBe(true);
}

async function snapshots(): Promise<SnapshotRecord[]> {
  const res = await api.get(`${dashboard.url}/api/clusters/sec/snapshots`, { headers: headers.viewer });
  expect(res.status()).toBe(200);
  return ((await res.json()) as { snapshots: SnapshotRecord[] }).snapshots;
}

async function takeSnapshot(): Promise<SnapshotRecord> {
  const res = await api.post(`${dashboard.url}/api/clusters/sec/snapshots`, { headers: headers.operator });
  expect(res.status(), await res.text()).toBe(202);
  const { id } = (await res.json()) as SnapshotRecord;
  let last: SnapshotRecord | undefined;
  await expect
    .poll(
      async () => ((last = (await snapshots()).find((s) => s.id === id)), last?.progress ? 'running' : last?.status),
      {
        timeout: 60_000,
      },
    )
    .toBe('succeeded');
  // The restore test every new snapshot gets has ended before a test changes the snapshot folder.
  await expect
    .poll(async () => ((last = (await snapshots()).find((s) => s.id === id)), last?.restoreTest?.state), {
      timeout: 60_000,
    })
    .toBe('passed');
  return last as SnapshotRecord;
}

/** A request over a connection of its own, from `from` (a trusted proxy's address, or anyone's), as sent. */
function send(
  method: string,
  target: string,
  opts: { from?: string; headers?: Record<string, string>; body?: string[] } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: PORT,
      method,
      path: target,
      localAddress: opts.from ?? '127.0.0.1',
      headers: { Connection: 'close', ...opts.headers },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    // A 413 may close the connection while the rest of the body is still going out.
    req.on('error', (err) => reject(err));
    for (const chunk of opts.body ?? []) req.write(chunk);
    req.end();
  });
}

const audit = (query: Record<string, string>): Promise<AuditEntry[]> =>
  readAudit(api, dashboard.url, headers.admin, query);

test.beforeAll(async () => {
  test.setTimeout(120_000);
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(OUTSIDE, { recursive: true });
  writeFileSync(KEY_FILE, KEY_TEXT, { mode: 0o600 });
  cluster = LocalCluster.create({ dir: path.join(ROOT, 'cluster'), members: 1, basePort: BASE_PORT, name: 'sec' });
  await cluster.start();
  for (let i = 0; i < 20; i++) {
    execFileSync(cluster.binaries.etcdctl, ['put', `/registry/pods/default/pod-${i}`, `{"n":${i}}`], {
      env: { ...process.env, ...cluster.etcdctlEnv },
      stdio: 'pipe',
    });
  }
  writeConfig();
  await start({ DASHBOARD_ADMIN_PASSWORD: ADMIN_PASSWORD });
  api = await request.newContext();
  adminCookie = await signInCookie(dashboard.url, 'admin', ADMIN_PASSWORD);
  for (const role of ['admin', 'operator', 'viewer'] as const) {
    const res = await api.post(`${dashboard.url}/api/tokens`, {
      headers: sessionHeaders(dashboard.url, adminCookie),
      data: { name: `security-${role}`, role },
    });
    expect(res.status(), await res.text()).toBe(201);
    headers[role] = { Authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
  }
});

test.afterAll(async () => {
  await api?.dispose();
  await dashboard?.stop();
  await cluster?.stop();
});

test('a snapshot file swapped for a link to a key file is never served, and retention removes the link, not the key', async () => {
  test.setTimeout(120_000);
  const first = await takeSnapshot();
  const file = path.join(FOLDER, `${first.id}.db`);
  rmSync(file);
  symlinkSync(KEY_FILE, file);

  const url = `${dashboard.url}/api/clusters/sec/snapshots/${first.id}/download`;
  const message = `the file of snapshot ${first.id} is a symbolic link; it is not served`;
  const got = await api.get(url, { headers: headers.operator });
  expect(await expectApiError(got, 409, 'file_changed', 'GET of a linked snapshot')).toBe(message);
  expect((await got.body()).toString('latin1')).not.toContain('PRIVATE KEY');
  const head = await api.fetch(url, { method: 'HEAD', headers: headers.operator });
  expect(head.status()).toBe(409);
  expect(dashboard.log()).toContain(`snapshots: refusing to serve ${file}: it is a symbolic link`);
  const rows = await audit({ outcome: 'failure' });
  expect(rows.map((e) => [e.action, e.actor, e.details.code, e.details.reason])).toEqual([
    ['snapshot.head', 'token:security-operator', 'file_changed', message],
    ['snapshot.download', 'token:security-operator', 'file_changed', message],
  ]);
  // A restore test asked for now restores nothing through the link: failed, saying why, the key never read.
  const asked = await api.post(`${dashboard.url}/api/clusters/sec/snapshots/${first.id}/restore-test`, {
    headers: headers.operator,
  });
  expect(asked.status(), await asked.text()).toBe(202);
  await expect
    .poll(async () => (await snapshots()).find((s) => s.id === first.id)?.restoreTest, { timeout: 60_000 })
    .toMatchObject({
      state: 'failed',
      reason: `the file of snapshot ${first.id} is a symbolic link; it is not restore-tested`,
    });
  expect(dashboard.log()).toContain(`restore test: refusing to restore ${file}: it is a symbolic link`);

  // The next snapshot makes retention (keepLast: 1) remove the first one's "file": the link goes, the key stays.
  const second = await takeSnapshot();
  await expect.poll(async () => (await snapshots()).find((s) => s.id === first.id)?.deletedAt).not.toBeNull();
  expect(() => lstatSync(file)).toThrow(/ENOENT/);
  expect(readFileSync(KEY_FILE, 'utf8')).toBe(KEY_TEXT);
  const ok = await api.get(`${dashboard.url}/api/clusters/sec/snapshots/${second.id}/download`, {
    headers: headers.operator,
  });
  expect(ok.status()).toBe(200);
  expect((await ok.body()).length).toBe(second.sizeBytes);
});

test('HEAD of a download checks and answers like GET without a body, audited as snapshot.head; refusals are audited', async () => {
  const [latest] = (await snapshots()).filter((s) => s.status === 'succeeded' && !s.deletedAt);
  const url = `${dashboard.url}/api/clusters/sec/snapshots/${latest?.id}/download`;
  const started = new Date().toISOString();
  const head = await api.fetch(url, { method: 'HEAD', headers: headers.operator });
  expect(head.status()).toBe(200);
  expect(head.headers()['content-disposition']).toBe(`attachment; filename="sec-${latest?.id}.db"`);
  expect((await head.body()).length).toBe(0);
  await expectApiError(await api.get(url, { headers: headers.viewer }), 403, 'forbidden', 'a viewer downloads');
  expect((await api.fetch(url, { method: 'HEAD', headers: headers.viewer })).status()).toBe(403);
  expect((await api.get(url)).status()).toBe(401); // anonymous viewing is on: looking, not downloading

  const rows = await audit({ from: started });
  expect(rows.map((e) => `${e.actor} ${e.action} ${e.outcome}`).reverse()).toEqual([
    'token:security-operator snapshot.head success',
    'token:security-viewer snapshot.download denied',
    'token:security-viewer snapshot.head denied',
    'anonymous snapshot.download denied',
  ]);
});

test('anonymous viewers get snapshot records without the paths of the dashboard host; signed-in users get them', async () => {
  const anonymous = await api.get(`${dashboard.url}/api/clusters/sec/snapshots`);
  const text = await anonymous.text();
  expect(text).not.toContain(ROOT);
  const [record] = (JSON.parse(text) as { snapshots: SnapshotRecord[] }).snapshots.filter((s) => !s.deletedAt);
  expect(record?.locations).toEqual([{ kind: 'local', where: `${record?.id}.db` }]);
  const detail = await (await api.get(`${dashboard.url}/api/clusters/sec/snapshots/${record?.id}`)).text();
  expect(detail).not.toContain(ROOT);
  const signedIn = (await snapshots()).find((s) => s.id === record?.id);
  expect(signedIn?.locations).toEqual([{ kind: 'local', where: path.join(FOLDER, `${record?.id}.db`) }]);
});

test('2,000 refused POSTs from one address leave five audit rows and a count, not 2,000 rows', async () => {
  test.setTimeout(120_000);
  const started = new Date().toISOString();
  let sent = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (sent < 2000) {
        sent++;
        const res = await fetch(`${dashboard.url}/api/tokens`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{"name":"flood","role":"admin"}',
        });
        expect(res.status).toBe(401);
        await res.arrayBuffer();
      }
    }),
  );
  const rows = (await audit({ from: started, action: 'token.create' })).filter((e) => e.actor === 'anonymous');
  const folded = rows.filter((e) => e.details.folded !== undefined);
  expect(rows.length - folded.length).toBe(5);
  expect(folded.reduce((n, e) => n + Number(e.details.folded), 0)).toBe(2000 - 5);
  expect(folded.length).toBeLessThanOrEqual(3); // one per minute-long window at most
});

test('a body sent a byte at a time is cut off once the request has taken 30 s; the dashboard goes on answering', async () => {
  test.setTimeout(90_000);
  const socket = net.connect(PORT, '127.0.0.1');
  const opened = Date.now();
  let closedAfter: number | null = null;
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (closedAfter = Date.now() - opened));
  socket.write(
    'POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{',
  );
  const drip = setInterval(() => socket.writable && socket.write(' '), 1000);
  try {
    await expect.poll(() => closedAfter, { timeout: 45_000, intervals: [500] }).not.toBeNull();
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
  expect(closedAfter).toBeGreaterThanOrEqual(29_000);
  expect(closedAfter).toBeLessThan(36_000);
  expect(answer).not.toMatch(/^HTTP\/1\.1 [24]00/);
  expect((await api.get(`${dashboard.url}/api/clusters`)).status()).toBe(200);
  // The broken-off body is the client's doing: no 500 in the log, no failed sign-in in the audit log.
  expect(dashboard.log()).not.toContain('unhandled error');
  expect(await audit({ action: 'auth.login', outcome: 'failure' })).toEqual([]);
});

test('the review’s other requests: TRACE, huge bodies, control characters, proxy groups named after Object’s members, a forged X-Forwarded-Host, readable data, a password in an endpoint', async () => {
  test.setTimeout(60_000);
  const errorOf = (text: string) => (JSON.parse(text) as { error: { code: string; message: string } }).error;

  const trace = await send('TRACE', '/api/clusters');
  expect({ status: trace.status, error: errorOf(trace.text) }).toEqual({
    status: 405,
    error: { code: 'method_not_allowed', message: 'method TRACE is not allowed' },
  });

  // 300 MB announced and none sent: refused once the server has waited 2 s for it. Sent without a length: cut off at 64 KiB.
  const announced = await send('POST', '/api/auth/login', {
    headers: { 'Content-Type': 'application/json', 'Content-Length': String(300 * 1024 * 1024) },
  });
  expect([announced.status, errorOf(announced.text).code]).toEqual([413, 'payload_too_large']);
  const streamed = await send('POST', '/api/auth/login', {
    headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
    body: Array.from({ length: 8 }, () => ' '.repeat(16 * 1024)),
  }).catch((err: Error) => ({ status: 0, text: err.message }));
  expect([streamed.status, streamed.status === 413 ? errorOf(streamed.text).code : streamed.text]).toEqual([
    413,
    'payload_too_large',
  ]);

  const bell = await api.post(`${dashboard.url}/api/tokens`, {
    headers: headers.admin,
    data: { name: 'night\u0007ly', role: 'viewer' },
  });
  expect(await expectApiError(bell, 400, 'bad_request', 'a token name with a bell')).toBe(
    'name: must not contain control characters',
  );

  // From the trusted proxy, groups that are names of Object's members map to no role (here: anonymous viewing).
  for (const group of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const claims = { 'X-Forwarded-User': 'mallory', 'X-Forwarded-Groups': group };
    const me = await send('GET', '/api/auth/me', { from: PROXY, headers: claims });
    expect([group, me.status, JSON.parse(me.text)]).toEqual([
      group,
      200,
      { actor: 'anonymous', role: 'viewer', method: 'anonymous' },
    ]);
    const post = await send('POST', '/api/tokens', {
      from: PROXY,
      headers: { ...claims, 'Content-Type': 'application/json' },
      body: ['{"name":"proto","role":"admin"}'],
    });
    expect([group, post.status, errorOf(post.text).code]).toEqual([group, 401, 'unauthenticated']);
  }
  const sre = await send('GET', '/api/auth/me', {
    from: PROXY,
    headers: { 'X-Forwarded-User': 'alice', 'X-Forwarded-Groups': 'sre' },
  });
  expect(JSON.parse(sre.text)).toEqual({ actor: 'alice', role: 'operator', method: 'proxy' });

  // Not from the proxy, X-Forwarded-Host does not make another site's POST riding a session look same-origin.
  const forged = await send('POST', '/api/tokens', {
    headers: {
      Cookie: `etcd_dashboard_session=${adminCookie}`,
      Origin: 'http://evil.example',
      'X-Forwarded-Host': 'evil.example',
      'Content-Type': 'application/json',
    },
    body: ['{"name":"csrf","role":"admin"}'],
  });
  expect([forged.status, errorOf(forged.text).code]).toEqual([403, 'cross_origin']);

  expect(statSync(DATA_DIR).mode & 0o777).toBe(0o700);
  expect(statSync(path.join(DATA_DIR, 'dashboard.sqlite')).mode & 0o777).toBe(0o600);
  expect(dashboard.log()).not.toMatch(/unhandled error|TypeError|\n\s+at /);

  // A password in an endpoint is masked in the configuration error that stops the server.
  const c = cluster.state;
  const broken = await startDashboard({
    port: PORT + 1,
    env: {
      ETCD_DASHBOARD_CONFIG: '',
      ETCDCTL_ENDPOINTS: 'https://root:s3cret-Pa55@exa mple:2379',
      ETCDCTL_CACERT: c.caCert,
      ETCDCTL_CERT: c.clientCert,
      ETCDCTL_KEY: c.clientKey,
    },
    dataDir: path.join(ROOT, 'broken-data'),
    logFile: path.join(ROOT, 'broken.log'),
    waitReady: false,
  });
  expect(await broken.exited).toBe(1);
  expect(broken.log()).toContain('root:***@exa mple:2379');
  expect(broken.log()).not.toContain('s3cret');
});

test('sign-in with a next that normalises to another origin (/.//host, /..//, /%2e//, /a/..//) lands on the dashboard', async ({
  page,
}) => {
  test.setTimeout(60_000);
  const origin = dashboard.url.replace(/\/+$/, '');
  for (const next of [
    '/.//127.0.0.1:3999/pwned',
    '/..//127.0.0.1:3999/pwned',
    '/%2e//127.0.0.1:3999/pwned',
    '/a/..//127.0.0.1:3999/pwned',
  ]) {
    await page.context().clearCookies();
    await page.goto(`${origin}/login?next=${encodeURIComponent(next)}`);
    await page.locator('input[name="username"]').fill('admin');
    await page.locator('input[name="password"]').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 15_000 });
    const landed = new URL(page.url());
    expect({ next, origin: landed.origin, path: landed.pathname }).toEqual({ next, origin, path: '/' });
  }
});

test('a restart adopts no link or hard link planted in the snapshot folder, and ends the env admin with its variable', async () => {
  test.setTimeout(120_000);
  const [kept] = (await snapshots()).filter((s) => s.status === 'succeeded' && !s.deletedAt);
  // A valid snapshot outside the folder, reached by a link and by a hard link; and a link to the key.
  const copy = path.join(OUTSIDE, 'elsewhere.db');
  copyFileSync(path.join(FOLDER, `${kept?.id}.db`), copy);
  symlinkSync(copy, path.join(FOLDER, '20990101T000000Z-abcdef.db'));
  linkSync(copy, path.join(FOLDER, 'hard.db'));
  symlinkSync(KEY_FILE, path.join(FOLDER, 'stolen.db'));

  await dashboard.stop();
  await start({ DASHBOARD_ADMIN_PASSWORD: '' });
  const log = dashboard.log();
  expect(log).toContain(
    `snapshots: not adopting ${path.join(FOLDER, '20990101T000000Z-abcdef.db')}: it is a symbolic link`,
  );
  expect(log).toContain(`snapshots: not adopting ${path.join(FOLDER, 'stolen.db')}: it is a symbolic link`);
  expect(log).toContain(
    `snapshots: not adopting ${path.join(FOLDER, 'hard.db')}: it has 2 hard links, where a file the dashboard wrote has one`,
  );
  const after = await snapshots();
  expect(after.filter((s) => s.triggeredBy.startsWith('adopted'))).toEqual([]);
  expect(after.find((s) => s.id === kept?.id)).toMatchObject({ verified: true, missing: false });
  expect(readFileSync(KEY_FILE, 'utf8')).toBe(KEY_TEXT);

  // Without DASHBOARD_ADMIN_PASSWORD the admin it made is gone: its session, and signing in with its password.
  expect(log).toContain('DASHBOARD_ADMIN_PASSWORD is not set: the admin account it made is removed and signed out');
  const me = await api.get(`${dashboard.url}/api/tokens`, { headers: sessionHeaders(dashboard.url, adminCookie) });
  await expectApiError(me, 401, 'unauthenticated', 'the env admin’s old session');
  const login = await api.post(`${dashboard.url}/api/auth/login`, {
    headers: { Origin: dashboard.url },
    data: { username: 'admin', password: ADMIN_PASSWORD },
  });
  await expectApiError(login, 401, 'invalid_credentials', 'the env admin signs in');
});
