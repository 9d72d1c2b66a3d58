// Signed-in browser sessions: an opaque cookie value whose digest is stored, resolved to the user's current role.
import 'server-only';
import type Database from 'better-sqlite3';
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

interface ResolvedRow {
  username: string;
  role: string;
  expires_at: number;
}

// What newSecret() makes; anything else is refused before it is hashed and looked up.
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  private readonly insertSession: Database.Statement<[string, string, string, number, number, string | null]>;
  private readonly selectSession: Database.Statement<[string, number], ResolvedRow>;
  private readonly deleteSession: Database.Statement<[string]>;
  private readonly deleteExpired: Database.Statement<[number]>;
  private readonly deleteForUser: Database.Statement<[string]>;

  constructor(db: Database.Database) {
    this.insertSession = db.prepare(
      'INSERT INTO sessions (id_hash, username, role, created_at, expires_at, source) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // The role comes from users, not the session: a demoted user loses power at once, a deleted one loses access.
    this.selectSession = db.prepare(
      `SELECT s.username, u.role, s.expires_at FROM sessions s JOIN users u ON u.username = s.username
       WHERE s.id_hash = ? AND s.expires_at > ?`,
    );
    this.deleteSession = db.prepare('DELETE FROM sessions WHERE id_hash = ?');
    this.deleteExpired = db.prepare('DELETE FROM sessions WHERE expires_at <= ?');
    this.deleteForUser = db.prepare('DELETE FROM sessions WHERE username = ?');
  }

  /** Starts a session lasting `ttlMs` from `now`; `source` is the client address, kept for the record. */
  create(
    user: { username: string; role: Role },
    opts: { ttlMs: number; source: string | null },
    now: number,
  ): NewSession {
    assertUsername(user.username);
    if (!isRole(user.role)) throw new RangeError(`session role ${JSON.stringify(user.role)} is unknown`);
    if (!Number.isFinite(opts.ttlMs) || opts.ttlMs <= 0) {
      throw new RangeError(`session ttlMs must be a positive number of milliseconds, not ${opts.ttlMs}`);
    }
    const token = newSecret();
    const expiresAt = now + opts.ttlMs;
    this.insertSession.run(sha256Hex(token), user.username, user.role, now, expiresAt, opts.source);
    return { token, expiresAt };
  }

  /** The session's user and current role; null when unknown, expired, or its user no longer exists. */
  resolve(token: string, now: number): ResolvedSession | null {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return null;
    const row = this.selectSession.get(sha256Hex(token), now);
    if (!row || !isRole(row.role)) return null;
    return { username: row.username, role: row.role, expiresAt: row.expires_at };
  }

  /** Ends one session (sign-out); returns whether it existed. */
  revoke(token: string): boolean {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return false;
    return this.deleteSession.run(sha256Hex(token)).changes > 0;
  }

  /** Ends every session of `username`; returns how many. */
  revokeAllFor(username: string): number {
    return this.deleteForUser.run(username).changes;
  }

  /** Deletes sessions expired by `now`; returns how many. */
  prune(now: number): number {
    return this.deleteExpired.run(now).changes;
  }
}
