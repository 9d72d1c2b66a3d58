// Access control against the production server and the suite's real cluster: who may call what (as a table),
// anonymous viewing, signing in and out in Chromium, cross-origin refusals, API tokens, trusted-proxy headers, the
// sign-in rate limit, the audit log, and security headers.
import {
  expect,
  request,
  test,
  type APIRequestContext,
  type APIResponse,
  type BrowserContext,
  type Page,
  type Response,
} from '@playwright/test';
import http from 'node:http';
import path from 'node:path';
import type { DashboardProcess } from '../scripts/lib/dashboard-process';
import { LocalCluster } from '../scripts/lib/local-cluster';
import type { AuditEntry } from '../lib/auth/audit-log';
import type { Role } from '../lib/auth/roles';
import {
  auditLine,
  bearer,
  expectApiError,
  hashPasswordWithCli,
  isErrorShape,
  readAudit,
  SESSION_COOKIE,
  sessionHeaders,
  signInCookie,
  startAuthDashboard,
} from './support/access';
import { writeDashboardConfig, type AuthSection } from './support/config-file';
import { E2E_CLUSTER_DIR, E2E_ROOT } from './support/e2e-env';

// main:   anonymous viewing not configured (off by default); proxy headers believed only from 10.9.9.0/24, not us.
// closed: the file says `anonymous: viewer` but DASHBOARD_ANONYMOUS=off wins; proxy headers believed from 127.0.0.1.
// open:   DASHBOARD_ANONYMOUS=viewer.
// 3199 serves another site's page for the cross-origin form posts.
const PORT = { main: 3196, closed: 3197, open: 3198, otherSite: 3199 } as const;

const PASSWORD = {
  admin: 'admin-password-e2e-access',
  vera: 'vera-viewer-password-e2e',
  otto: 'otto-operator-password-e2e',
} as const;
const GROUP_ROLES = { sre: 'operator', 'platform-admins': 'admin', developers: 'viewer' } as const;
const EVIL = 'http://evil.example';
const ME = '127.0.0.1'; // the address every request of this spec comes from

let main: DashboardProcess;
let closed: DashboardProcess;
let open: DashboardProcess;
let api: APIRequestContext;
/** Session cookies signed in at the start, on main. */
const cookie = { admin: '', vera: '', otto: '' };
/** An admin token on main for setting things up and reading the audit log; its rows are left out of comparisons. */
let setupToken = '';
const setup = () => bearer(setupToken);
/** On closed, admin comes from the trusted proxy's headers. */
const proxyAdmin = { 'X-Forwarded-User': 'auditor', 'X-Forwarded-Groups': 'platform-admins' };

test.beforeAll(async () => {
  test.setTimeout(90_000);
  const cluster = LocalCluster.load(E2E_CLUSTER_DIR).state;
  const [veraHash, ottoHash] = await Promise.all([
    hashPasswordWithCli(PASSWORD.vera),
    hashPasswordWithCli(PASSWORD.otto),
  ]);
  const users: AuthSection['users'] = [
    { username: 'vera', passwordHash: veraHash, role: 'viewer' },
    { username: 'otto', passwordHash: ottoHash, role: 'operator' },
  ];
  const proxy = { groupRoles: GROUP_ROLES }; // X-Forwarded-User / X-Forwarded-Groups by default
  const entries = [{ id: 'default', name: 'e2e', cluster }];
  const config = (name: string, auth: AuthSection) =>
    writeDashboardConfig(path.join(E2E_ROOT, `access-${name}.yaml`), entries, auth);
  const env = (name: string, extra: Record<string, string>) => ({
    ETCD_DASHBOARD_CONFIG: config(name, name === 'open' ? { users } : { users, proxy }),
    DASHBOARD_ADMIN_PASSWORD: PASSWORD.admin,
    ...extra,
  });
  [main, closed, open] = await Promise.all([
    // Empty counts as unset: the default is what is tested, whatever the runner's environment says.
    startAuthDashboard({
      port: PORT.main,
      name: 'access-main',
      env: env('main', { DASHBOARD_ANONYMOUS: '', DASHBOARD_TRUSTED_PROXIES: '10.9.9.0/24' }),
    }),
    startAuthDashboard({
      port: PORT.closed,
      name: 'access-closed',
      env: {
        ...env('closed', { DASHBOARD_ANONYMOUS: 'off', DASHBOARD_TRUSTED_PROXIES: ME }),
        ETCD_DASHBOARD_CONFIG: config('closed', { anonymous: 'viewer', users, proxy }),
      },
    }),
    startAuthDashboard({
      port: PORT.open,
      name: 'access-open',
      env: env('open', { DASHBOARD_ANONYMOUS: 'viewer', DASHBOARD_TRUSTED_PROXIES: '' }),
    }),
  ]);
  api = await request.newContext();
  [cookie.admin, cookie.vera, cookie.otto] = await Promise.all([
    signInCookie(main.url, 'admin', PASSWORD.admin),
    signInCookie(main.url, 'vera', PASSWORD.vera),
    signInCookie(main.url, 'otto', PASSWORD.otto),
  ]);
  setupToken = (await createToken(main.url, sessionHeaders(main.url, cookie.admin), 'setup', 'admin')).token;
});

test.afterAll(async () => {
  await api?.dispose();
  await Promise.all([main?.stop(), closed?.stop(), open?.stop()]);
});

async function createToken(
  base: string,
  headers: Record<string, string>,
  name: string,
  role: Role,
  expiresAt: string | null = new Date(Date.now() + 86_400_000).toISOString(),
): Promise<{ id: string; token: string }> {
  const res = await api.post(`${base}/api/tokens`, { headers, data: { name, role, expiresAt } });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

async function tokenList(base: string, headers: Record<string, string>) {
  const res = await api.get(`${base}/api/tokens`, { headers });
  expect(res.status(), await res.text()).toBe(200);
  return { text: await res.text(), tokens: ((await res.json()) as { tokens: TokenInfo[] }).tokens };
}

interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  state: 'active' | 'expired' | 'revoked';
  lastUsedAt: number | null;
}

/** Puts a session signed in at the start into the browser, with the attributes the server gives the cookie. */
const useSession = (context: BrowserContext, value: string) =>
  context.addCookies([{ name: SESSION_COOKIE, value, url: main.url, httpOnly: true, sameSite: 'Strict' }]);

const me = async (base: string, headers: Record<string, string>): Promise<APIResponse> =>
  api.get(`${base}/api/auth/me`, { headers });

// ---------------------------------------------------------------------------------------------------------------
// The table: every identity × every protected route.

const COLUMNS = [
  'GET /api/clusters',
  'GET /api/clusters/{id}/status',
  'GET /api/clusters/{id}/history?series=probe_ms',
  'GET /api/clusters/{id}/events',
  'GET /api/auth/me',
  'GET /api/tokens',
  'POST /api/tokens',
  'DELETE /api/tokens/{id}',
  'GET /api/audit',
] as const;
type Column = (typeof COLUMNS)[number];

type CallerName =
  | 'nobody'
  | 'anonymous-off'
  | 'viewer'
  | 'operator'
  | 'admin'
  | 'viewer token'
  | 'admin token'
  | 'revoked token'
  | 'expired token'
  | 'garbage token';
type Row = [CallerName, number, number, number, number, number, number, number, number, number];

// "nobody" sends nothing to main, where anonymous viewing is off by default; "anonymous-off" sends nothing to
// closed, where DASHBOARD_ANONYMOUS=off overrides the file's `anonymous: viewer`. Sessions send their cookie and the
// dashboard's own Origin, as its pages do.
// prettier-ignore
const EXPECTED: Row[] = [
  //                 clusters status history events me   GET tokens POST tokens DELETE token GET audit
  ['nobody',         401,     401,   401,    401,   401, 401,       401,        401,         401],
  ['anonymous-off',  401,     401,   401,    401,   401, 401,       401,        401,         401],
  ['viewer',         200,     200,   200,    200,   200, 403,       403,        403,         403],
  ['operator',       200,     200,   200,    200,   200, 403,       403,        403,         403],
  ['admin',          200,     200,   200,    200,   200, 200,       201,        200,         200],
  ['viewer token',   200,     200,   200,    200,   200, 403,       403,        403,         403],
  ['admin token',    200,     200,   200,    200,   200, 200,       201,        200,         200],
  ['revoked token',  401,     401,   401,    401,   401, 401,       401,        401,         401],
  ['expired token',  401,     401,   401,    401,   401, 401,       401,        401,         401],
  ['garbage token',  401,     401,   401,    401,   401, 401,       401,        401,         401],
];

interface Caller {
  /** "closed" for the one caller that needs anonymous viewing switched off explicitly. */
  on: 'main' | 'closed';
  headers: Record<string, string>;
  /** How the audit log records this caller's state-changing requests. */
  audit: { actor: string; role: Role | null; method: AuditEntry['method'] };
}

function tableRequest(column: Column, victimId: string, caller: CallerName) {
  const [method, route] = column.split(' ') as [string, string];
  const url = route.replace('/clusters/{id}', '/clusters/default').replace('/tokens/{id}', `/tokens/${victimId}`);
  const data =
    method === 'POST'
      ? { name: `table ${caller}`, role: 'viewer', expiresAt: new Date(Date.now() + 86_400_000).toISOString() }
      : undefined;
  return { method, url, data };
}

test('every identity gets the expected 2xx / 401 / 403 on every protected route, errors in the one shape', async () => {
  const started = new Date().toISOString();
  const admin = sessionHeaders(main.url, cookie.admin);
  const viewerToken = await createToken(main.url, admin, 'ci-viewer', 'viewer');
  const adminToken = await createToken(main.url, admin, 'ci-admin', 'admin');
  const revoked = await createToken(main.url, admin, 'revoked-bot', 'admin');
  expect((await api.delete(`${main.url}/api/tokens/${revoked.id}`, { headers: admin })).status()).toBe(200);
  const expiring = await createToken(
    main.url,
    admin,
    'expiring-bot',
    'admin',
    new Date(Date.now() + 3000).toISOString(),
  );
  // Valid until it is not: wait for its expiry rather than sleeping.
  expect((await me(main.url, bearer(expiring.token))).status()).toBe(200);
  await expect.poll(async () => (await me(main.url, bearer(expiring.token))).status(), { timeout: 10_000 }).toBe(401);
  expect((await tokenList(main.url, setup())).tokens.find((t) => t.id === expiring.id)?.state).toBe('expired');

  const anonymous = { actor: 'anonymous', role: null, method: 'none' } as const;
  const callers: Record<CallerName, Caller> = {
    nobody: { on: 'main', headers: {}, audit: anonymous },
    'anonymous-off': { on: 'closed', headers: {}, audit: anonymous },
    viewer: {
      on: 'main',
      headers: sessionHeaders(main.url, cookie.vera),
      audit: { actor: 'vera', role: 'viewer', method: 'session' },
    },
    operator: {
      on: 'main',
      headers: sessionHeaders(main.url, cookie.otto),
      audit: { actor: 'otto', role: 'operator', method: 'session' },
    },
    admin: { on: 'main', headers: admin, audit: { actor: 'admin', role: 'admin', method: 'session' } },
    'viewer token': {
      on: 'main',
      headers: bearer(viewerToken.token),
      audit: { actor: 'token:ci-viewer', role: 'viewer', method: 'token' },
    },
    'admin token': {
      on: 'main',
      headers: bearer(adminToken.token),
      audit: { actor: 'token:ci-admin', role: 'admin', method: 'token' },
    },
    // A token that was real is named in its refusals (its id beside it in the details), never logged as anonymous.
    'revoked token': {
      on: 'main',
      headers: bearer(revoked.token),
      audit: { actor: 'token:revoked-bot', role: null, method: 'token' },
    },
    'expired token': {
      on: 'main',
      headers: bearer(expiring.token),
      audit: { actor: 'token:expiring-bot', role: null, method: 'token' },
    },
    'garbage token': { on: 'main', headers: bearer(`etcdd_0123456789abcdef_${'x'.repeat(43)}`), audit: anonymous },
  };
  const dashboards = { main, closed };
  const setupOn = { main: setup(), closed: proxyAdmin };
  // Refused DELETEs aim at a token that must survive them; allowed ones each get a token of their own.
  const survivor = {
    main: await createToken(main.url, setup(), 'survivor', 'viewer'),
    closed: await createToken(closed.url, proxyAdmin, 'survivor', 'viewer'),
  };

  const actual: Row[] = [];
  const problems: string[] = [];
  for (const [name, ...expected] of EXPECTED) {
    const caller = callers[name];
    const base = dashboards[caller.on].url;
    const row: Row = [name, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (const [i, column] of COLUMNS.entries()) {
      const allowed = (expected[i] as number) < 300;
      const victim =
        column.startsWith('DELETE') && allowed
          ? (await createToken(base, setupOn[caller.on], `victim of ${name}`, 'viewer')).id
          : survivor[caller.on].id;
      const { method, url, data } = tableRequest(column, victim, name);
      const res = await api.fetch(`${base}${url}`, { method, headers: caller.headers, data });
      row[i + 1] = res.status();
      const body: unknown = await res.json().catch(() => 'not JSON');
      const cell = `${name} × ${column}: ${res.status()} ${JSON.stringify(body)}`;
      if (res.status() >= 400) {
        const code = res.status() === 401 ? 'unauthenticated' : 'forbidden';
        if (!isErrorShape(body, code)) problems.push(`${cell} is not the one error shape with code ${code}`);
      } else if (column === 'GET /api/auth/me' && (body as { actor?: string }).actor !== caller.audit.actor) {
        problems.push(`${cell} does not name ${caller.audit.actor}`);
      } else if (column === 'POST /api/tokens' && !/^etcdd_/.test((body as { token?: string }).token ?? '')) {
        problems.push(`${cell} does not show the new token`);
      } else if (column === 'GET /api/clusters' && !JSON.stringify(body).includes('"id":"default"')) {
        problems.push(`${cell} does not list the cluster`);
      }
    }
    actual.push(row);
  }
  expect(actual).toEqual(EXPECTED);
  expect(problems).toEqual([]);

  // No refused DELETE revoked anything.
  for (const on of ['main', 'closed'] as const) {
    const list = await tokenList(dashboards[on].url, setupOn[on]);
    expect(list.tokens.find((t) => t.id === survivor[on].id)?.state, on).toBe('active');
  }

  // Every state-changing request is in the audit log: refused ones as denied, with who asked and from where.
  const col = (c: Column) => COLUMNS.indexOf(c) + 1;
  const expectedAudit = (on: 'main' | 'closed') =>
    EXPECTED.filter(([name]) => callers[name].on === on)
      .flatMap((row) =>
        (['POST /api/tokens', 'DELETE /api/tokens/{id}'] as const).map((c) =>
          auditLine({
            ...callers[row[0]].audit,
            source: ME,
            action: c.startsWith('POST') ? 'token.create' : 'token.revoke',
            outcome: (row[col(c)] as number) < 300 ? 'success' : 'denied',
          }),
        ),
      )
      .sort();
  const actualAudit = async (on: 'main' | 'closed') =>
    (await readAudit(api, dashboards[on].url, setupOn[on], { from: started }))
      .filter((e) => e.action.startsWith('token.') && !['token:setup', 'auditor'].includes(e.actor))
      // The tokens this test made for itself before the table.
      .filter((e) => !(e.actor === 'admin' && e.outcome === 'success' && /bot|ci-/.test(String(e.details.tokenName))))
      .map(auditLine)
      .sort();
  expect(await actualAudit('main')).toEqual(expectedAudit('main'));
  expect(await actualAudit('closed')).toEqual(expectedAudit('closed'));
  const refusals = await readAudit(api, main.url, setup(), { from: started, outcome: 'denied' });
  expect(refusals).toContainEqual(
    expect.objectContaining({
      actor: 'vera',
      action: 'token.create',
      details: { reason: 'the admin role is needed; vera is viewer' },
    }),
  );
  expect(refusals).toContainEqual(
    expect.objectContaining({
      actor: 'anonymous',
      action: 'token.revoke',
      details: { reason: 'the API token is unknown, expired or revoked' },
    }),
  );
  expect(refusals).toContainEqual(
    expect.objectContaining({
      actor: 'token:revoked-bot',
      action: 'token.revoke',
      details: { reason: `the API token ${revoked.id} was revoked`, actorTokenId: revoked.id },
    }),
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Anonymous viewing.

test('anonymous viewing is off by default: pages send the browser to /login, the API answers 401', async ({ page }) => {
  for (const [path_, next] of [
    ['/', '%2F'],
    ['/history', '%2Fhistory'],
    ['/tokens', '%2Ftokens'],
    ['/audit', '%2Faudit'],
  ] as const) {
    await page.goto(`${main.url}${path_}`);
    await expect(page).toHaveURL(`${main.url}/login?next=${next}`);
    await expect(page.getByRole('form', { name: 'Sign in' })).toBeVisible();
    await expect(page.getByTestId('cluster-name')).toHaveCount(0);
  }
  await expectApiError(await api.get(`${main.url}/api/clusters`), 401, 'unauthenticated');
});

test('with anonymous viewing on, anyone may look without signing in, and never do more than a viewer', async ({
  page,
}) => {
  for (const route of [
    '/api/clusters',
    '/api/clusters/default/status',
    '/api/clusters/default/history?series=probe_ms',
    '/api/clusters/default/events',
  ]) {
    expect((await api.get(`${open.url}${route}`)).status(), route).toBe(200);
  }
  expect(await (await me(open.url, {})).json()).toEqual({ actor: 'anonymous', role: 'viewer', method: 'anonymous' });

  const started = new Date().toISOString();
  await expectApiError(await api.get(`${open.url}/api/tokens`), 401, 'unauthenticated', 'GET /api/tokens');
  await expectApiError(await api.get(`${open.url}/api/audit`), 401, 'unauthenticated', 'GET /api/audit');
  const post = await api.post(`${open.url}/api/tokens`, { data: { name: 'anon', role: 'viewer' } });
  expect(await expectApiError(post, 401, 'unauthenticated', 'POST /api/tokens')).toContain('anonymous');
  const del = await api.delete(`${open.url}/api/tokens/0123456789abcdef`);
  await expectApiError(del, 401, 'unauthenticated', 'DELETE /api/tokens/{id}');
  // The anonymous poster is not even granted its own viewer identity in the record: who asked is nobody.
  const auditHeaders = sessionHeaders(open.url, await signInCookie(open.url, 'admin', PASSWORD.admin));
  const rows = await readAudit(api, open.url, auditHeaders, { from: started, outcome: 'denied' });
  expect(rows.map(auditLine).sort()).toEqual([
    `anonymous (-) via none from ${ME}: token.create denied`,
    `anonymous (-) via none from ${ME}: token.revoke denied`,
  ]);

  // In Chromium: the overview and the history load without a sign-in prompt; admin pages say what is missing.
  await page.goto(`${open.url}/`);
  await expect(page).toHaveURL(`${open.url}/`);
  await expect(page.getByTestId('cluster-name')).toHaveText('e2e');
  await expect(page.getByTestId('quorum-card')).toBeVisible();
  await expect(page.getByTestId('user-menu')).toContainText('anonymous viewer');
  await expect(page.getByTestId('user-menu').getByRole('link', { name: 'sign in' })).toBeVisible();
  await expect(page.getByRole('form', { name: 'Sign in' })).toHaveCount(0);
  await expect(page.getByRole('navigation', { name: 'Pages' }).getByRole('link')).toHaveText([
    'Overview',
    'History',
    'Snapshots',
    'Maintenance',
    'Runbooks',
  ]);
  await page.getByRole('link', { name: 'History' }).click();
  await expect(page).toHaveURL(/\/history/);
  await expect(page.getByTestId('chart-probe_ms')).toBeVisible();
  await page.goto(`${open.url}/tokens`);
  await expect(page.getByRole('main').getByRole('alert')).toHaveText(
    'This page needs the admin role; anonymous is viewer.',
  );
  await expect(page.getByRole('form', { name: 'New API token' })).toHaveCount(0);
});

// ---------------------------------------------------------------------------------------------------------------
// Signing in and out.

test('signing in at /login sets an HttpOnly, SameSite=Strict cookie with an expiry; signing out ends it', async ({
  page,
  context,
}) => {
  const started = new Date().toISOString();
  await page.goto(`${main.url}/history`);
  await expect(page).toHaveURL(`${main.url}/login?next=%2Fhistory`);
  await page.getByLabel('Username').fill('otto');
  await page.getByLabel('Password').fill('not otto’s password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('login-error')).toHaveText('wrong username or password');
  expect(await context.cookies(main.url)).toEqual([]);

  await page.getByLabel('Password').fill(PASSWORD.otto);
  const signedInAt = Date.now();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${main.url}/history`);
  await expect(page.getByTestId('user-menu')).toContainText('otto operator');

  const [session] = await context.cookies(main.url);
  expect(session).toMatchObject({ name: SESSION_COOKIE, httpOnly: true, sameSite: 'Strict', path: '/' });
  // 12 hours by default: an expiry, not a cookie that lives as long as the browser.
  expect(session!.expires * 1000).toBeGreaterThan(signedInAt + 11.9 * 3_600_000);
  expect(session!.expires * 1000).toBeLessThan(Date.now() + 12.1 * 3_600_000);
  expect(await page.evaluate(() => document.cookie)).not.toContain(SESSION_COOKIE);
  const old = session!.value;
  expect(await (await me(main.url, sessionHeaders(main.url, old))).json()).toMatchObject({ actor: 'otto' });

  await page.getByTestId('user-menu').getByRole('button', { name: 'sign out' }).click();
  await expect(page).toHaveURL(`${main.url}/login`);
  await expect.poll(async () => (await context.cookies(main.url)).length).toBe(0);
  // The old cookie is dead on the server, not only forgotten by this browser.
  await expectApiError(await me(main.url, sessionHeaders(main.url, old)), 401, 'unauthenticated');
  await page.goto(`${main.url}/`);
  await expect(page).toHaveURL(`${main.url}/login?next=%2F`);

  const rows = await readAudit(api, main.url, setup(), { from: started, actor: 'otto' });
  for (const row of rows) expect(Date.parse(row.at)).toBeGreaterThanOrEqual(Date.parse(started));
  for (const row of rows) expect(Date.parse(row.at)).toBeLessThanOrEqual(Date.now());
  expect(rows.map(auditLine).reverse()).toEqual([
    `otto (-) via password from ${ME}: auth.login failure`,
    `otto (operator) via password from ${ME}: auth.login success`,
    `otto (operator) via session from ${ME}: auth.logout success`,
  ]);
});

// ---------------------------------------------------------------------------------------------------------------
// Cross-origin requests riding a session.

/** Serves `html` as the page of another site on 127.0.0.1:3199 (same site as the dashboard, another origin). */
async function otherSite(html: string): Promise<http.Server> {
  const server = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(PORT.otherSite, '127.0.0.1', resolve));
  return server;
}

/** Opens the other site's page and submits its form; returns the dashboard's answer as the browser got it. */
async function postFormFrom(page: Page, origin: string, target: string): Promise<Response> {
  await page.goto(`${origin}/`);
  const [res] = await Promise.all([
    page.waitForResponse(target),
    page.getByRole('button', { name: 'claim your prize' }).click(),
  ]);
  return res;
}

test('a cross-origin POST with a valid admin session is refused with 403 cross_origin, and audited', async ({
  page,
  context,
}) => {
  const started = new Date().toISOString();
  const tokensBefore = (await tokenList(main.url, setup())).tokens.length;
  const target = (await createToken(main.url, setup(), 'csrf-target', 'viewer')).id;
  const session = { Cookie: `${SESSION_COOKIE}=${cookie.admin}` };
  const attempts: Array<[string, Record<string, string>, 'POST' | 'DELETE', string]> = [
    ['Origin of another site', { Origin: EVIL }, 'POST', 'Origin http://evil.example is not this dashboard'],
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }, 'POST', 'Sec-Fetch-Site: cross-site'],
    ['both', { Origin: EVIL, 'Sec-Fetch-Site': 'cross-site' }, 'DELETE', 'Sec-Fetch-Site: cross-site'],
    ['Origin: null (sandboxed frame)', { Origin: 'null' }, 'DELETE', 'malformed Origin'],
  ];
  for (const [label, headers, method, reason] of attempts) {
    const res = await api.fetch(`${main.url}/api/tokens${method === 'DELETE' ? `/${target}` : ''}`, {
      method,
      headers: { ...session, ...headers },
      data: method === 'POST' ? { name: `csrf ${label}`, role: 'admin' } : undefined,
    });
    expect(await expectApiError(res, 403, 'cross_origin', label)).toContain(reason);
  }
  // The same cookie from the dashboard's own page works: the refusals above were about the origin alone.
  const own = await api.post(`${main.url}/api/tokens`, {
    headers: { ...session, Origin: main.url, 'Sec-Fetch-Site': 'same-origin' },
    data: { name: 'csrf control', role: 'viewer' },
  });
  expect(own.status(), await own.text()).toBe(201);
  const list = (await tokenList(main.url, setup())).tokens;
  expect(list).toHaveLength(tokensBefore + 2);
  expect(list.find((t) => t.id === target)?.state).toBe('active');

  // A sign-in form on another site must not sign the browser in either.
  const loginCsrf = await api.post(`${main.url}/api/auth/login`, {
    headers: { Origin: EVIL },
    data: { username: 'admin', password: PASSWORD.admin },
  });
  await expectApiError(loginCsrf, 403, 'cross_origin', 'login from another site');
  expect(loginCsrf.headers()['set-cookie']).toBeUndefined();

  // Real form posts in Chromium, the browser holding an admin session with the cookie exactly as the server set it.
  const signIn = await context.request.post(`${main.url}/api/auth/login`, {
    headers: { Origin: main.url },
    data: { username: 'admin', password: PASSWORD.admin },
  });
  expect(signIn.status()).toBe(200);
  expect(await context.cookies(main.url)).toMatchObject([{ name: SESSION_COOKIE, sameSite: 'Strict' }]);
  const server = await otherSite(
    `<form method="post" action="${main.url}/api/tokens"><input name="name" value="prize">` +
      `<input name="role" value="admin"><button>claim your prize</button></form>`,
  );
  try {
    // Another port of the same host is the same site: the browser sends the Strict cookie, the origin check refuses.
    const sameSite = await postFormFrom(page, `http://127.0.0.1:${PORT.otherSite}`, `${main.url}/api/tokens`);
    expect(sameSite.status()).toBe(403);
    expect(await sameSite.json()).toEqual({
      error: { code: 'cross_origin', message: 'cross-site request refused (Sec-Fetch-Site: same-site)' },
    });
    await expect(page.locator('body')).toContainText('cross_origin');
    // Another site entirely: SameSite=Strict keeps the cookie home, so the post arrives without an identity.
    const crossSite = await postFormFrom(page, `http://localhost:${PORT.otherSite}`, `${main.url}/api/tokens`);
    expect(crossSite.status()).toBe(401);
    expect(((await crossSite.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  expect((await tokenList(main.url, setup())).tokens).toHaveLength(tokensBefore + 2);

  const rows = await readAudit(api, main.url, setup(), { from: started, outcome: 'denied' });
  const reasons = (action: string, actor = 'admin') =>
    rows
      .filter((e) => e.action === action && e.actor === actor)
      .map((e) => `${auditLine(e)}: ${String(e.details.reason)}`)
      .reverse();
  expect(reasons('token.create')).toEqual([
    `admin (admin) via session from ${ME}: token.create denied: cross-site request refused (Origin ${EVIL} is not this dashboard)`,
    `admin (admin) via session from ${ME}: token.create denied: cross-site request refused (Sec-Fetch-Site: cross-site)`,
    `admin (admin) via session from ${ME}: token.create denied: cross-site request refused (Sec-Fetch-Site: same-site)`,
  ]);
  expect(reasons('token.revoke')).toEqual([
    `admin (admin) via session from ${ME}: token.revoke denied: cross-site request refused (Sec-Fetch-Site: cross-site)`,
    `admin (admin) via session from ${ME}: token.revoke denied: cross-site request refused (malformed Origin)`,
  ]);
  expect(reasons('auth.login', 'anonymous')).toEqual([
    `anonymous (-) via password from ${ME}: auth.login denied: cross-site request refused (Origin ${EVIL} is not this dashboard)`,
  ]);
  expect(reasons('token.create', 'anonymous')).toHaveLength(1); // the cross-site form post, without its cookie
});

// ---------------------------------------------------------------------------------------------------------------
// API tokens.

test('an API token is shown once, works as a Bearer token, and gives 401 once revoked', async () => {
  const started = new Date().toISOString();
  const admin = sessionHeaders(main.url, cookie.admin);
  const res = await api.post(`${main.url}/api/tokens`, {
    headers: admin,
    data: {
      name: 'nightly-snapshot',
      role: 'operator',
      expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    },
  });
  expect(res.status()).toBe(201);
  const created = (await res.json()) as { id: string; token: string };
  expect(Object.keys(created).sort()).toEqual(['id', 'token']);
  expect(created.token).toMatch(new RegExp(`^etcdd_${created.id}_[A-Za-z0-9_-]{43}$`));
  const secret = created.token.slice(`etcdd_${created.id}_`.length);

  // Never again: not in the list, not in the audit log.
  const listed = await tokenList(main.url, admin);
  expect(listed.tokens.find((t) => t.id === created.id)).toMatchObject({
    name: 'nightly-snapshot',
    role: 'operator',
    state: 'active',
    lastUsedAt: null,
  });
  expect(listed.text).not.toContain(secret);
  const auditText = await (await api.get(`${main.url}/api/audit?limit=1000`, { headers: admin })).text();
  expect(auditText).toContain(created.id);
  expect(auditText).not.toContain(secret);

  // In use.
  expect(await (await me(main.url, bearer(created.token))).json()).toEqual({
    actor: 'token:nightly-snapshot',
    role: 'operator',
    method: 'token',
  });
  expect((await api.get(`${main.url}/api/clusters/default/status`, { headers: bearer(created.token) })).status()).toBe(
    200,
  );
  await expect
    .poll(async () => (await tokenList(main.url, admin)).tokens.find((t) => t.id === created.id)?.lastUsedAt)
    .toEqual(expect.any(Number));
  // An operator token manages no tokens.
  await expectApiError(await api.get(`${main.url}/api/tokens`, { headers: bearer(created.token) }), 403, 'forbidden');
  // A bad token never falls back to the cookie sent along with it.
  const mixed = { ...admin, ...bearer(`${created.token.slice(0, -4)}AAAA`) };
  await expectApiError(await me(main.url, mixed), 401, 'unauthenticated', 'bad token with a good cookie');

  // Revoked: at once.
  const revoke = await api.delete(`${main.url}/api/tokens/${created.id}`, { headers: admin });
  expect(revoke.status()).toBe(200);
  expect(await revoke.json()).toEqual({ revoked: true });
  const refused = await expectApiError(await me(main.url, bearer(created.token)), 401, 'unauthenticated');
  expect(refused).toContain('revoked');
  expect((await tokenList(main.url, admin)).tokens.find((t) => t.id === created.id)?.state).toBe('revoked');
  await expectApiError(
    await api.delete(`${main.url}/api/tokens/${created.id}`, { headers: admin }),
    409,
    'already_revoked',
  );
  await expectApiError(await api.delete(`${main.url}/api/tokens/not-an-id`, { headers: admin }), 400, 'bad_request');
  await expectApiError(
    await api.delete(`${main.url}/api/tokens/0123456789abcdef`, { headers: admin }),
    404,
    'not_found',
  );

  // An expiry in the past, or not a time at all, is refused naming expiresAt.
  for (const expiresAt of [new Date(Date.now() - 60_000).toISOString(), 'next tuesday']) {
    const bad = await api.post(`${main.url}/api/tokens`, {
      headers: admin,
      data: { name: 'too-late', role: 'viewer', expiresAt },
    });
    expect(await expectApiError(bad, 400, 'bad_request', expiresAt)).toMatch(/^expiresAt: /);
  }
  expect((await tokenList(main.url, admin)).tokens.filter((t) => t.name === 'too-late')).toEqual([]);

  const rows = await readAudit(api, main.url, admin, { from: started, actor: 'admin' });
  expect(rows.filter((e) => e.details.tokenId === created.id).map(auditLine)).toEqual([
    `admin (admin) via session from ${ME}: token.revoke success`,
    `admin (admin) via session from ${ME}: token.create success`,
  ]);
  expect(main.log()).not.toContain(secret);
});

test('on the API tokens page an admin sees a new token once, and revoking it there ends it', async ({
  page,
  context,
}) => {
  await useSession(context, cookie.admin);
  await page.goto(`${main.url}/tokens`);
  const form = page.getByRole('form', { name: 'New API token' });
  await form.getByLabel('Name').fill('ui-bot');
  await form.getByLabel('Role').selectOption('viewer');
  await form.getByLabel('Expires after (days, 0 = never)').fill('1');
  await form.getByRole('button', { name: 'Create token' }).click();
  const shown = page.getByTestId('new-token');
  await expect(shown).toContainText('it is shown only once');
  const token = (await shown.locator('code').textContent())?.trim() ?? '';
  expect(token).toMatch(/^etcdd_[0-9a-f]{16}_/);
  const row = page.getByTestId('token-row').filter({ hasText: 'ui-bot' });
  await expect(row).toContainText('active');
  expect(await (await me(main.url, bearer(token))).json()).toMatchObject({ actor: 'token:ui-bot', role: 'viewer' });

  await page.reload();
  await expect(row).toContainText('active');
  await expect(page.getByTestId('new-token')).toHaveCount(0);
  expect(await page.content()).not.toContain(token.slice(-43));

  await row.getByRole('button', { name: 'revoke' }).click();
  await expect(row).toContainText('revoked');
  await expect(row.getByRole('button', { name: 'revoke' })).toHaveCount(0);
  await expectApiError(await me(main.url, bearer(token)), 401, 'unauthenticated');
});

// ---------------------------------------------------------------------------------------------------------------
// Trusted-proxy identity headers.

test('identity headers from an address that is not a trusted proxy are ignored, even with a forged peer header', async ({
  page,
}) => {
  const started = new Date().toISOString();
  const claims = { 'X-Forwarded-User': 'carol', 'X-Forwarded-Groups': 'platform-admins' };
  // main believes 10.9.9.0/24; a client cannot put itself there by naming the header server/server.mjs sets.
  const forged = { ...claims, 'x-etcd-dashboard-peer': '10.9.9.5', 'X-Forwarded-For': '10.9.9.6' };
  for (const [label, headers] of [
    ['claims', claims],
    ['claims with a forged peer', forged],
  ] as const) {
    await expectApiError(await me(main.url, headers), 401, 'unauthenticated', label);
    await expectApiError(await api.get(`${main.url}/api/clusters`, { headers }), 401, 'unauthenticated', label);
    // The status route is answered by server/server.mjs's fast path: the same refusal.
    const status = await api.get(`${main.url}/api/clusters/default/status`, { headers });
    await expectApiError(status, 401, 'unauthenticated', `${label}: status`);
  }
  const post = await api.post(`${main.url}/api/tokens`, { headers: forged, data: { name: 'proxy', role: 'admin' } });
  await expectApiError(post, 401, 'unauthenticated', 'POST with forged claims');
  const rows = await readAudit(api, main.url, setup(), { from: started });
  expect(rows.map(auditLine)).toEqual([`anonymous (-) via none from ${ME}: token.create denied`]);

  await page.setExtraHTTPHeaders(forged);
  await page.goto(`${main.url}/`);
  await expect(page).toHaveURL(`${main.url}/login?next=%2F`);
});

test('identity headers from a trusted proxy give the mapped role; an unmapped group gives no access', async ({
  page,
}) => {
  const started = new Date().toISOString();
  const as = (user: string, groups: string | null): Record<string, string> => ({
    'X-Forwarded-User': user,
    ...(groups === null ? {} : { 'X-Forwarded-Groups': groups }),
    // The client's address as the proxy saw it: behind a trusted proxy, that is the source the audit log names.
    'X-Forwarded-For': '203.0.113.9',
  });
  const identities: Array<[string, string | null, object | null]> = [
    ['alice', 'sre', { actor: 'alice', role: 'operator', method: 'proxy' }],
    ['dev', 'developers', { actor: 'dev', role: 'viewer', method: 'proxy' }],
    ['carol', 'developers, platform-admins', { actor: 'carol', role: 'admin', method: 'proxy' }],
    ['mallory', 'interns', null],
    ['eve', null, null],
  ];
  for (const [user, groups, expected] of identities) {
    const res = await me(closed.url, as(user, groups));
    const status = await api.get(`${closed.url}/api/clusters/default/status`, { headers: as(user, groups) });
    if (expected) {
      expect(await res.json(), `${user} in ${groups}`).toEqual(expected);
      expect(status.status(), `${user} in ${groups}: status`).toBe(200);
      expect((await status.json()).clusterId, `${user} in ${groups}: status`).toBe('default');
    } else {
      await expectApiError(res, 401, 'unauthenticated', `${user} in ${groups}`);
      await expectApiError(status, 401, 'unauthenticated', `${user} in ${groups}: status`);
    }
  }
  await expectApiError(
    await api.get(`${closed.url}/api/clusters`, { headers: as('mallory', 'interns') }),
    401,
    'unauthenticated',
  );
  expect((await api.get(`${closed.url}/api/tokens`, { headers: as('carol', 'platform-admins') })).status()).toBe(200);
  await expectApiError(
    await api.get(`${closed.url}/api/tokens`, { headers: as('alice', 'sre') }),
    403,
    'forbidden',
    'operator lists tokens',
  );
  const byOperator = await api.post(`${closed.url}/api/tokens`, {
    headers: as('alice', 'sre'),
    data: { name: 'from alice', role: 'admin' },
  });
  await expectApiError(byOperator, 403, 'forbidden', 'operator creates a token');
  const byUnmapped = await api.post(`${closed.url}/api/tokens`, {
    headers: as('mallory', 'interns'),
    data: { name: 'from mallory', role: 'admin' },
  });
  await expectApiError(byUnmapped, 401, 'unauthenticated', 'unmapped group creates a token');

  const rows = await readAudit(api, closed.url, proxyAdmin, { from: started, action: 'token.create' });
  expect(rows.map((e) => `${auditLine(e)}: ${String(e.details.reason)}`).reverse()).toEqual([
    'alice (operator) via proxy from 203.0.113.9: token.create denied: the admin role is needed; alice is operator',
    'anonymous (-) via none from 203.0.113.9: token.create denied: none of the groups of mallory maps to a role',
  ]);

  // In Chromium behind the "proxy": straight in, no sign-in prompt, and no sign-out that could not work.
  await page.setExtraHTTPHeaders(as('alice', 'sre'));
  await page.goto(`${closed.url}/`);
  await expect(page).toHaveURL(`${closed.url}/`);
  await expect(page.getByTestId('user-menu')).toContainText('alice operator');
  await expect(page.getByTestId('user-menu').getByRole('button', { name: 'sign out' })).toHaveCount(0);
  await page.setExtraHTTPHeaders(as('mallory', 'interns'));
  await page.goto(`${closed.url}/`);
  await expect(page).toHaveURL(`${closed.url}/login?next=%2F`);
});

test('a cross-site POST riding a trusted proxy’s identity is refused like one riding a session cookie', async () => {
  // Behind oauth2-proxy the browser's credential is the proxy's cookie, which the proxy turns into X-Forwarded-User on
  // every request, including a form post from another site: the origin check must cover it as it covers sessions.
  const res = await api.post(`${closed.url}/api/tokens`, {
    headers: { ...proxyAdmin, Origin: EVIL, 'Sec-Fetch-Site': 'cross-site' },
    data: { name: 'csrf via proxy', role: 'admin' },
  });
  await expectApiError(res, 403, 'cross_origin', 'cross-site POST with proxy identity');
});

// ---------------------------------------------------------------------------------------------------------------
// The sign-in rate limit (on "closed", so the lock-out cannot get in the way of the other tests' sign-ins).

test('five wrong passwords lock a user out: the sixth try, even with the right password, gets 429 with Retry-After', async ({
  page,
}) => {
  const started = new Date().toISOString();
  const login = await request.newContext({ baseURL: closed.url });
  try {
    for (let i = 1; i <= 5; i++) {
      const res = await login.post('/api/auth/login', { data: { username: 'vera', password: `guess number ${i}!` } });
      await expectApiError(res, 401, 'invalid_credentials', `wrong password ${i}`);
    }
    const locked = await login.post('/api/auth/login', { data: { username: 'vera', password: PASSWORD.vera } });
    expect(await expectApiError(locked, 429, 'rate_limited', 'right password, sixth try')).toMatch(
      /^too many failed sign-ins; try again in \d+ s$/,
    );
    expect(locked.headers()['set-cookie']).toBeUndefined();
    const retryAfter = Number(locked.headers()['retry-after']);
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // Per user: another user signs in from the same address.
    expect(
      (await login.post('/api/auth/login', { data: { username: 'otto', password: PASSWORD.otto } })).status(),
    ).toBe(200);
  } finally {
    await login.dispose();
  }

  // What vera sees on the sign-in page.
  await page.goto(`${closed.url}/login`);
  await page.getByLabel('Username').fill('vera');
  await page.getByLabel('Password').fill(PASSWORD.vera);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('login-error')).toContainText('too many failed sign-ins; try again in');
  await expect(page).toHaveURL(`${closed.url}/login`);

  const rows = await readAudit(api, closed.url, proxyAdmin, { from: started, action: 'auth.login' });
  expect(rows.map((e) => `${auditLine(e)}: ${String(e.details.reason ?? '')}`).reverse()).toEqual([
    ...Array.from(
      { length: 5 },
      () => `vera (-) via password from ${ME}: auth.login failure: wrong username or password`,
    ),
    `vera (-) via password from ${ME}: auth.login denied: too many failed sign-ins for this user`,
    `otto (operator) via password from ${ME}: auth.login success: `,
    `vera (-) via password from ${ME}: auth.login denied: too many failed sign-ins for this user`,
  ]);
});

// ---------------------------------------------------------------------------------------------------------------
// The audit log page.

test('an admin reads the audit log at /audit and filters it; other roles are told they may not', async ({
  page,
  context,
}) => {
  // Something of each kind to show: a failed sign-in, a refused request, a token created and revoked.
  const login = await request.newContext();
  expect(
    (
      await login.post(`${main.url}/api/auth/login`, { data: { username: 'vera', password: 'nope nope nope' } })
    ).status(),
  ).toBe(401);
  await login.dispose();
  const refused = await api.post(`${main.url}/api/tokens`, {
    headers: sessionHeaders(main.url, cookie.vera),
    data: { name: 'from vera', role: 'admin' },
  });
  expect(refused.status()).toBe(403);
  const token = await createToken(main.url, sessionHeaders(main.url, cookie.admin), 'audit-page-bot', 'viewer');
  expect((await api.delete(`${main.url}/api/tokens/${token.id}`, { headers: setup() })).status()).toBe(200);

  await useSession(context, cookie.vera);
  await page.goto(`${main.url}/audit`);
  await expect(page.getByRole('main').getByRole('alert')).toHaveText('This page needs the admin role; vera is viewer.');
  await expect(page.getByTestId('audit-row')).toHaveCount(0);
  await expect(page.getByRole('navigation', { name: 'Pages' }).getByRole('link')).toHaveText([
    'Overview',
    'History',
    'Snapshots',
    'Maintenance',
    'Runbooks',
  ]);

  await context.clearCookies();
  await useSession(context, cookie.admin);
  await page.goto(`${main.url}/audit`);
  const rows = page.getByTestId('audit-row');
  const failed = rows
    .and(page.locator('[data-action="auth.login"][data-outcome="failure"]'))
    .filter({ hasText: 'vera' });
  await expect(failed.first()).toContainText(ME);
  const denied = rows.and(page.locator('[data-action="token.create"][data-outcome="denied"]'));
  await expect(denied.filter({ hasText: 'vera (viewer)' }).first()).toContainText('the admin role is needed');
  await expect(denied.filter({ hasText: 'vera (viewer)' }).first()).toContainText('session');
  const revoked = rows.and(page.locator('[data-action="token.revoke"][data-outcome="success"]'));
  await expect(revoked.filter({ hasText: token.id })).toContainText('token:setup (admin)');

  await page.getByLabel('Outcome').selectOption('denied');
  await expect(rows.first()).toBeVisible();
  await expect
    .poll(async () => [...new Set(await rows.evaluateAll((r) => r.map((e) => e.dataset.outcome)))])
    .toEqual(['denied']);
  await page.getByLabel('Who').fill('vera');
  await expect(denied.filter({ hasText: 'vera (viewer)' }).first()).toBeVisible();
  await expect
    // innerText: what the cell shows (its label, for the phone's cards, is hidden on a laptop).
    .poll(async () =>
      rows.evaluateAll((r) =>
        r.every((e) => /^vera\b/.test((e.children[1] as HTMLElement | undefined)?.innerText ?? '')),
      ),
    )
    .toBe(true);
  await expect(rows.filter({ hasText: 'token:setup' })).toHaveCount(0);
  // No error from the audit API on the page (Next.js's route announcer, outside <main>, is also an alert).
  await expect(page.getByRole('main').getByRole('alert')).toHaveCount(0);

  await expectApiError(
    await api.get(`${main.url}/api/audit?outcome=maybe`, { headers: setup() }),
    400,
    'bad_request',
    'bad outcome filter',
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Security headers.

function expectCommonHeaders(res: APIResponse, label: string) {
  const h = res.headers();
  expect(h['x-content-type-options'], label).toBe('nosniff');
  expect(h['referrer-policy'], label).toBe('no-referrer');
  expect(h['x-frame-options'], label).toBe('DENY');
}

async function staticAssets(): Promise<string[]> {
  const html = await (await api.get(`${main.url}/login`)).text();
  const scripts = [...html.matchAll(/\/_next\/static\/[^"'\s]+\.js/g)].map((m) => m[0]);
  expect(scripts.length).toBeGreaterThan(0);
  return [scripts[0]!, '/favicon.svg'];
}

test('security headers are on pages, API answers (errors too) and static files; no other site may frame a page', async ({
  page,
}) => {
  const pages: Array<[string, number]> = [
    ['/login', 200],
    ['/', 307], // the redirect to /login
    ['/no-such-page', 404],
  ];
  for (const [p, status] of pages) {
    const res = await api.get(`${main.url}${p}`, { maxRedirects: 0 });
    expect(res.status(), p).toBe(status);
    expectCommonHeaders(res, p);
    const csp = res.headers()['content-security-policy'] ?? '';
    expect(csp, p).toContain("frame-ancestors 'none'");
    expect(csp, p).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
    expect(csp, p).toContain("object-src 'none'");
  }
  const apiAnswers: Array<[string, Record<string, string>, number]> = [
    ['/api/clusters', setup(), 200],
    ['/api/clusters', {}, 401],
    ['/api/audit', sessionHeaders(main.url, cookie.vera), 403],
    ['/api/clusters/nope/status', setup(), 404],
    ['/api/clusters/default/status', setup(), 200],
    ['/api/clusters/default/status', {}, 401],
  ];
  for (const [p, headers, status] of apiAnswers) {
    const res = await api.get(`${main.url}${p}`, { headers });
    expect(res.status(), p).toBe(status);
    expectCommonHeaders(res, `${p} (${status})`);
    expect(res.headers()['content-security-policy'], p).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers()['cache-control'], p).toBe('no-store');
    expect(res.headers()['content-type'], p).toMatch(/^application\/json/);
  }
  // The status every open page polls each second goes out compressed to a client that accepts gzip, as every other
  // answer of Next.js does, and plain to one that does not.
  for (const encoding of ['gzip, deflate, br', 'identity']) {
    const res = await api.get(`${main.url}/api/clusters/default/status`, {
      headers: { ...setup(), 'Accept-Encoding': encoding },
    });
    expect(res.status(), encoding).toBe(200);
    expect(res.headers()['content-encoding'], encoding).toBe(encoding === 'identity' ? undefined : 'gzip');
    // Answered by server/server.mjs's fast path (Next.js's own answer varies on its RSC headers too): were it ever
    // silently off, the API would serve a tenth of the requests under load (docs/performance.md, figure 2).
    expect(res.headers()['vary'], encoding).toBe('Accept-Encoding');
    expect((await res.json()).members, encoding).toHaveLength(3);
  }
  for (const asset of await staticAssets()) {
    const res = await api.get(`${main.url}${asset}`);
    expect(res.status(), asset).toBe(200);
    expectCommonHeaders(res, asset);
  }

  // What a user of another site would see: the dashboard refuses to appear in its frame.
  await page.route(`http://127.0.0.1:${PORT.otherSite}/frame`, (route) =>
    route.fulfill({ contentType: 'text/html', body: `<iframe src="${main.url}/login"></iframe>` }),
  );
  await page.goto(`http://127.0.0.1:${PORT.otherSite}/frame`);
  await expect
    .poll(() => page.frames().map((f) => f.url()))
    .toEqual([`http://127.0.0.1:${PORT.otherSite}/frame`, 'chrome-error://chromewebdata/']);
  await expect(page.frameLocator('iframe').getByRole('button', { name: 'Sign in' })).toHaveCount(0);
});

test('static files carry a Content-Security-Policy with frame-ancestors too, as every response should', async () => {
  // An SVG opened directly is a document, so static files need a policy too (a strict one, from next.config.js).
  for (const asset of await staticAssets()) {
    const res = await api.get(`${main.url}${asset}`);
    expect(res.headers()['content-security-policy'] ?? '', asset).toContain("frame-ancestors 'none'");
  }
});

test('a session cookie that does not decode is no session: 401, or the anonymous view where it is on; never a 500', async () => {
  for (const value of ['%zz', '%', '%c0%ae']) {
    const headers = { Cookie: `${SESSION_COOKIE}=${value}` };
    for (const route of ['/api/clusters', '/api/clusters/default/status', '/api/auth/me']) {
      await expectApiError(
        await api.get(`${main.url}${route}`, { headers }),
        401,
        'unauthenticated',
        `${route} ${value}`,
      );
      expect((await api.get(`${open.url}${route}`, { headers })).status(), `${route} ${value} (anonymous on)`).toBe(
        200,
      );
    }
  }
  expect(await (await me(open.url, { Cookie: `${SESSION_COOKIE}=%zz` })).json()).toMatchObject({ method: 'anonymous' });
});

test('after signing in, /login?next= never sends the browser to another site', async ({ page }) => {
  // Browsers read "/\" as "//": "/\evil.example/…" must not send the user to another site after signing in.
  await page.route(`${EVIL}/**`, (route) => route.fulfill({ contentType: 'text/html', body: '<h1>evil</h1>' }));
  await page.goto(`${main.url}/login?next=${encodeURIComponent('/\\evil.example/sign-in-again')}`);
  await page.getByLabel('Username').fill('vera');
  await page.getByLabel('Password').fill(PASSWORD.vera);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Wherever the browser goes after signing in, it must still be on the dashboard.
  await page.waitForURL((url) => url.origin !== main.url || url.pathname !== '/login');
  expect(new URL(page.url()).origin).toBe(main.url);
});
