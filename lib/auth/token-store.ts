// API tokens for scripts and automation: created once, shown once, stored as a digest, revocable.
import 'server-only';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ApiTokensTable, StoreSchema } from '@/lib/db/schema';
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

/** A row without its digest, which never leaves the store. */
type TokenRow = Omit<ApiTokensTable, 'token_hash'>;

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

/** What every read of a token selects: never the digest. */
const COLUMNS = ['id', 'name', 'role', 'created_by', 'created_at', 'expires_at', 'revoked_at', 'last_used_at'] as const;

/** API tokens over the dashboard's store (SQLite or PostgreSQL). */
export class TokenStore {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /** Creates a token; the returned `token` is the only copy of the secret. */
  async create(input: NewTokenInput, now: number): Promise<NewToken> {
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
    await this.db
      .insertInto('api_tokens')
      .values({
        id,
        name,
        token_hash: sha256Hex(token),
        role: input.role,
        created_by: input.createdBy,
        created_at: now,
        expires_at: input.expiresAt,
      })
      .execute();
    return { id, token };
  }

  /** Every token, newest first, with its state at `now`; never the secret or its digest. */
  async list(now: number): Promise<TokenInfo[]> {
    const rows = await this.db
      .selectFrom('api_tokens')
      .select(COLUMNS)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    return rows
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
  async revoke(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  private byToken(token: string): Promise<TokenRow | undefined> {
    // Looked up by digest, never compared as a string, so the time taken says nothing about how much matched.
    return this.db
      .selectFrom('api_tokens')
      .select(COLUMNS)
      .where('token_hash', '=', sha256Hex(token))
      .executeTakeFirst();
  }

  /**
   * The token `token` is, active or not, without recording a use: for naming a revoked or expired token that was
   * presented. Null for anything that is not one of ours in full (a right id with a wrong secret names nothing).
   */
  async inspect(token: string, now: number): Promise<{ id: string; name: string; state: TokenState } | null> {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return null;
    const row = await this.byToken(token);
    return row ? { id: row.id, name: row.name, state: stateOf(row, now) } : null;
  }

  /** The active token `token` is, or null (unknown, malformed, revoked, expired); records its use. */
  async resolve(token: string, now: number): Promise<ResolvedToken | null> {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return null;
    const row = await this.byToken(token);
    if (!row || stateOf(row, now) !== 'active' || !isRole(row.role)) return null;
    // The condition is in the UPDATE, not read before it, so replicas resolving at once still write it once a minute.
    await this.db
      .updateTable('api_tokens')
      .set({ last_used_at: now })
      .where('id', '=', row.id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', now - LAST_USED_RESOLUTION_MS)]))
      .execute();
    return { id: row.id, name: row.name, role: row.role };
  }
}
