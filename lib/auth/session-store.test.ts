import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '@/lib/db/database';
import { hashPassword } from './password';
import { SessionStore } from './session-store';
import { UserStore } from './user-store';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let dir: string;
let file: string;
let db: Database.Database;
let users: UserStore;
let sessions: SessionStore;
let hash: string;

beforeAll(async () => {
  hash = await hashPassword('a long enough password');
});
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'session-store-'));
  file = path.join(dir, 'dashboard.db');
  db = openDatabase(file);
  users = new UserStore(db);
  sessions = new SessionStore(db);
  users.upsert({ username: 'alice', passwordHash: hash, role: 'admin', source: 'config' }, T0);
  users.upsert({ username: 'bob', passwordHash: hash, role: 'viewer', source: 'config' }, T0);
});
afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const start = (username = 'alice', now = T0, ttlMs = HOUR) =>
  sessions.create({ username, role: username === 'alice' ? 'admin' : 'viewer' }, { ttlMs, source: '10.0.0.7' }, now);

describe('SessionStore', () => {
  it('gives a random 32-byte base64url token that resolves to the user until it expires', () => {
    const { token, expiresAt } = start();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(expiresAt).toBe(T0 + HOUR);
    expect(start().token).not.toBe(token);

    expect(sessions.resolve(token, T0)).toEqual({ username: 'alice', role: 'admin', expiresAt: T0 + HOUR });
    expect(sessions.resolve(token, T0 + HOUR - 1)).not.toBeNull();
    expect(sessions.resolve(token, T0 + HOUR)).toBeNull();
  });

  it('stores only the sha256 of the token, never the token itself', () => {
    const { token } = start();
    db.close();
    expect(readFileSync(file).includes(token)).toBe(false);
    db = openDatabase(file);
    expect(db.prepare('SELECT id_hash, source FROM sessions').all()).toEqual([
      { id_hash: sha256(token), source: '10.0.0.7' },
    ]);
    // The digest is not a way in.
    expect(new SessionStore(db).resolve(sha256(token), T0)).toBeNull();
  });

  it('reads the role from the users table at every resolve, so a demotion takes effect at once', () => {
    const { token } = start('alice');
    users.upsert({ username: 'alice', passwordHash: hash, role: 'viewer', source: 'config' }, T0 + MINUTE);
    expect(sessions.resolve(token, T0 + 2 * MINUTE)?.role).toBe('viewer');
  });

  it('resolves to null once the user no longer exists', () => {
    const { token } = start('alice');
    db.prepare("DELETE FROM users WHERE username = 'alice'").run();
    expect(sessions.resolve(token, T0 + MINUTE)).toBeNull();
  });

  it('resolves unknown, malformed and tampered tokens to null', () => {
    const { token } = start();
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    for (const bad of ['', 'x', `${token.slice(0, -1)}${last}`, `${token}A`, token.toLowerCase(), ` ${token}`]) {
      expect(sessions.resolve(bad, T0)).toBeNull();
    }
  });

  it('revokes one session, or all of a user, leaving the others', () => {
    const a1 = start('alice');
    const a2 = start('alice');
    const b = start('bob');
    expect(sessions.revoke(a1.token)).toBe(true);
    expect(sessions.revoke(a1.token)).toBe(false);
    expect(sessions.resolve(a1.token, T0)).toBeNull();
    expect(sessions.resolve(a2.token, T0)).not.toBeNull();

    start('alice');
    expect(sessions.revokeAllFor('alice')).toBe(2);
    expect(sessions.resolve(a2.token, T0)).toBeNull();
    expect(sessions.resolve(b.token, T0)?.username).toBe('bob');
  });

  it('prunes expired sessions only', () => {
    start('alice', T0, MINUTE);
    start('bob', T0, MINUTE);
    const live = start('alice', T0, HOUR);
    expect(sessions.prune(T0 + MINUTE)).toBe(2);
    expect(sessions.prune(T0 + MINUTE)).toBe(0);
    expect(db.prepare('SELECT count(*) FROM sessions').pluck().get()).toBe(1);
    expect(sessions.resolve(live.token, T0 + MINUTE)).not.toBeNull();
  });

  it('refuses a session that would not last, or for an invalid username', () => {
    expect(() => start('alice', T0, 0)).toThrow(/ttlMs/);
    expect(() => start('alice', T0, Number.NaN)).toThrow(/ttlMs/);
    expect(() => start('not a name')).toThrow(/username "not a name"/);
    expect(db.prepare('SELECT count(*) FROM sessions').pluck().get()).toBe(0);
  });
});
