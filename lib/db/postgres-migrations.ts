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
  '0003_history': {
    async up(db: Kysely<unknown>) {
      // Small integer ids keep every sample row short; the hex member id and name are stored once.
      await sql`
        CREATE TABLE members (
          id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          cluster_id TEXT NOT NULL,
          member_id TEXT NOT NULL,
          name TEXT NOT NULL,
          UNIQUE (cluster_id, member_id)
        )`.execute(db);
      // series: the code from series-codes.ts; at: epoch ms.
      await sql`
        CREATE TABLE samples (
          series INTEGER NOT NULL,
          member BIGINT NOT NULL REFERENCES members (id),
          at BIGINT NOT NULL,
          value DOUBLE PRECISION NOT NULL,
          PRIMARY KEY (series, member, at)
        )`.execute(db);
      // minute: epoch ms of the minute's start.
      await sql`
        CREATE TABLE rollups_1m (
          series INTEGER NOT NULL,
          member BIGINT NOT NULL REFERENCES members (id),
          minute BIGINT NOT NULL,
          min DOUBLE PRECISION NOT NULL,
          max DOUBLE PRECISION NOT NULL,
          sum DOUBLE PRECISION NOT NULL,
          n BIGINT NOT NULL,
          PRIMARY KEY (series, member, minute)
        )`.execute(db);
      // Bookkeeping such as the rollup watermark.
      await sql`
        CREATE TABLE meta (
          key TEXT PRIMARY KEY,
          value BIGINT NOT NULL
        )`.execute(db);
      await sql`
        CREATE TABLE events (
          id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          cluster_id TEXT NOT NULL,
          at BIGINT NOT NULL,
          type TEXT NOT NULL,
          member_id TEXT NULL,
          details TEXT NOT NULL CHECK (details::jsonb IS NOT NULL)
        )`.execute(db);
      await sql`CREATE INDEX events_by_cluster_time ON events (cluster_id, at)`.execute(db);
    },
  },
  '0004_alerts_maintenance': {
    async up(db: Kysely<unknown>) {
      // Alerts that fired: kept as history once resolved. Pending ones live in memory only.
      await sql`
        CREATE TABLE alerts (
          id TEXT PRIMARY KEY,
          cluster_id TEXT NOT NULL,
          rule TEXT NOT NULL,
          severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
          alert_key TEXT NOT NULL,
          member_id TEXT NULL,
          member_name TEXT NULL,
          summary TEXT NOT NULL,
          pending_since BIGINT NOT NULL,
          firing_since BIGINT NOT NULL,
          resolved_at BIGINT NULL
        )`.execute(db);
      await sql`CREATE INDEX alerts_by_cluster ON alerts (cluster_id, firing_since)`.execute(db);
      await sql`CREATE INDEX alerts_open ON alerts (resolved_at) WHERE resolved_at IS NULL`.execute(db);
      // Maintenance runs: one row per run, its steps as JSON, updated as it goes, kept as history. The flags are
      // integers 0 and 1, as on SQLite, so both engines answer the same queries with the same values.
      await sql`
        CREATE TABLE maintenance_runs (
          id TEXT PRIMARY KEY,
          cluster_id TEXT NOT NULL,
          action TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'canceled', 'interrupted')),
          requested_by TEXT NOT NULL,
          "trigger" TEXT NOT NULL CHECK ("trigger" IN ('manual', 'schedule')),
          started_at BIGINT NOT NULL,
          finished_at BIGINT NULL,
          reason TEXT NULL,
          cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
          steps TEXT NOT NULL DEFAULT '[]' CHECK (steps::jsonb IS NOT NULL)
        )`.execute(db);
      await sql`CREATE INDEX maintenance_runs_by_cluster ON maintenance_runs (cluster_id, started_at)`.execute(db);
      // Consistency checks: HashKV of every member at one revision.
      await sql`
        CREATE TABLE consistency_checks (
          cluster_id TEXT NOT NULL,
          checked_at BIGINT NOT NULL,
          revision BIGINT NULL,
          agree INTEGER NULL CHECK (agree IS NULL OR agree IN (0, 1)),
          suspect TEXT NULL,
          note TEXT NULL,
          members TEXT NOT NULL CHECK (members::jsonb IS NOT NULL),
          PRIMARY KEY (cluster_id, checked_at)
        )`.execute(db);
    },
  },
  '0005_snapshots': {
    async up(db: Kysely<unknown>) {
      // One row per snapshot attempt, kept after its file is deleted by retention (deleted_at) or found gone
      // (missing). hash is etcd's CRC-32C (up to 2^32 - 1, past INTEGER); the flags are integers 0 and 1 and the JSON
      // is text, as on SQLite, so both engines answer the same queries with the same values.
      await sql`
        CREATE TABLE snapshots (
          id TEXT PRIMARY KEY,
          cluster_id TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
          started_at BIGINT NOT NULL,
          finished_at BIGINT NULL,
          member_id TEXT NULL,
          member_name TEXT NULL,
          "trigger" TEXT NOT NULL CHECK ("trigger" IN ('manual', 'schedule')),
          triggered_by TEXT NOT NULL,
          file_name TEXT NOT NULL,
          size_bytes BIGINT NULL,
          revision BIGINT NULL,
          total_keys BIGINT NULL,
          hash BIGINT NULL,
          sha256 TEXT NULL,
          verified INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
          missing INTEGER NOT NULL DEFAULT 0 CHECK (missing IN (0, 1)),
          deleted_at BIGINT NULL,
          locations TEXT NOT NULL DEFAULT '[]' CHECK (locations::jsonb IS NOT NULL),
          keyspace TEXT NULL CHECK (keyspace IS NULL OR keyspace::jsonb IS NOT NULL),
          error TEXT NULL,
          restore_test TEXT NULL CHECK (restore_test IS NULL OR restore_test::jsonb IS NOT NULL)
        )`.execute(db);
      await sql`CREATE INDEX snapshots_by_cluster ON snapshots (cluster_id, started_at)`.execute(db);
    },
  },
  '0006_login_limits': {
    async up(db: Kysely<unknown>) {
      // Failed sign-ins, shared by every replica: one row per username or address, its count in a fixed window that
      // opens at the first failure. window_start is kept indexed so ended windows are pruned cheaply.
      await sql`
        CREATE TABLE login_failures (
          key TEXT PRIMARY KEY,
          window_start BIGINT NOT NULL,
          failures INTEGER NOT NULL CHECK (failures >= 1)
        )`.execute(db);
      await sql`CREATE INDEX login_failures_by_window ON login_failures (window_start)`.execute(db);
    },
  },
  '0007_leases': {
    async up(db: Kysely<unknown>) {
      // Leases (lib/replicas): who holds a named lease until when (epoch ms, PostgreSQL's clock); generation grows at
      // every change of tenure and fences the holder's writes.
      await sql`
        CREATE TABLE leases (
          name TEXT PRIMARY KEY,
          holder TEXT NOT NULL,
          generation BIGINT NOT NULL CHECK (generation >= 1),
          expires_at BIGINT NOT NULL
        )`.execute(db);
    },
  },
  '0008_cluster_views': {
    async up(db: Kysely<unknown>) {
      // The latest view of each cluster, published by the replica that polls it for the others to show.
      await sql`
        CREATE TABLE cluster_views (
          cluster_id TEXT PRIMARY KEY,
          owner TEXT NOT NULL,
          observed_at BIGINT NOT NULL,
          view TEXT NOT NULL CHECK (view::jsonb IS NOT NULL)
        )`.execute(db);
    },
  },
  '0009_alerts_notified': {
    async up(db: Kysely<unknown>) {
      // The newest state of each alert whose notice every receiver is done with (delivered, or given up): what a
      // replica taking over sends again. Alerts stored before were notified the old way: counted as done.
      await sql`ALTER TABLE alerts ADD COLUMN notified TEXT CHECK (notified IN ('firing', 'resolved'))`.execute(db);
      await sql`UPDATE alerts SET notified = CASE WHEN resolved_at IS NULL THEN 'firing' ELSE 'resolved' END`.execute(
        db,
      );
    },
  },
};
