import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '@/lib/db/database';
import type { StoreSchema } from '@/lib/db/schema';
import { sqliteStore } from '@/lib/db/sqlite-store';
import { describeOnEachEngine, type StoreEngine } from '@/test/support/store-engines';
import { tempDatabasePerTest } from '@/test/support/temp-database';
import { hashPassword } from './password';
import { SessionStore } from './session-store';
import { UserStore } from './user-store';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** This file's PostgreSQL server. */
const PG_PORT = 25913;

let hash: string;

beforeAll(async () => {
  hash = await hashPassword('a long enough password');
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const countSessions = async (db: Kysely<StoreSchema>) =>
  (
    await db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
  ).n;

describeOnEachEngine('SessionStore', PG_PORT, (engine) => {
  let users: UserStore;
  let sessions: SessionStore;
  const extra: Array<Kysely<StoreSchema>> = [];

  beforeEach(async () => {
    users = new UserStore(engine.db);
    sessions = new SessionStore(engine.db);
    await users.upsert({ username: 'alice', passwordHash: hash, role: 'admin', source: 'config' }, T0);
    await users.upsert({ username: 'bob', passwordHash: hash, role: 'viewer', source: 'config' }, T0);
  });
  afterEach(async () => {
    await Promise.allSettled(extra.splice(0).map((db) => db.destroy()));
  });

  /** A second connection to the same data, the first left open: what another replica is. */
  const anotherConnection = async (e: StoreEngine): Promise<Kysely<StoreSchema>> => {
    if (e.name === 'PostgreSQL') return e.reopen();
    // engine.reopen() closes SQLite's first connection; a second one on the same file is what a second process has.
    const { rows } = await sql<{ file: string }>`SELECT file FROM pragma_database_list WHERE name = 'main'`.execute(
      e.db,
    );
    const file = rows[0]?.file;
    if (!file) throw new Error('the SQLite store has no file');
    const db = sqliteStore(openDatabase(file));
    extra.push(db);
    return db;
  };

  const start = (username = 'alice', now = T0, ttlMs = HOUR) =>
    sessions.create({ username, role: username === 'alice' ? 'admin' : 'viewer' }, { ttlMs, source: '10.0.0.7' }, now);

  it('gives a random 32-byte base64url token that resolves to the user until it expires', async () => {
    const { token, expiresAt } = await start();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(expiresAt).toBe(T0 + HOUR);
    expect((await start()).token).not.toBe(token);

    expect(await sessions.resolve(token, T0)).toEqual({ username: 'alice', role: 'admin', expiresAt: T0 + HOUR });
    expect(await sessions.resolve(token, T0 + HOUR - 1)).not.toBeNull();
    expect(await sessions.resolve(token, T0 + HOUR)).toBeNull();
  });

  it('stores only the sha256 of the token, never the token itself', async () => {
    const { token } = await start();
    const db = await engine.reopen();
    const { rows } = await sql`SELECT * FROM sessions`.execute(db);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows).toEqual([expect.objectContaining({ id_hash: sha256(token), source: '10.0.0.7' })]);
    // The digest is not a way in.
    expect(await new SessionStore(db).resolve(sha256(token), T0)).toBeNull();
  });

  it('reads the role from the users table at every resolve, so a demotion takes effect at once', async () => {
    const { token } = await start('alice');
    await users.upsert({ username: 'alice', passwordHash: hash, role: 'viewer', source: 'config' }, T0 + MINUTE);
    expect((await sessions.resolve(token, T0 + 2 * MINUTE))?.role).toBe('viewer');
  });

  it('resolves to null once the user no longer exists', async () => {
    const { token } = await start('alice');
    await engine.db.deleteFrom('users').where('username', '=', 'alice').execute();
    expect(await sessions.resolve(token, T0 + MINUTE)).toBeNull();
  });

  it('resolves unknown, malformed and tampered tokens to null', async () => {
    const { token } = await start();
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    for (const bad of ['', 'x', `${token.slice(0, -1)}${last}`, `${token}A`, token.toLowerCase(), ` ${token}`]) {
      expect(await sessions.resolve(bad, T0)).toBeNull();
    }
  });

  it('revokes one session, or all of a user, leaving the others', async () => {
    const a1 = await start('alice');
    const a2 = await start('alice');
    const b = await start('bob');
    expect(await sessions.revoke(a1.token)).toBe(true);
    expect(await sessions.revoke(a1.token)).toBe(false);
    expect(await sessions.resolve(a1.token, T0)).toBeNull();
    expect(await sessions.resolve(a2.token, T0)).not.toBeNull();

    await start('alice');
    expect(await sessions.revokeAllFor('alice')).toBe(2);
    expect(await sessions.resolve(a2.token, T0)).toBeNull();
    expect((await sessions.resolve(b.token, T0))?.username).toBe('bob');
  });

  it('is valid on every replica: a session made on one resolves on another, until revoked on either', async () => {
    const other = new SessionStore(await anotherConnection(engine));
    const { token, expiresAt } = await start('alice');
    expect(await other.resolve(token, T0)).toEqual({ username: 'alice', role: 'admin', expiresAt });

    expect(await sessions.revoke(token)).toBe(true);
    expect(await other.resolve(token, T0)).toBeNull();

    const second = await other.create({ username: 'bob', role: 'viewer' }, { ttlMs: HOUR, source: null }, T0);
    expect((await sessions.resolve(second.token, T0))?.username).toBe('bob');
    expect(await other.revokeAllFor('bob')).toBe(1);
    expect(await sessions.resolve(second.token, T0)).toBeNull();
  });

  it('prunes expired sessions only', async () => {
    await start('alice', T0, MINUTE);
    await start('bob', T0, MINUTE);
    const live = await start('alice', T0, HOUR);
    expect(await sessions.prune(T0 + MINUTE)).toBe(2);
    expect(await sessions.prune(T0 + MINUTE)).toBe(0);
    expect(Number(await countSessions(engine.db))).toBe(1);
    expect(await sessions.resolve(live.token, T0 + MINUTE)).not.toBeNull();
  });

  it('refuses a session that would not last, or for an invalid username', async () => {
    await expect(start('alice', T0, 0)).rejects.toThrow(/ttlMs/);
    await expect(start('alice', T0, Number.NaN)).rejects.toThrow(/ttlMs/);
    await expect(start('not a name')).rejects.toThrow(/username "not a name"/);
    expect(Number(await countSessions(engine.db))).toBe(0);
  });
});

describe('SessionStore on an SQLite file', () => {
  const temp = tempDatabasePerTest('session-store-');

  it('keeps the token itself nowhere in the file', async () => {
    const db = sqliteStore(temp.db);
    await new UserStore(db).upsert({ username: 'alice', passwordHash: hash, role: 'admin', source: 'config' }, T0);
    const { token } = await new SessionStore(db).create(
      { username: 'alice', role: 'admin' },
      { ttlMs: HOUR, source: null },
      T0,
    );
    // Closing checkpoints the WAL into the file, so its bytes are all there is.
    temp.db.close();
    expect(readFileSync(temp.file).includes(token)).toBe(false);
    expect(readFileSync(temp.file).includes(sha256(token))).toBe(true);
  });
});
