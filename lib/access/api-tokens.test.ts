import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { POST } from '@/app/api/tokens/route';
import { TokenStore } from '@/lib/auth/token-store';
import { openDatabase } from '@/lib/db/database';
import { accessServices } from '@/test/support/access-services';

// The part of the dashboard's runtime that creating a token touches, over a real database in a temporary folder.
const runtime = vi.hoisted(() => ({ current: null as unknown }));
vi.mock('@/lib/app/dashboard', () => ({ dashboard: () => runtime.current }));

let dir: string;
let db: Database.Database;
let tokens: TokenStore;
let adminToken: string;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'api-tokens-'));
  db = openDatabase(path.join(dir, 'dashboard.sqlite'));
  const services = accessServices(db);
  tokens = services.auth.tokens;
  runtime.current = services;
  adminToken = (
    await tokens.create({ name: 'admin script', role: 'admin', expiresAt: null, createdBy: 'alice' }, Date.now())
  ).token;
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function createTokenRequest(body: unknown): Request {
  return new Request('http://dashboard.test/api/tokens', {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('POST /api/tokens', () => {
  it('creates a token for an admin', async () => {
    const res = await POST(createTokenRequest({ name: 'nightly backup', role: 'operator' }));
    expect(res.status).toBe(201);
    expect((await tokens.list(Date.now())).map((t) => t.name)).toContain('nightly backup');
  });

  // The security review: such a name reached the store, whose refusal became a 500.
  it.each(['nightly\u0007backup', 'line\nbreak', 'nul\u0000', 'tab\there', 'del\u007f', 'c1\u0085'])(
    'a name with control characters (%j) is a 400 naming the field, and no token is made',
    async (name) => {
      const res = await POST(createTokenRequest({ name, role: 'operator' }));
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 400,
        body: { error: { code: 'bad_request', message: 'name: must not contain control characters' } },
      });
      expect((await tokens.list(Date.now())).map((t) => t.name)).toEqual(['admin script']);
    },
  );
});
