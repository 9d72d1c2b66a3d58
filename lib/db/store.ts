// The dashboard's store, whichever engine holds it: its SQLite file (the embedded default) or a shared PostgreSQL
// (DATABASE_URL), opened, migrated and seen through one Kysely, with the checks and the closing both need.
import 'server-only';
import type Database from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { boundedRead } from './bounded-read';
import { DatabaseError, openDatabase } from './database';
import { openPostgres } from './postgres';
import { redactUrl } from './redact-url';
import type { StoreSchema } from './schema';
import { sqliteStore } from './sqlite-store';

/** Where the store is: the configuration's choice. `url` may carry a password; it is never logged or shown. */
export type StoreLocation = { engine: 'sqlite'; file: string } | { engine: 'postgresql'; url: string };

export interface WritableCheck {
  ok: boolean;
  /** One line, no secrets. */
  detail: string;
}

export interface DashboardStore {
  readonly engine: StoreLocation['engine'];
  readonly db: Kysely<StoreSchema>;
  /** What the leases use: on PostgreSQL connections of their own (lib/db/postgres.ts), on SQLite `db` itself. */
  readonly leaseDb: Kysely<StoreSchema>;
  /** The SQLite connection under `db`; null on PostgreSQL. */
  readonly sqlite: Database.Database | null;
  /** For the start-up line: the file, or the URL with its password masked. */
  readonly description: string;
  /** Whether the database takes writes now (readiness); answers within a few seconds, never throws. */
  writable(): Promise<WritableCheck>;
  close(): Promise<void>;
}

/** The SQLite store: synchronous, as the file is local. */
export function openSqliteStore(file: string): DashboardStore {
  const conn = openDatabase(file);
  const db = sqliteStore(conn);
  return {
    engine: 'sqlite',
    db,
    leaseDb: db,
    sqlite: conn,
    description: `SQLite file ${file}`,
    writable: () => {
      try {
        // A write lock taken and given back: proves the file is writable and not locked by another process.
        conn.exec('BEGIN IMMEDIATE; ROLLBACK');
        return Promise.resolve({ ok: true, detail: 'the dashboard database takes writes' });
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'error';
        return Promise.resolve({ ok: false, detail: `the dashboard database does not take writes (${code})` });
      }
    },
    close: () => db.destroy(),
  };
}

/** How long the readiness check waits for PostgreSQL. */
const WRITABLE_CHECK_MS = 2000;

/** Connection failures worth waiting out at start: PostgreSQL not up yet, or still recovering. */
function transient(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|timeout|starting up|not yet accepting|shutting down|terminated/i.test(
    text,
  );
}

async function openPostgresStore(url: string, waitMs: number, applicationName?: string): Promise<DashboardStore> {
  const redacted = redactUrl(url);
  const deadline = Date.now() + waitMs;
  let said = false;
  for (;;) {
    try {
      const { db, leaseDb, close } = await openPostgres(url, applicationName ? { applicationName } : {});
      return {
        engine: 'postgresql',
        db,
        leaseDb,
        sqlite: null,
        description: `PostgreSQL ${redacted}`,
        writable: async () => {
          const failed = { ok: false, detail: 'the dashboard database does not answer' };
          const answer = await boundedRead(
            sql<{
              ro: string;
              standby: boolean;
            }>`SELECT current_setting('transaction_read_only') AS ro, pg_is_in_recovery() AS standby`
              .execute(db)
              .then((r) => r.rows[0]),
            undefined,
            WRITABLE_CHECK_MS,
          );
          if (!answer) return failed;
          if (answer.standby || answer.ro === 'on') {
            return { ok: false, detail: 'the dashboard database is read-only (a standby, or read-only by default)' };
          }
          return { ok: true, detail: 'the dashboard database takes writes' };
        },
        close,
      };
    } catch (err) {
      if (!(err instanceof DatabaseError) || !transient(err) || Date.now() >= deadline) throw err;
      if (!said) {
        console.log(`etcd-dashboard: waiting for the dashboard database (${err.message})`);
        said = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/**
 * Opens the store and brings its schema up to date. A PostgreSQL that refuses connections is waited for up to
 * `waitMs` (it may be starting beside the dashboard); then, or on any other failure, DatabaseError with one line
 * naming the database, its password masked. `applicationName` names the PostgreSQL sessions (presenceName of the
 * replica: lib/replicas/lease-store.ts).
 */
export async function openStore(
  where: StoreLocation,
  opts: { waitMs?: number; applicationName?: string } = {},
): Promise<DashboardStore> {
  if (where.engine === 'sqlite') return openSqliteStore(where.file);
  return openPostgresStore(where.url, opts.waitMs ?? 30_000, opts.applicationName);
}
