// Signed-in browser sessions: an opaque cookie value whose digest is stored, resolved to the user's current role.
import 'server-only';
import type { Kysely } from 'kysely';
import type { StoreSchema } from '@/lib/db/schema';
import { isRole, type Role } from './roles';
import { newSecret, sha256Hex } from './secret';
import { assertUsername } from './user-store';

export interface NewSession {
  /** The cookie value; only its digest is kept, so this is the one time it exists. */
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface ResolvedSession {
  username: string;
  role: Role;
  /** Epoch ms. */
  expiresAt: number;
}

// What newSecret() makes; anything else is refused before it is hashed and looked up.
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Sessions over the dashboard's store (SQLite or PostgreSQL): one replica resolves what another created. */
export class SessionStore {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /** Starts a session lasting `ttlMs` from `now`; `source` is the client address, kept for the record. */
  async create(
    user: { username: string; role: Role },
    opts: { ttlMs: number; source: string | null },
    now: number,
  ): Promise<NewSession> {
    assertUsername(user.username);
    if (!isRole(user.role)) throw new RangeError(`session role ${JSON.stringify(user.role)} is unknown`);
    if (!Number.isFinite(opts.ttlMs) || opts.ttlMs <= 0) {
      throw new RangeError(`session ttlMs must be a positive number of milliseconds, not ${opts.ttlMs}`);
    }
    const token = newSecret();
    const expiresAt = now + opts.ttlMs;
    await this.db
      .insertInto('sessions')
      .values({
        id_hash: sha256Hex(token),
        username: user.username,
        role: user.role,
        created_at: now,
        expires_at: expiresAt,
        source: opts.source,
      })
      .execute();
    return { token, expiresAt };
  }

  /** The session's user and current role; null when unknown, expired, or its user no longer exists. */
  async resolve(token: string, now: number): Promise<ResolvedSession | null> {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return null;
    // The role comes from users, not the session: a demoted user loses power at once, a deleted one loses access.
    const row = await this.db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.username', 's.username')
      .select(['s.username', 'u.role', 's.expires_at'])
      .where('s.id_hash', '=', sha256Hex(token))
      .where('s.expires_at', '>', now)
      .executeTakeFirst();
    if (!row || !isRole(row.role)) return null;
    return { username: row.username, role: row.role, expiresAt: row.expires_at };
  }

  /** Ends one session (sign-out); returns whether it existed. */
  async revoke(token: string): Promise<boolean> {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return false;
    const result = await this.db.deleteFrom('sessions').where('id_hash', '=', sha256Hex(token)).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Ends every session of `username`; returns how many. */
  async revokeAllFor(username: string): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('username', '=', username).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Deletes sessions expired by `now`; returns how many. */
  async prune(now: number): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
