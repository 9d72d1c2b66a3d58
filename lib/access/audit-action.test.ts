import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { POST as signIn } from '@/app/api/auth/login/route';
import { POST as createToken } from '@/app/api/tokens/route';
import { DELETE as revokeToken } from '@/app/api/tokens/[id]/route';
import { AuditLog } from '@/lib/auth/audit-log';
import { TokenStore } from '@/lib/auth/token-store';
import { UserStore } from '@/lib/auth/user-store';
import { openDatabase } from '@/lib/db/database';
import { accessServices } from '@/test/support/access-services';

// The part of the dashboard's runtime these routes touch, over a real database in a temporary folder.
const runtime = vi.hoisted(() => ({ current: null as unknown }));
vi.mock('@/lib/app/dashboard', () => ({ dashboard: () => runtime.current }));

let dir: string;
let db: Database.Database;
let tokens: TokenStore;
let users: UserStore;
let audit: AuditLog;
let admin: { id: string; token: string };

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'audit-action-'));
  db = openDatabase(path.join(dir, 'dashboard.sqlite'));
  const services = accessServices(db, { sessionTtlMs: 3_600_000 });
  ({ tokens, users, audit } = services.auth);
  runtime.current = services;
  admin = await tokens.create({ name: 'ops', role: 'admin', expiresAt: null, createdBy: 'alice' }, Date.now());
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const create = (body: string) =>
  createToken(
    new Request('http://dashboard.test/api/tokens', {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin.token}`, 'Content-Type': 'application/json' },
      body,
    }),
  );
const revoke = (id: string) =>
  revokeToken(
    new Request(`http://dashboard.test/api/tokens/${id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${admin.token}` },
    }),
    { params: Promise.resolve({ id }) },
  );
const failures = async () =>
  (await audit.query({ outcome: 'failure' }))
    .reverse()
    .map(({ actor, action, details }) => ({ actor, action, details }));

describe('an audited action that fails leaves a row with the answer the caller got', () => {
  it('a bad body, an unknown token and one already revoked: 400, 404 and 409, each recorded', async () => {
    expect((await create('{"name":""}')).status).toBe(400);
    expect((await revoke('0123456789abcdef')).status).toBe(404);
    const victim = await tokens.create(
      { name: 'old', role: 'viewer', expiresAt: null, createdBy: 'alice' },
      Date.now(),
    );
    expect((await revoke(victim.id)).status).toBe(200);
    expect((await revoke(victim.id)).status).toBe(409);
    const by = { actorTokenId: admin.id };
    expect(await failures()).toEqual([
      {
        actor: 'token:ops',
        action: 'token.create',
        details: { ...by, status: 400, code: 'bad_request', reason: expect.stringMatching(/^name: /) },
      },
      {
        actor: 'token:ops',
        action: 'token.revoke',
        details: { ...by, status: 404, code: 'not_found', reason: 'no token with id "0123456789abcdef"' },
      },
      {
        actor: 'token:ops',
        action: 'token.revoke',
        details: { ...by, status: 409, code: 'already_revoked', reason: `token "${victim.id}" is already revoked` },
      },
    ]);
  });

  it('a 500 is recorded as a failure naming the error class only, and still answers in the one shape', async () => {
    vi.spyOn(tokens, 'create').mockImplementation(() => {
      throw new TypeError('a detail the log must not carry');
    });
    const res = await create('{"name":"nightly","role":"viewer"}');
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 500,
      body: { error: { code: 'internal', message: 'internal error; see the server log' } },
    });
    expect(await failures()).toEqual([
      {
        actor: 'token:ops',
        action: 'token.create',
        details: {
          actorTokenId: admin.id,
          status: 500,
          code: 'internal',
          reason: 'internal error; see the server log',
          error: 'TypeError',
        },
      },
    ]);
  });

  it('a sign-in that fails on our side is recorded; a body that is no sign-in at all is not (anyone could send it)', async () => {
    const login = (body: string) =>
      signIn(
        new Request('http://dashboard.test/api/auth/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
        }),
      );
    expect((await login('{"user":"x"}')).status).toBe(400);
    expect(await failures()).toEqual([]);
    vi.spyOn(users, 'get').mockImplementation(() => {
      throw new RangeError('database is locked');
    });
    expect((await login('{"username":"vera","password":"long enough password"}')).status).toBe(500);
    expect(await failures()).toEqual([
      {
        actor: 'vera',
        action: 'auth.login',
        details: { status: 500, code: 'internal', reason: 'internal error; see the server log', error: 'RangeError' },
      },
    ]);
  });
});
