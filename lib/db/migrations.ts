// The dashboard database's schema, as the ordered migrations that build it; append new ones, never edit old ones.
import 'server-only';
import type Database from 'better-sqlite3';

export interface Migration {
  /** 1 for the first, then 2, 3…: the PRAGMA user_version the database has once it is applied. */
  version: number;
  up: string | ((db: Database.Database) => void);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: `
      -- Small integer ids keep every sample row short; the hex member id and name are stored once.
      CREATE TABLE members (
        id INTEGER PRIMARY KEY,
        cluster_id TEXT NOT NULL,
        member_id TEXT NOT NULL,
        name TEXT NOT NULL,
        UNIQUE (cluster_id, member_id)
      );

      -- series: the code from series-codes.ts; at: epoch ms.
      CREATE TABLE samples (
        series INTEGER NOT NULL,
        member INTEGER NOT NULL REFERENCES members (id),
        at INTEGER NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (series, member, at)
      ) WITHOUT ROWID;

      -- minute: epoch ms of the minute's start.
      CREATE TABLE rollups_1m (
        series INTEGER NOT NULL,
        member INTEGER NOT NULL REFERENCES members (id),
        minute INTEGER NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        sum REAL NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (series, member, minute)
      ) WITHOUT ROWID;

      -- Bookkeeping such as the rollup watermark.
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        cluster_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        type TEXT NOT NULL,
        member_id TEXT NULL,
        details TEXT NOT NULL CHECK (json_valid(details))
      );
      CREATE INDEX events_by_cluster_time ON events (cluster_id, at);
    `,
  },
  {
    version: 2,
    up: `
      -- Access control. Times are epoch ms. Secrets are never stored: passwords as scrypt hashes, session cookies
      -- and API tokens as the hex sha256 of their value.
      -- source: where the account is defined ('config' | 'env' | 'demo').
      CREATE TABLE users (
        username TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        source TEXT NOT NULL CHECK (source IN ('config', 'env', 'demo')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );

      -- role: as at sign-in; the users row is authoritative. source: the client address at sign-in.
      CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        source TEXT NULL
      );
      CREATE INDEX sessions_by_username ON sessions (username);
      CREATE INDEX sessions_by_expiry ON sessions (expires_at);

      -- id: short, random, url-safe; also the middle part of the token itself.
      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NULL,
        revoked_at INTEGER NULL,
        last_used_at INTEGER NULL
      );

      -- actor: username, token name or 'anonymous'; method: how the actor was identified; source: the client address.
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        method TEXT NOT NULL CHECK (method IN ('password', 'session', 'token', 'proxy', 'anonymous', 'none')),
        source TEXT NULL,
        action TEXT NOT NULL,
        cluster_id TEXT NULL,
        member_id TEXT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
        details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
      );
      CREATE INDEX audit_log_by_time ON audit_log (at);

      -- A record of who did what is only worth keeping if no one can quietly change it afterwards.
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
      BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only');
      END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
      BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only');
      END;
    `,
  },
  {
    version: 3,
    up: `
      -- One row per snapshot attempt, kept after its file is deleted by retention (deleted_at) or found gone (missing).
      CREATE TABLE snapshots (
        id TEXT PRIMARY KEY,
        cluster_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
        started_at INTEGER NOT NULL,
        finished_at INTEGER NULL,
        member_id TEXT NULL,
        member_name TEXT NULL,
        trigger TEXT NOT NULL CHECK (trigger IN ('manual', 'schedule')),
        triggered_by TEXT NOT NULL,
        file_name TEXT NOT NULL,
        size_bytes INTEGER NULL,
        revision INTEGER NULL,
        total_keys INTEGER NULL,
        hash INTEGER NULL,
        sha256 TEXT NULL,
        verified INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
        missing INTEGER NOT NULL DEFAULT 0 CHECK (missing IN (0, 1)),
        deleted_at INTEGER NULL,
        locations TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(locations)),
        keyspace TEXT NULL CHECK (keyspace IS NULL OR json_valid(keyspace)),
        error TEXT NULL
      );
      CREATE INDEX snapshots_by_cluster ON snapshots (cluster_id, started_at);
    `,
  },
  {
    version: 4,
    up: `
      -- Alerts that fired: kept as history once resolved. Pending ones live in memory only.
      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        cluster_id TEXT NOT NULL,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        alert_key TEXT NOT NULL,
        member_id TEXT NULL,
        member_name TEXT NULL,
        summary TEXT NOT NULL,
        pending_since INTEGER NOT NULL,
        firing_since INTEGER NOT NULL,
        resolved_at INTEGER NULL
      );
      CREATE INDEX alerts_by_cluster ON alerts (cluster_id, firing_since);
      CREATE INDEX alerts_open ON alerts (resolved_at) WHERE resolved_at IS NULL;
    `,
  },
  {
    version: 5,
    up: `
      -- Maintenance runs (defragment, compact, disarm, NOSPACE recovery, move leader): one row per run, its steps as
      -- JSON (a run has a handful), updated as it goes, kept as history.
      CREATE TABLE maintenance_runs (
        id TEXT PRIMARY KEY,
        cluster_id TEXT NOT NULL,
        action TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'canceled', 'interrupted')),
        requested_by TEXT NOT NULL,
        trigger TEXT NOT NULL CHECK (trigger IN ('manual', 'schedule')),
        started_at INTEGER NOT NULL,
        finished_at INTEGER NULL,
        reason TEXT NULL,
        cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
        steps TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(steps))
      );
      CREATE INDEX maintenance_runs_by_cluster ON maintenance_runs (cluster_id, started_at);

      -- Consistency checks: HashKV of every member at one revision.
      CREATE TABLE consistency_checks (
        cluster_id TEXT NOT NULL,
        checked_at INTEGER NOT NULL,
        revision INTEGER NULL,
        agree INTEGER NULL CHECK (agree IS NULL OR agree IN (0, 1)),
        suspect TEXT NULL,
        note TEXT NULL,
        members TEXT NOT NULL CHECK (json_valid(members)),
        PRIMARY KEY (cluster_id, checked_at)
      );
    `,
  },
  {
    version: 6,
    up: `
      -- A snapshot's restore test: restored into a scratch etcd of the cluster's version and compared (JSON).
      ALTER TABLE snapshots ADD COLUMN restore_test TEXT NULL CHECK (restore_test IS NULL OR json_valid(restore_test));
    `,
  },
  {
    version: 7,
    up: `
      -- Failed sign-ins, shared by every process on the database: one row per username or address ('user:…',
      -- 'address:…'), its count in a fixed window that opens at the first failure (epoch ms).
      CREATE TABLE login_failures (
        key TEXT PRIMARY KEY,
        window_start INTEGER NOT NULL,
        failures INTEGER NOT NULL CHECK (failures >= 1)
      );
      CREATE INDEX login_failures_by_window ON login_failures (window_start);
    `,
  },
  {
    version: 8,
    up: `
      -- Leases (lib/replicas): who holds a named lease until when (epoch ms); generation grows at every change of
      -- tenure and fences the holder's writes.
      CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        generation INTEGER NOT NULL CHECK (generation >= 1),
        expires_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 9,
    up: `
      -- The latest view of each cluster (lib/collector/cluster-view-store.ts), published by the replica that polls it
      -- for the others to show: JSON, as the status API answers it.
      CREATE TABLE cluster_views (
        cluster_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        observed_at INTEGER NOT NULL,
        view TEXT NOT NULL CHECK (json_valid(view))
      );
    `,
  },
  {
    version: 10,
    up: `
      -- The newest state of each alert whose notice every receiver is done with (delivered, or given up): what a
      -- replica taking over sends again. Alerts stored before were notified the old way: counted as done.
      ALTER TABLE alerts ADD COLUMN notified TEXT CHECK (notified IN ('firing', 'resolved'));
      UPDATE alerts SET notified = CASE WHEN resolved_at IS NULL THEN 'firing' ELSE 'resolved' END;
    `,
  },
];
