// API tokens for scripts and automation: created once, shown once, stored as a digest, revocable.
import 'server-only';
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { isRole, type Role } from './roles';
import { newSecret, sha256Hex } from './secret';

export const TOKEN_NAME_MAX_LENGTH = 100;
/** last_used_at is written at most this often, so a busy script does not write on every request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export type TokenState = 'active' | 'expired' | 'revoked';

export interface NewTokenInput {
  /** 1–100 characters, for people: what the token is for. */
  name: string;
  role: Role;
  /** Epoch ms, or null for a token that does not expire. */
  expiresAt: number | null;
  /** Username of whoever created it. */
  createdBy: string;
}

export interface NewToken {
  id: string;
  /** `etcdd_<id>_<secret>`; only its digest is kept, so this is the one time it exists. */
  token: string;
}

export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  createdBy: string;
  /** Epoch ms, like every time below. */
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
  state: TokenState;
}

export interface ResolvedToken {
  id: string;
  name: string;
  role: Role;
}

interface TokenRow {
  id: string;
  name: string;
  role: string;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

// The prefix makes a token recognisable in a leaked log or a secret scanner; the id names it without the secret.
const TOKEN_PREFIX = 'etcdd_';
const TOKEN_PATTERN = /^etcdd_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/;

/** 64 random bits in hex: url-safe and free of `_`, so the token splits unambiguously. */
const newId = () => randomBytes(8).toString('hex');

const describeTime = (t: number) => {
  const date = new Date(t);
  return Number.isNaN(date.getTime()) ? String(t) : date.toISOString();
};

function stateOf(row: Pick<TokenRow, 'expires_at' | 'revoked_at'>, now: number): TokenState {
  if (row.revoked_at !== null) return 'revoked';
  if (row.expires_at !== null && row.expires_at <= now) return 'expired';
  return 'active';
}

export class TokenStore {
  private readonly insertToken: Database.Statement<[string, string, string, string, string, number, number | null]>;
  private readonly selectTokens: Database.Statement<[], TokenRow>;
  private readonly revokeToken: Database.Statement<[number, string]>;
  private readonly selectByHash: Database.Statement<[string], TokenRow>;
  private readonly touchToken: Database.Statement<[number, string, number]>;

  constructor(db: Database.Database) {
    this.insertToken = db.prepare(
      `INSERT INTO api_tokens (id, name, token_hash, role, created_by, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const columns = 'id, name, role, created_by, created_at, expires_at, revoked_at, last_used_at';
    this.selectTokens = db.prepare(`SELECT ${columns} FROM api_tokens ORDER BY created_at DESC, id`);
    this.revokeToken = db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    this.selectByHash = db.prepare(`SELECT ${columns} FROM api_tokens WHERE token_hash = ?`);
    this.touchToken = db.prepare(
      'UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)',
    );
  }

  /** Creates a token; the returned `token` is the only copy of the secret. */
  create(input: NewTokenInput, now: number): NewToken {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (name.length < 1 || name.length > TOKEN_NAME_MAX_LENGTH || /\p{Cc}/u.test(name)) {
      throw new RangeError(
        `token name ${JSON.stringify(input.name)} is not valid: use 1–${TOKEN_NAME_MAX_LENGTH} printable characters`,
      );
    }
    if (!isRole(input.role)) throw new RangeError(`token role ${JSON.stringify(input.role)} is unknown`);
    if (typeof input.createdBy !== 'string' || input.createdBy.length === 0) {
      throw new RangeError('token createdBy must name who creates it');
    }
    if (input.expiresAt !== null && !(Number.isFinite(input.expiresAt) && input.expiresAt > now)) {
      throw new RangeError(`token expiresAt ${describeTime(input.expiresAt)} is not in the future`);
    }
    const id = newId();
    const token = `${TOKEN_PREFIX}${id}_${newSecret()}`;
    this.insertToken.run(id, name, sha256Hex(token), input.role, input.createdBy, now, input.expiresAt);
    return { id, token };
  }

  /** Every token, newest first, with its state at `now`; never the secret or its digest. */
  list(now: number): TokenInfo[] {
    return this.selectTokens
      .all()
      .filter((row): row is TokenRow & { role: Role } => isRole(row.role))
      .map((row) => ({
        id: row.id,
        name: row.name,
        role: row.role,
        createdBy: row.created_by,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        revokedAt: row.revoked_at,
        lastUsedAt: row.last_used_at,
        state: stateOf(row, now),
      }));
  }

  /** Revokes a token for good; false if there is no such token or it was already revoked. */
  revoke(id: string, now: number): boolean {
    return this.revokeToken.run(now, id).changes > 0;
  }

  /**
   * The token `token` is, active or not, without recording a use: for naming a revoked or expired token that was
   * presented. Null for anything that is not one of ours in full (a right id with a wrong secret names nothing).
   */
  inspect(token: string, now: number): { id: string; name: string; state: TokenState } | null {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return null;
    const row = this.selectByHash.get(sha256Hex(token));
    return row ? { id: row.id, name: row.name, state: stateOf(row, now) } : null;
  }

  /** The active token `token` is, or null (unknown, malformed, revoked, expired); records its use. */
  resolve(token: string, now: number): ResolvedToken | null {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return null;
    // Looked up by digest, never compared as a string, so the time taken says nothing about how much matched.
    const row = this.selectByHash.get(sha256Hex(token));
    if (!row || stateOf(row, now) !== 'active' || !isRole(row.role)) return null;
    this.touchToken.run(now, row.id, now - LAST_USED_RESOLUTION_MS);
    return { id: row.id, name: row.name, role: row.role };
  }
}
