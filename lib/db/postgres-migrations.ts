// The PostgreSQL schema, step by step: the same tables and rules as the SQLite migrations (lib/db/migrations.ts), in
// PostgreSQL's words. Applied by Kysely's Migrator, which holds an advisory lock so replicas starting together apply
// each step once.
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const POSTGRES_MIGRATIONS: Record<string, Migration> = {
  '0001_audit_log': {
    async up(db: Kysely<unknown>) {
      await sql`
        CREATE TABLE audit_log (
          id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          at BIGINT NOT NULL,
          actor TEXT NOT NULL,
          role TEXT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
          method TEXT NOT NULL CHECK (method IN ('password', 'session', 'token', 'proxy', 'anonymous', 'none')),
          source TEXT NULL,
          action TEXT NOT NULL,
          cluster_id TEXT NULL,
          member_id TEXT NULL,
          outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
          details TEXT NOT NULL DEFAULT '{}' CHECK (details::jsonb IS NOT NULL)
        )`.execute(db);
      await sql`CREATE INDEX audit_log_by_time ON audit_log (at)`.execute(db);
      // A record of who did what is only worth keeping if no one can quietly change it afterwards: no UPDATE, DELETE
      // or TRUNCATE, whoever asks (the table's owner included).
      await sql`
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'audit_log is append-only';
        END
        $$`.execute(db);
      await sql`
        CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`.execute(db);
      await sql`
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`.execute(db);
    },
  },
  '0002_access': {
    async up(db: Kysely<unknown>) {
      // Secrets are never stored: passwords as scrypt hashes, session cookies and API tokens as the hex sha256 of
      // their value.
      await sql`
        CREATE TABLE users (
          username TEXT PRIMARY KEY,
          password_hash TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
          source TEXT NOT NULL CHECK (source IN ('config', 'env', 'demo')),
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL
        )`.execute(db);
      await sql`
        CREATE TABLE sessions (
          id_hash TEXT PRIMARY KEY,
          username TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
          created_at BIGINT NOT NULL,
          expires_at BIGINT NOT NULL,
          source TEXT NULL
        )`.execute(db);
      await sql`CREATE INDEX sessions_by_username ON sessions (username)`.execute(db);
      await sql`CREATE INDEX sessions_by_expiry ON sessions (expires_at)`.execute(db);
      await sql`
        CREATE TABLE api_tokens (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          token_hash TEXT NOT NULL UNIQUE,
          role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
          created_by TEXT NOT NULL,
          created_at BIGINT NOT NULL,
          expires_at BIGINT NULL,
          revoked_at BIGINT NULL,
          last_used_at BIGINT NULL
        )`.execute(db);
    },
  },
};
