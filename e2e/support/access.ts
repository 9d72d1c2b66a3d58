// Helpers for access-control specs: password hashes made the way an operator makes them, dashboards started with
// anonymous viewing off, sign-in, and reading the one error shape and the audit log.
import { expect, request, type APIRequestContext, type APIResponse } from '@playwright/test';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startDashboard, type DashboardProcess } from '../../scripts/lib/dashboard-process';
import type { AuditEntry } from '../../lib/auth/audit-log';
import { E2E_ROOT } from './e2e-env';

const ROOT = path.resolve(__dirname, '..', '..');

export const SESSION_COOKIE = 'etcd_dashboard_session';

/** `npm run -s hash-password`: the password on stdin, the scrypt hash on stdout, as the README tells operators. */
export function hashPasswordWithCli(password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', '--conditions=react-server', 'scripts/hash-password.ts'], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const hash = out.trim();
      if (code === 0 && hash.startsWith('scrypt$')) resolve(hash);
      else reject(new Error(`hash-password exited ${code}: ${err.trim()}`));
    });
    child.stdin.end(password);
  });
}

export interface AuthDashboardOptions {
  port: number;
  /** Names the log (E2E_ROOT/dashboard-<name>.log) and the data folder (E2E_ROOT/<name>-data). */
  name: string;
  env: Record<string, string>;
}

/**
 * Starts the production dashboard and waits until it answers and has synced its users. startDashboard's own wait
 * wants GET /api/clusters to be 200, which it never is while anonymous viewing is off, so the wait is done here: the
 * API answering 200 or 401 to /api/auth/me, and the start-up line that comes after the users are in the database.
 */
export async function startAuthDashboard(opts: AuthDashboardOptions): Promise<DashboardProcess> {
  const dashboard = await startDashboard({
    port: opts.port,
    env: opts.env,
    logFile: path.join(E2E_ROOT, `dashboard-${opts.name}.log`),
    dataDir: path.join(E2E_ROOT, `${opts.name}-data`),
    waitReady: false,
  });
  const ready = expect
    .poll(
      async () => {
        if (!/local user\(s\)/.test(dashboard.log())) return 'users not synced yet';
        try {
          const res = await fetch(`${dashboard.url}/api/auth/me`);
          return [200, 401].includes(res.status) ? 'ready' : `HTTP ${res.status}`;
        } catch {
          return 'not listening yet';
        }
      },
      { timeout: 30_000, intervals: [100], message: `dashboard ${opts.name} on ${dashboard.url}` },
    )
    .toBe('ready');
  const exited = dashboard.exited.then((code) => {
    throw new Error(`dashboard ${opts.name} exited (${code}) during start; log:\n${dashboard.log()}`);
  });
  exited.catch(() => undefined); // it exits when stopped too: only the race below treats that as an error
  try {
    await Promise.race([ready, exited]);
  } catch (err) {
    await dashboard.stop();
    throw err;
  }
  return dashboard;
}

/** Signs in through the API as the login page does (same origin) and returns the session cookie's value. */
export async function signInCookie(baseURL: string, username: string, password: string): Promise<string> {
  // A context of its own: the session must not end up in the cookie jar of a context used for other identities.
  const ctx = await request.newContext({ baseURL });
  try {
    const res = await ctx.post('/api/auth/login', { data: { username, password }, headers: { Origin: baseURL } });
    expect(res.status(), `sign-in of ${username}: ${await res.text()}`).toBe(200);
    const value = new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(res.headers()['set-cookie'] ?? '')?.[1];
    expect(value, 'Set-Cookie carries the session').toBeTruthy();
    return value as string;
  } finally {
    await ctx.dispose();
  }
}

/** What a request from the dashboard's own page sends: its cookie and its origin. */
export const sessionHeaders = (baseURL: string, cookie: string): Record<string, string> => ({
  Cookie: `${SESSION_COOKIE}=${cookie}`,
  Origin: baseURL,
});

export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Whether a body is exactly the one error shape { error: { code, message } } with a non-empty message. */
export function isErrorShape(body: unknown, code?: string): body is ErrorBody {
  if (typeof body !== 'object' || body === null) return false;
  const keys = Object.keys(body);
  const e = (body as { error?: unknown }).error;
  if (keys.length !== 1 || typeof e !== 'object' || e === null) return false;
  const { code: c, message } = e as { code?: unknown; message?: unknown };
  return (
    Object.keys(e).sort().join() === 'code,message' &&
    typeof c === 'string' &&
    typeof message === 'string' &&
    message.length > 0 &&
    (code === undefined || c === code)
  );
}

/** Expects `status` and the one error shape with `code`; returns the message. */
export async function expectApiError(res: APIResponse, status: number, code: string, label = ''): Promise<string> {
  const text = await res.text();
  expect(res.status(), `${label} ${text}`).toBe(status);
  expect(res.headers()['content-type'], label).toContain('application/json');
  const body: unknown = JSON.parse(text);
  expect(isErrorShape(body, code), `${label}: ${text} is not { error: { code: "${code}", message } }`).toBe(true);
  return (body as ErrorBody).error.message;
}

/** GET /api/audit with the given credentials; newest first. */
export async function readAudit(
  api: APIRequestContext,
  baseURL: string,
  headers: Record<string, string>,
  query: Record<string, string> = {},
): Promise<AuditEntry[]> {
  const res = await api.get(`${baseURL}/api/audit?${new URLSearchParams({ limit: '1000', ...query })}`, { headers });
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { entries: AuditEntry[] }).entries;
}

/** One line per audit row with the fields a reader checks: who, in what role, how, from where, what, how it went. */
export const auditLine = (e: Pick<AuditEntry, 'actor' | 'role' | 'method' | 'source' | 'action' | 'outcome'>) =>
  `${e.actor} (${e.role ?? '-'}) via ${e.method} from ${e.source ?? '-'}: ${e.action} ${e.outcome}`;
