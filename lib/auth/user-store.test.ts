import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tempDatabasePerTest } from '@/test/support/temp-database';
import { hashPassword } from './password';
import { SessionStore } from './session-store';
import { UserStore } from './user-store';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const HOUR = 3600_000;

const temp = tempDatabasePerTest('user-store-');
let users: UserStore;
let hashA: string;
let hashB: string;

beforeAll(async () => {
  [hashA, hashB] = await Promise.all([hashPassword('first password here'), hashPassword('second password here')]);
});
beforeEach(() => {
  users = new UserStore(temp.db);
});

describe('UserStore', () => {
  it('keeps users across a reopen of the file and lists them by name, without hashes', () => {
    users.upsert({ username: 'zoe', passwordHash: hashA, role: 'viewer', source: 'config' }, T0);
    users.upsert({ username: 'admin', passwordHash: hashB, role: 'admin', source: 'env' }, T0);
    users = new UserStore(temp.reopen());

    expect(users.get('admin')).toEqual({ username: 'admin', passwordHash: hashB, role: 'admin', source: 'env' });
    expect(users.list()).toEqual([
      { username: 'admin', role: 'admin', source: 'env' },
      { username: 'zoe', role: 'viewer', source: 'config' },
    ]);
    expect(JSON.stringify(users.list())).not.toContain('scrypt');
    expect(users.get('nobody')).toBeNull();
  });

  it('replaces hash, role and source on upsert, keeping when the user was created', () => {
    users.upsert({ username: 'ops', passwordHash: hashA, role: 'viewer', source: 'demo' }, T0);
    users.upsert({ username: 'ops', passwordHash: hashB, role: 'operator', source: 'config' }, T0 + HOUR);

    expect(users.get('ops')).toEqual({ username: 'ops', passwordHash: hashB, role: 'operator', source: 'config' });
    expect(temp.db.prepare('SELECT created_at, updated_at FROM users').get()).toEqual({
      created_at: T0,
      updated_at: T0 + HOUR,
    });
    expect(users.list()).toHaveLength(1);
  });

  it('refuses a username outside 1–64 characters of [A-Za-z0-9._@-], naming it', () => {
    const upsert = (username: string) =>
      users.upsert({ username, passwordHash: hashA, role: 'viewer', source: 'config' }, T0);
    for (const ok of ['a', 'jane.doe@example.com', 'ops_team-2', 'x'.repeat(64)])
      expect(() => upsert(ok)).not.toThrow();
    for (const bad of ['', 'x'.repeat(65), 'jane doe', 'ops/1', 'ünïcode', "o'brien", 'a\nb']) {
      expect(() => upsert(bad)).toThrow(`username ${JSON.stringify(bad)} is not valid`);
    }
    expect(users.list()).toHaveLength(4);
  });

  it('refuses to store a plain password, an unknown role or an unknown source', () => {
    expect(() =>
      users.upsert({ username: 'ops', passwordHash: 'a plain password', role: 'viewer', source: 'config' }, T0),
    ).toThrow(/not a password hash/);
    expect(() =>
      users.upsert({ username: 'ops', passwordHash: hashA, role: 'root' as 'admin', source: 'config' }, T0),
    ).toThrow(/role "root"/);
    expect(() =>
      users.upsert({ username: 'ops', passwordHash: hashA, role: 'admin', source: 'ldap' as 'config' }, T0),
    ).toThrow(/source "ldap"/);
    expect(users.get('ops')).toBeNull();
  });

  it('removes a user with its sessions, so a later user of the same name does not inherit them', () => {
    const sessions = new SessionStore(temp.db);
    users.upsert({ username: 'ops', passwordHash: hashA, role: 'admin', source: 'config' }, T0);
    const { token } = sessions.create({ username: 'ops', role: 'admin' }, { ttlMs: HOUR, source: null }, T0);

    expect(users.remove('ops')).toBe(true);
    expect(users.remove('ops')).toBe(false);
    users.upsert({ username: 'ops', passwordHash: hashB, role: 'viewer', source: 'config' }, T0 + 1);

    expect(users.get('ops')?.role).toBe('viewer');
    expect(sessions.resolve(token, T0 + 2)).toBeNull();
  });
});
