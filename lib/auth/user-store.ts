// The dashboard's accounts: who they are, their password hash, their role, and where they were defined.
import 'server-only';
import type Database from 'better-sqlite3';
import { isPasswordHash } from './password';
import { isRole, type Role } from './roles';

export const USER_SOURCES = ['config', 'env', 'demo'] as const;
export type UserSource = (typeof USER_SOURCES)[number];

export interface User {
  username: string;
  passwordHash: string;
  role: Role;
  source: UserSource;
}

export type UserSummary = Omit<User, 'passwordHash'>;

const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;

/** Throws unless `username` is 1–64 characters of letters, digits, `.`, `_`, `@`, `-`. */
export function assertUsername(username: string): void {
  if (typeof username !== 'string' || !USERNAME_PATTERN.test(username)) {
    throw new RangeError(
      `username ${JSON.stringify(username)} is not valid: use 1–64 characters of letters, digits, '.', '_', '@', '-'`,
    );
  }
}

const isUserSource = (v: unknown): v is UserSource =>
  typeof v === 'string' && (USER_SOURCES as readonly string[]).includes(v);

interface UserRow {
  username: string;
  password_hash: string;
  role: string;
  source: string;
}

export class UserStore {
  private readonly upsertUser: Database.Statement<[string, string, string, string, number, number]>;
  private readonly selectUser: Database.Statement<[string], UserRow>;
  private readonly selectUsers: Database.Statement<[], UserRow>;
  private readonly deleteUser: Database.Statement<[string]>;
  private readonly deleteSessions: Database.Statement<[string]>;

  constructor(private readonly db: Database.Database) {
    this.upsertUser = db.prepare(
      `INSERT INTO users (username, password_hash, role, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (username) DO UPDATE SET
         password_hash = excluded.password_hash, role = excluded.role, source = excluded.source,
         updated_at = excluded.updated_at`,
    );
    this.selectUser = db.prepare('SELECT username, password_hash, role, source FROM users WHERE username = ?');
    this.selectUsers = db.prepare('SELECT username, password_hash, role, source FROM users ORDER BY username');
    this.deleteUser = db.prepare('DELETE FROM users WHERE username = ?');
    this.deleteSessions = db.prepare('DELETE FROM sessions WHERE username = ?');
  }

  /** Creates the user, or replaces its hash, role and source (keeping when it was first created). */
  upsert(user: User, now: number): void {
    assertUsername(user.username);
    if (!isPasswordHash(user.passwordHash)) {
      throw new RangeError(`user ${user.username}: passwordHash is not a password hash (a plain password?)`);
    }
    if (!isRole(user.role)) throw new RangeError(`user ${user.username}: role ${JSON.stringify(user.role)} is unknown`);
    if (!isUserSource(user.source)) {
      throw new RangeError(`user ${user.username}: source ${JSON.stringify(user.source)} is unknown`);
    }
    this.upsertUser.run(user.username, user.passwordHash, user.role, user.source, now, now);
  }

  get(username: string): User | null {
    const row = this.selectUser.get(username);
    return row ? toUser(row) : null;
  }

  /** Every user without its hash, by username. */
  list(): UserSummary[] {
    return this.selectUsers
      .all()
      .map(toUser)
      .filter((u): u is User => u !== null)
      .map(({ username, role, source }) => ({ username, role, source }));
  }

  /**
   * Deletes the user and its sessions, so a later account of the same name does not inherit them;
   * returns whether there was one.
   */
  remove(username: string): boolean {
    return this.db.transaction(() => {
      this.deleteSessions.run(username);
      return this.deleteUser.run(username).changes > 0;
    })();
  }
}

function toUser(row: UserRow): User | null {
  // The table's CHECKs make this unreachable; it keeps a bad row from passing as a Role it is not.
  if (!isRole(row.role) || !isUserSource(row.source)) return null;
  return { username: row.username, passwordHash: row.password_hash, role: row.role, source: row.source };
}
