import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseTrustedProxies } from '@/lib/auth/address';
import { hashPassword } from '@/lib/auth/password';
import { SessionStore } from '@/lib/auth/session-store';
import { UserStore } from '@/lib/auth/user-store';
import type { AuthConfig } from '@/lib/config/load-config';
import { openDatabase } from '@/lib/db/database';
import { sqliteStore } from '@/lib/db/sqlite-store';
import { syncUsers } from './sync-users';

const PASSWORD = 'env admin password 1';
const T0 = Date.now();

let dir: string;
let db: Database.Database;
let users: UserStore;
let sessions: SessionStore;
let logged: string[];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sync-users-'));
  db = openDatabase(path.join(dir, 'dashboard.sqlite'));
  const store = sqliteStore(db);
  users = new UserStore(store);
  sessions = new SessionStore(store);
  logged = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void logged.push(line));
});
afterEach(() => {
  vi.restoreAllMocks();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const auth = (over: Partial<AuthConfig> = {}): AuthConfig => ({
  anonymous: 'off',
  sessionTtlMs: 3_600_000,
  users: [],
  adminPassword: null,
  trustedProxies: parseTrustedProxies(''),
  proxy: null,
  ...over,
});
const signIn = async (username: string) =>
  (await sessions.create({ username, role: 'admin' }, { ttlMs: 3_600_000, source: '10.0.0.7' }, T0)).token;

describe('syncUsers: the admin that DASHBOARD_ADMIN_PASSWORD makes lives only as long as the variable', () => {
  it('a start without the variable removes that admin and ends its sessions, and says so', async () => {
    await syncUsers(auth({ adminPassword: PASSWORD }), users, sessions, T0);
    expect(await users.get('admin')).toMatchObject({ role: 'admin', source: 'env' });
    const session = await signIn('admin');
    expect(await sessions.resolve(session, T0)).not.toBeNull();

    await syncUsers(auth({ adminPassword: null }), users, sessions, T0);
    expect(await users.get('admin')).toBeNull();
    expect(await sessions.resolve(session, T0)).toBeNull();
    expect(logged).toEqual([
      'etcd-dashboard: DASHBOARD_ADMIN_PASSWORD is not set: the admin account it made is removed and signed out',
    ]);
  });

  it('leaves an admin the config file defines, and says the variable is ignored beside it', async () => {
    const passwordHash = await hashPassword('file admin password 1');
    await syncUsers(auth({ users: [{ username: 'admin', passwordHash, role: 'admin' }] }), users, sessions, T0);
    await syncUsers(
      auth({ users: [{ username: 'admin', passwordHash, role: 'admin' }], adminPassword: PASSWORD }),
      users,
      sessions,
      T0,
    );
    expect(await users.get('admin')).toMatchObject({ source: 'config', passwordHash });
    expect(logged).toEqual([
      'etcd-dashboard: DASHBOARD_ADMIN_PASSWORD is ignored: the config file defines the user "admin"',
    ]);
  });

  it('a restart with the same password keeps the admin signed in', async () => {
    await syncUsers(auth({ adminPassword: PASSWORD }), users, sessions, T0);
    const session = await signIn('admin');
    await syncUsers(auth({ adminPassword: PASSWORD }), users, sessions, T0);
    expect(await sessions.resolve(session, T0)).not.toBeNull();
    expect(logged).toEqual([]);
  });
});
