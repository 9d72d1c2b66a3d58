import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { tempDatabasePerTest } from '@/test/support/temp-database';
import { TokenStore, type NewTokenInput } from './token-store';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

const temp = tempDatabasePerTest('token-store-');
let tokens: TokenStore;

beforeEach(() => {
  tokens = new TokenStore(temp.db);
});

const input = (over: Partial<NewTokenInput> = {}): NewTokenInput => ({
  name: 'ci backup job',
  role: 'operator',
  expiresAt: null,
  createdBy: 'alice',
  ...over,
});
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const lastUsed = (id: string) => tokens.list(T0).find((t) => t.id === id)?.lastUsedAt;

describe('TokenStore', () => {
  it('makes a recognisable etcdd_<id>_<secret> token that resolves to its name and role', () => {
    const { id, token } = tokens.create(input(), T0);
    expect(token).toMatch(/^etcdd_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(`etcdd_${id}_`)).toBe(true);
    expect(Buffer.from(token.slice(`etcdd_${id}_`.length), 'base64url')).toHaveLength(32);
    expect(tokens.create(input(), T0).token).not.toBe(token);

    expect(tokens.resolve(token, T0 + SECOND)).toEqual({ id, name: 'ci backup job', role: 'operator' });
  });

  it('stores only the sha256 of the token', () => {
    const { token } = tokens.create(input(), T0);
    const secret = token.split('_').slice(2).join('_');
    temp.db.close();
    const bytes = readFileSync(temp.file);
    expect(bytes.includes(token)).toBe(false);
    expect(bytes.includes(secret)).toBe(false);
    expect(temp.reopen().prepare('SELECT token_hash FROM api_tokens').pluck().get()).toBe(sha256(token));
  });

  it('lists tokens newest first with their state, never the token or its digest', () => {
    const a = tokens.create(input({ name: 'forever' }), T0);
    const b = tokens.create(input({ name: 'short', role: 'viewer', expiresAt: T0 + DAY }), T0 + SECOND);
    const c = tokens.create(input({ name: 'revoked', role: 'admin', createdBy: 'bob' }), T0 + 2 * SECOND);
    tokens.revoke(c.id, T0 + 3 * SECOND);

    const listed = tokens.list(T0 + DAY);
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
    expect(tokens.list(T0 + DAY - 1).map((t) => t.state)).toEqual(['revoked', 'active', 'active']);
    const text = JSON.stringify(listed);
    for (const t of [a, b, c]) {
      expect(text).not.toContain(t.token.slice(-20));
      expect(text).not.toContain(sha256(t.token));
    }
  });

  it('resolves revoked, expired, unknown and tampered tokens to null', () => {
    const live = tokens.create(input(), T0);
    const expiring = tokens.create(input({ expiresAt: T0 + DAY }), T0);
    const revoked = tokens.create(input(), T0);
    expect(tokens.revoke(revoked.id, T0 + SECOND)).toBe(true);

    expect(tokens.resolve(expiring.token, T0 + DAY - 1)).not.toBeNull();
    expect(tokens.resolve(expiring.token, T0 + DAY)).toBeNull();
    expect(tokens.resolve(revoked.token, T0 + 2 * SECOND)).toBeNull();
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
      expect(tokens.resolve(bad, T0 + SECOND), bad).toBeNull();
    }
    expect(tokens.resolve(live.token, T0 + SECOND)).not.toBeNull();
  });

  it('revokes once: false for an unknown or already revoked id, keeping the first revocation time', () => {
    const { id } = tokens.create(input(), T0);
    expect(tokens.revoke('0000000000000000', T0)).toBe(false);
    expect(tokens.revoke(id, T0 + SECOND)).toBe(true);
    expect(tokens.revoke(id, T0 + 2 * SECOND)).toBe(false);
    expect(tokens.list(T0)[0]?.revokedAt).toBe(T0 + SECOND);
  });

  it('records last use at most once a minute', () => {
    const { id, token } = tokens.create(input(), T0);
    expect(lastUsed(id)).toBeNull();
    tokens.resolve(token, T0 + SECOND);
    expect(lastUsed(id)).toBe(T0 + SECOND);
    tokens.resolve(token, T0 + 30 * SECOND);
    tokens.resolve(token, T0 + MINUTE);
    expect(lastUsed(id)).toBe(T0 + SECOND);
    tokens.resolve(token, T0 + MINUTE + SECOND);
    expect(lastUsed(id)).toBe(T0 + MINUTE + SECOND);
  });

  it('does not record a use that was refused', () => {
    const { id, token } = tokens.create(input({ expiresAt: T0 + MINUTE }), T0);
    tokens.resolve(token, T0 + 2 * MINUTE);
    expect(lastUsed(id)).toBeNull();
  });

  it('refuses an expiry that is not in the future, a bad name, role or creator', () => {
    expect(() => tokens.create(input({ expiresAt: T0 - 1 }), T0)).toThrow(/expiresAt 2025-03-01T11:59:59.999Z is not/);
    expect(() => tokens.create(input({ expiresAt: T0 }), T0)).toThrow(/not in the future/);
    expect(() => tokens.create(input({ expiresAt: Number.NaN }), T0)).toThrow(/not in the future/);
    expect(() => tokens.create(input({ name: '' }), T0)).toThrow(/token name "" is not valid/);
    expect(() => tokens.create(input({ name: '   ' }), T0)).toThrow(/token name/);
    expect(() => tokens.create(input({ name: 'x'.repeat(101) }), T0)).toThrow(/1–100/);
    expect(() => tokens.create(input({ name: 'line\nbreak' }), T0)).toThrow(/token name/);
    expect(() => tokens.create(input({ role: 'root' as 'admin' }), T0)).toThrow(/role "root"/);
    expect(() => tokens.create(input({ createdBy: '' }), T0)).toThrow(/createdBy/);
    expect(tokens.list(T0)).toEqual([]);

    expect(tokens.create(input({ name: 'x'.repeat(100), expiresAt: T0 + 1 }), T0).id).toMatch(/^[0-9a-f]{16}$/);
  });
});
