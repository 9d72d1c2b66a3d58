import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { sqliteStore } from '@/lib/db/sqlite-store';
import { describeOnEachEngine } from '@/test/support/store-engines';
import { tempDatabasePerTest } from '@/test/support/temp-database';
import { TokenStore, type NewTokenInput } from './token-store';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
/** This file's PostgreSQL server. */
const PG_PORT = 25914;

const input = (over: Partial<NewTokenInput> = {}): NewTokenInput => ({
  name: 'ci backup job',
  role: 'operator',
  expiresAt: null,
  createdBy: 'alice',
  ...over,
});
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describeOnEachEngine('TokenStore', PG_PORT, (engine) => {
  let tokens: TokenStore;
  beforeEach(() => {
    tokens = new TokenStore(engine.db);
  });

  const lastUsed = async (id: string) => (await tokens.list(T0)).find((t) => t.id === id)?.lastUsedAt;

  it('makes a recognisable etcdd_<id>_<secret> token that resolves to its name and role', async () => {
    const { id, token } = await tokens.create(input(), T0);
    expect(token).toMatch(/^etcdd_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(`etcdd_${id}_`)).toBe(true);
    expect(Buffer.from(token.slice(`etcdd_${id}_`.length), 'base64url')).toHaveLength(32);
    expect((await tokens.create(input(), T0)).token).not.toBe(token);

    expect(await tokens.resolve(token, T0 + SECOND)).toEqual({ id, name: 'ci backup job', role: 'operator' });
  });

  it('stores only the sha256 of the token', async () => {
    const { token } = await tokens.create(input(), T0);
    const secret = token.split('_').slice(2).join('_');
    const db = await engine.reopen();
    const { rows } = await sql`SELECT * FROM api_tokens`.execute(db);
    const text = JSON.stringify(rows);
    expect(text).not.toContain(token);
    expect(text).not.toContain(secret);
    expect(rows.map((r) => (r as { token_hash: unknown }).token_hash)).toEqual([sha256(token)]);
  });

  it('lists tokens newest first with their state, never the token or its digest', async () => {
    const a = await tokens.create(input({ name: 'forever' }), T0);
    const b = await tokens.create(input({ name: 'short', role: 'viewer', expiresAt: T0 + DAY }), T0 + SECOND);
    const c = await tokens.create(input({ name: 'revoked', role: 'admin', createdBy: 'bob' }), T0 + 2 * SECOND);
    await tokens.revoke(c.id, T0 + 3 * SECOND);

    const listed = await tokens.list(T0 + DAY);
    expect(listed).toEqual([
      {
        id: c.id,
        name: 'revoked',
        role: 'admin',
        createdBy: 'bob',
        createdAt: T0 + 2 * SECOND,
        expiresAt: null,
        revokedAt: T0 + 3 * SECOND,
        lastUsedAt: null,
        state: 'revoked',
      },
      expect.objectContaining({ id: b.id, name: 'short', expiresAt: T0 + DAY, state: 'expired' }),
      expect.objectContaining({ id: a.id, name: 'forever', state: 'active' }),
    ]);
    expect((await tokens.list(T0 + DAY - 1)).map((t) => t.state)).toEqual(['revoked', 'active', 'active']);
    const text = JSON.stringify(listed);
    for (const t of [a, b, c]) {
      expect(text).not.toContain(t.token.slice(-20));
      expect(text).not.toContain(sha256(t.token));
    }
  });

  it('resolves revoked, expired, unknown and tampered tokens to null', async () => {
    const live = await tokens.create(input(), T0);
    const expiring = await tokens.create(input({ expiresAt: T0 + DAY }), T0);
    const revoked = await tokens.create(input(), T0);
    expect(await tokens.revoke(revoked.id, T0 + SECOND)).toBe(true);

    expect(await tokens.resolve(expiring.token, T0 + DAY - 1)).not.toBeNull();
    expect(await tokens.resolve(expiring.token, T0 + DAY)).toBeNull();
    expect(await tokens.resolve(revoked.token, T0 + 2 * SECOND)).toBeNull();
    const last = live.token.at(-1) === 'A' ? 'B' : 'A';
    for (const bad of [
      '',
      'etcdd_',
      `${live.token.slice(0, -1)}${last}`,
      `${live.token}A`,
      live.token.replace(live.id, revoked.id),
      `Bearer ${live.token}`,
      sha256(live.token),
    ]) {
      expect(await tokens.resolve(bad, T0 + SECOND), bad).toBeNull();
    }
    expect(await tokens.resolve(live.token, T0 + SECOND)).not.toBeNull();
  });

  it('names a revoked or expired token on inspect without recording a use, and nothing for a wrong secret', async () => {
    const live = await tokens.create(input({ name: 'live', expiresAt: T0 + DAY }), T0);
    const revoked = await tokens.create(input({ name: 'gone' }), T0);
    await tokens.revoke(revoked.id, T0 + SECOND);

    expect(await tokens.inspect(live.token, T0 + SECOND)).toEqual({ id: live.id, name: 'live', state: 'active' });
    expect(await tokens.inspect(live.token, T0 + DAY)).toEqual({ id: live.id, name: 'live', state: 'expired' });
    expect(await tokens.inspect(revoked.token, T0 + SECOND)).toEqual({
      id: revoked.id,
      name: 'gone',
      state: 'revoked',
    });
    const last = live.token.at(-1) === 'A' ? 'B' : 'A';
    expect(await tokens.inspect(`${live.token.slice(0, -1)}${last}`, T0)).toBeNull();
    expect(await lastUsed(live.id)).toBeNull();
  });

  it('revokes once: false for an unknown or already revoked id, keeping the first revocation time', async () => {
    const { id } = await tokens.create(input(), T0);
    expect(await tokens.revoke('0000000000000000', T0)).toBe(false);
    expect(await tokens.revoke(id, T0 + SECOND)).toBe(true);
    expect(await tokens.revoke(id, T0 + 2 * SECOND)).toBe(false);
    expect((await tokens.list(T0))[0]?.revokedAt).toBe(T0 + SECOND);
  });

  it('records last use at most once a minute', async () => {
    const { id, token } = await tokens.create(input(), T0);
    expect(await lastUsed(id)).toBeNull();
    await tokens.resolve(token, T0 + SECOND);
    expect(await lastUsed(id)).toBe(T0 + SECOND);
    await tokens.resolve(token, T0 + 30 * SECOND);
    await tokens.resolve(token, T0 + MINUTE);
    expect(await lastUsed(id)).toBe(T0 + SECOND);
    await tokens.resolve(token, T0 + MINUTE + SECOND);
    expect(await lastUsed(id)).toBe(T0 + MINUTE + SECOND);
  });

  it('does not record a use that was refused', async () => {
    const { id, token } = await tokens.create(input({ expiresAt: T0 + MINUTE }), T0);
    await tokens.resolve(token, T0 + 2 * MINUTE);
    expect(await lastUsed(id)).toBeNull();
  });

  it('refuses an expiry that is not in the future, a bad name, role or creator', async () => {
    await expect(tokens.create(input({ expiresAt: T0 - 1 }), T0)).rejects.toThrow(
      /expiresAt 2025-03-01T11:59:59.999Z is not/,
    );
    await expect(tokens.create(input({ expiresAt: T0 }), T0)).rejects.toThrow(/not in the future/);
    await expect(tokens.create(input({ expiresAt: Number.NaN }), T0)).rejects.toThrow(/not in the future/);
    await expect(tokens.create(input({ name: '' }), T0)).rejects.toThrow(/token name "" is not valid/);
    await expect(tokens.create(input({ name: '   ' }), T0)).rejects.toThrow(/token name/);
    await expect(tokens.create(input({ name: 'x'.repeat(101) }), T0)).rejects.toThrow(/1–100/);
    await expect(tokens.create(input({ name: 'line\nbreak' }), T0)).rejects.toThrow(/token name/);
    await expect(tokens.create(input({ role: 'root' as 'admin' }), T0)).rejects.toThrow(/role "root"/);
    await expect(tokens.create(input({ createdBy: '' }), T0)).rejects.toThrow(/createdBy/);
    expect(await tokens.list(T0)).toEqual([]);

    expect((await tokens.create(input({ name: 'x'.repeat(100), expiresAt: T0 + 1 }), T0)).id).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('TokenStore on an SQLite file', () => {
  const temp = tempDatabasePerTest('token-store-');

  it('keeps the token and its secret nowhere in the file', async () => {
    const { token } = await new TokenStore(sqliteStore(temp.db)).create(input(), T0);
    const secret = token.split('_').slice(2).join('_');
    // Closing checkpoints the WAL into the file, so its bytes are all there is.
    temp.db.close();
    const bytes = readFileSync(temp.file);
    expect(bytes.includes(token)).toBe(false);
    expect(bytes.includes(secret)).toBe(false);
    expect(bytes.includes(sha256(token))).toBe(true);
  });
});
