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
];
