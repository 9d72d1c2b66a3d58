import { sql } from 'kysely';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeOnEachEngine } from '@/test/support/store-engines';
import { hashPassword } from './password';
import { SessionStore } from './session-store';
import { UserStore } from './user-store';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const HOUR = 3600_000;
/** This file's PostgreSQL server. */
const PG_PORT = 25912;

let hashA: string;
let hashB: string;

beforeAll(async () => {
  [hashA, hashB] = await Promise.all([hashPassword('first password here'), hashPassword('second password here')]);
});

describeOnEachEngine('UserStore', PG_PORT, (engine) => {
  let users: UserStore;
  beforeEach(() => {
    users = new UserStore(engine.db);
  });

  describe('users', () => {
    it('keeps users across a reopen and lists them by name, without hashes', async () => {
      await users.upsert({ username: 'zoe', passwordHash: hashA, role: 'viewer', source: 'config' }, T0);
      await users.upsert({ username: 'admin', passwordHash: hashB, role: 'admin', source: 'env' }, T0);
      // Upper case sorts before lower case on both engines, whatever PostgreSQL's locale.
      await users.upsert({ username: 'Zed', passwordHash: hashA, role: 'operator', source: 'demo' }, T0);
      users = new UserStore(await engine.reopen());

      expect(await users.get('admin')).toEqual({
        username: 'admin',
        passwordHash: hashB,
        role: 'admin',
        source: 'env',
      });
      expect(await users.list()).toEqual([
        { username: 'Zed', role: 'operator', source: 'demo' },
        { username: 'admin', role: 'admin', source: 'env' },
        { username: 'zoe', role: 'viewer', source: 'config' },
      ]);
      expect(JSON.stringify(await users.list())).not.toContain('scrypt');
      expect(await users.get('nobody')).toBeNull();
    });

    it('replaces hash, role and source on upsert, keeping when the user was created', async () => {
      await users.upsert({ username: 'ops', passwordHash: hashA, role: 'viewer', source: 'demo' }, T0);
      await users.upsert({ username: 'ops', passwordHash: hashB, role: 'operator', source: 'config' }, T0 + HOUR);

      expect(await users.get('ops')).toEqual({
        username: 'ops',
        passwordHash: hashB,
        role: 'operator',
        source: 'config',
      });
      const { rows } = await sql`SELECT created_at, updated_at FROM users`.execute(engine.db);
      expect(rows).toEqual([{ created_at: T0, updated_at: T0 + HOUR }]);
      expect(await users.list()).toHaveLength(1);
    });

    it('refuses a username outside 1–64 characters of [A-Za-z0-9._@-], naming it', async () => {
      const upsert = (username: string) =>
        users.upsert({ username, passwordHash: hashA, role: 'viewer', source: 'config' }, T0);
      for (const ok of ['a', 'jane.doe@example.com', 'ops_team-2', 'x'.repeat(64)]) {
        await expect(upsert(ok)).resolves.toBeUndefined();
      }
      for (const bad of ['', 'x'.repeat(65), 'jane doe', 'ops/1', 'ünïcode', "o'brien", 'a\nb']) {
        await expect(upsert(bad)).rejects.toThrow(`username ${JSON.stringify(bad)} is not valid`);
      }
      expect(await users.list()).toHaveLength(4);
    });

    it('refuses to store a plain password, an unknown role or an unknown source', async () => {
      await expect(
        users.upsert({ username: 'ops', passwordHash: 'a plain password', role: 'viewer', source: 'config' }, T0),
      ).rejects.toThrow(/not a password hash/);
      await expect(
        users.upsert({ username: 'ops', passwordHash: hashA, role: 'root' as 'admin', source: 'config' }, T0),
      ).rejects.toThrow(/role "root"/);
      await expect(
        users.upsert({ username: 'ops', passwordHash: hashA, role: 'admin', source: 'ldap' as 'config' }, T0),
      ).rejects.toThrow(/source "ldap"/);
      expect(await users.get('ops')).toBeNull();
    });

    it('removes a user with its sessions, so a later user of the same name does not inherit them', async () => {
      const sessions = new SessionStore(engine.db);
      await users.upsert({ username: 'ops', passwordHash: hashA, role: 'admin', source: 'config' }, T0);
      await users.upsert({ username: 'dev', passwordHash: hashA, role: 'viewer', source: 'config' }, T0);
      const { token } = await sessions.create({ username: 'ops', role: 'admin' }, { ttlMs: HOUR, source: null }, T0);
      const other = await sessions.create({ username: 'dev', role: 'viewer' }, { ttlMs: HOUR, source: null }, T0);

      expect(await users.remove('ops')).toBe(true);
      expect(await users.remove('ops')).toBe(false);
      await users.upsert({ username: 'ops', passwordHash: hashB, role: 'viewer', source: 'config' }, T0 + 1);

      expect((await users.get('ops'))?.role).toBe('viewer');
      expect(await sessions.resolve(token, T0 + 2)).toBeNull();
      expect((await sessions.resolve(other.token, T0 + 2))?.username).toBe('dev');
    });
  });
});
