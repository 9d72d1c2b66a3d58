// The dashboard's accounts: who they are, their password hash, their role, and where they were defined.
import 'server-only';
import type { Kysely } from 'kysely';
import type { StoreSchema } from '@/lib/db/schema';
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

/** The accounts over the dashboard's store (SQLite or PostgreSQL). */
export class UserStore {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /** Creates the user, or replaces its hash, role and source (keeping when it was first created). */
  async upsert(user: User, now: number): Promise<void> {
    assertUsername(user.username);
    if (!isPasswordHash(user.passwordHash)) {
      throw new RangeError(`user ${user.username}: passwordHash is not a password hash (a plain password?)`);
    }
    if (!isRole(user.role)) throw new RangeError(`user ${user.username}: role ${JSON.stringify(user.role)} is unknown`);
    if (!isUserSource(user.source)) {
      throw new RangeError(`user ${user.username}: source ${JSON.stringify(user.source)} is unknown`);
    }
    await this.db
      .insertInto('users')
      .values({
        username: user.username,
        password_hash: user.passwordHash,
        role: user.role,
        source: user.source,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.column('username').doUpdateSet((eb) => ({
          password_hash: eb.ref('excluded.password_hash'),
          role: eb.ref('excluded.role'),
          source: eb.ref('excluded.source'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  async get(username: string): Promise<User | null> {
    const row = await this.db
      .selectFrom('users')
      .select(['username', 'password_hash', 'role', 'source'])
      .where('username', '=', username)
      .executeTakeFirst();
    return row ? toUser(row) : null;
  }

  /** Every user without its hash, by username. */
  async list(): Promise<UserSummary[]> {
    const rows = await this.db.selectFrom('users').select(['username', 'password_hash', 'role', 'source']).execute();
    // Sorted here, not by ORDER BY: PostgreSQL orders text by the server's locale, SQLite by bytes.
    return rows
      .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
      .map(toUser)
      .filter((u): u is User => u !== null)
      .map(({ username, role, source }) => ({ username, role, source }));
  }

  /**
   * Deletes the user and its sessions, so a later account of the same name does not inherit them;
   * returns whether there was one.
   */
  async remove(username: string): Promise<boolean> {
    // The user first: its sessions resolve to nothing from that moment (they join users), so no transaction is needed
    // (one on SQLite would take in the writes of the stores sharing its connection), and a retry repeats both safely.
    const result = await this.db.deleteFrom('users').where('username', '=', username).executeTakeFirst();
    await this.db.deleteFrom('sessions').where('username', '=', username).execute();
    return Number(result.numDeletedRows) > 0;
  }
}

function toUser(row: UserRow): User | null {
  // The table's CHECKs make this unreachable; it keeps a bad row from passing as a Role it is not.
  if (!isRole(row.role) || !isUserSource(row.source)) return null;
  return { username: row.username, passwordHash: row.password_hash, role: row.role, source: row.source };
}
