// The tables the stores reach through Kysely, the same on SQLite and PostgreSQL (times are epoch ms integers).
import type { Generated } from 'kysely';

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor: string;
  role: string | null;
  method: string;
  source: string | null;
  action: string;
  cluster_id: string | null;
  member_id: string | null;
  outcome: string;
  /** JSON text. */
  details: string;
}

export interface UsersTable {
  username: string;
  /** scrypt hash, never the password. */
  password_hash: string;
  role: string;
  /** Where the account is defined: 'config' | 'env' | 'demo'. */
  source: string;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  /** Hex sha256 of the cookie value. */
  id_hash: string;
  username: string;
  /** As at sign-in; the users row is authoritative. */
  role: string;
  created_at: number;
  expires_at: number;
  /** The client address at sign-in. */
  source: string | null;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  /** Hex sha256 of the whole token. */
  token_hash: string;
  role: string;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface StoreSchema {
  audit_log: AuditLogTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
}
