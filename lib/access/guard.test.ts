import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GET as listTokens, POST as createToken } from '@/app/api/tokens/route';
import { AuditLog } from '@/lib/auth/audit-log';
import { TokenStore } from '@/lib/auth/token-store';
import { openDatabase } from '@/lib/db/database';
import { accessServices } from '@/test/support/access-services';

// The part of the dashboard's runtime an access check touches, over a real database in a temporary folder.
const runtime = vi.hoisted(() => ({ current: null as unknown }));
vi.mock('@/lib/app/dashboard', () => ({ dashboard: () => runtime.current }));

const T0 = Date.now();
let dir: string;
let db: Database.Database;
let tokens: TokenStore;
let audit: AuditLog;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'guard-'));
  db = openDatabase(path.join(dir, 'dashboard.sqlite'));
  const services = accessServices(db);
  ({ tokens, audit } = services.auth);
  runtime.current = services;
});
afterEach(() => {
  vi.useRealTimers();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const made = (name: string, role: 'viewer' | 'admin', expiresAt: number | null = null) =>
  tokens.create({ name, role, expiresAt, createdBy: 'alice' }, T0);
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const post = (headers: Record<string, string>) =>
  createToken(
    new Request('http://dashboard.test/api/tokens', {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'new', role: 'viewer' }),
    }),
  );
const get = (headers: Record<string, string>) =>
  listTokens(new Request('http://dashboard.test/api/tokens', { headers }));
const rows = async () =>
  (await audit.query()).map(({ actor, role, method, action, outcome, details }) => ({
    actor,
    role,
    method,
    action,
    outcome,
    details,
  }));

describe('refusals in the audit log', () => {
  it('a 403 is audited even on a read (someone known asking past their role); a signed-out 401 read is not', async () => {
    const viewer = await made('dash-reader', 'viewer');
    expect((await get(bearer(viewer.token))).status).toBe(403);
    expect((await get({})).status).toBe(401);
    expect(await rows()).toEqual([
      {
        actor: 'token:dash-reader',
        role: 'viewer',
        method: 'token',
        action: 'GET /api/tokens',
        outcome: 'denied',
        details: { reason: 'the admin role is needed; token:dash-reader is viewer', actorTokenId: viewer.id },
      },
    ]);
  });

  it('a revoked or expired token is named (by name and id) in the refusal, not logged as anonymous', async () => {
    const revoked = await made('nightly', 'admin');
    await tokens.revoke(revoked.id, T0);
    const expiring = await made('weekly', 'admin', T0 + 1000);
    vi.useFakeTimers({ now: T0 + 2000, toFake: ['Date'] });
    const refusals = [await post(bearer(revoked.token)), await post(bearer(expiring.token))];
    expect(await Promise.all(refusals.map(async (r) => [r.status, await r.json()]))).toEqual([
      [401, { error: { code: 'unauthenticated', message: `the API token ${revoked.id} was revoked` } }],
      [401, { error: { code: 'unauthenticated', message: `the API token ${expiring.id} has expired` } }],
    ]);
    expect(await rows()).toEqual([
      {
        actor: 'token:weekly',
        role: null,
        method: 'token',
        action: 'token.create',
        outcome: 'denied',
        details: { reason: `the API token ${expiring.id} has expired`, actorTokenId: expiring.id },
      },
      {
        actor: 'token:nightly',
        role: null,
        method: 'token',
        action: 'token.create',
        outcome: 'denied',
        details: { reason: `the API token ${revoked.id} was revoked`, actorTokenId: revoked.id },
      },
    ]);
  });

  it('a real token id with a wrong secret names nothing: whoever guessed the id learns nothing from it', async () => {
    const real = await made('nightly', 'admin');
    await tokens.revoke(real.id, T0);
    const forged = `etcdd_${real.id}_${'A'.repeat(43)}`;
    const res = await post(bearer(forged));
    expect(await res.json()).toEqual({
      error: { code: 'unauthenticated', message: 'the API token is unknown, expired or revoked' },
    });
    expect(await rows()).toMatchObject([
      { actor: 'anonymous', method: 'none', details: { reason: expect.any(String) } },
    ]);
    expect(JSON.stringify(await rows())).not.toContain(real.id);
  });

  it('what a token does is recorded with its id beside its name, as two tokens may share a name', async () => {
    const admin = await made('ops', 'admin');
    await made('ops', 'admin');
    const res = await post(bearer(admin.token));
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect(await rows()).toEqual([
      {
        actor: 'token:ops',
        role: 'admin',
        method: 'token',
        action: 'token.create',
        outcome: 'success',
        details: { actorTokenId: admin.id, tokenId: id, tokenName: 'new', tokenRole: 'viewer', expiresAt: null },
      },
    ]);
  });
});
