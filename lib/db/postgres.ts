// Opens the shared store on PostgreSQL (DATABASE_URL) and brings its schema up to date.
import 'server-only';
import { Kysely, PostgresDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { DatabaseError } from './database';
import { POSTGRES_MIGRATIONS } from './postgres-migrations';
import { redactUrl } from './redact-url';
import type { StoreSchema } from './schema';

/** BIGINT columns hold epoch ms and ids, all far below 2^53: numbers, not the strings pg gives by default. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export async function migratePostgres(db: Kysely<StoreSchema>, url: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(POSTGRES_MIGRATIONS) },
    migrationTableName: 'dashboard_migration',
    migrationLockTableName: 'dashboard_migration_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    // Kysely names a step it does not know as "missing": the database was migrated by a newer dashboard.
    const newer = /missing/.test(reason ?? '');
    const unreachable =
      !failed && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|timeout|starting up|not yet accepting/i.test(reason ?? '');
    throw new DatabaseError(
      newer
        ? `dashboard database ${redactUrl(url)}: its schema is newer than this dashboard knows (${reason}); upgrade the dashboard or use another database`
        : `dashboard database ${redactUrl(url)}: ${unreachable ? 'cannot connect' : failed ? `migration ${failed} failed` : 'migrating failed'}: ${reason}`,
    );
  }
}

export interface PostgresStore {
  db: Kysely<StoreSchema>;
  /**
   * The leases' own connections (lib/replicas): a lease is renewed within its deadline however many queries of the
   * other work wait for a connection of `db`, so a busy replica does not lose its leadership or its clusters.
   */
  leaseDb: Kysely<StoreSchema>;
  close(): Promise<void>;
}

/**
 * Connections kept apart for the leases: the leader's, the shards' and the action locks' renewals. Four: the leader's
 * renewal may wait on the lease row while a fenced write holds it, and the shards' round must not wait behind it.
 */
const LEASE_CONNECTIONS = 4;

function kyselyOver(
  url: string,
  max: number,
  opts: { keepIdle?: boolean; applicationName?: string } = {},
): Kysely<StoreSchema> {
  const pool = new pg.Pool({
    // Names this process's sessions (pg_stat_activity): the other replicas tell a dead one from a slow one by it. In
    // the URL, which pg lets win over its own option: a DATABASE_URL naming its own application_name (a common habit)
    // would otherwise hide every replica from the others, and each would take the others for dead every round.
    connectionString: opts.applicationName ? withApplicationName(url, opts.applicationName) : url,
    max,
    // 0 keeps an idle connection open (the default closes it after 10 s of rest).
    idleTimeoutMillis: opts.keepIdle ? 0 : 10_000,
    connectionTimeoutMillis: 5000,
    // A query the server never answers (a hung connection) fails instead of holding up what waits behind it.
    query_timeout: 30_000,
    statement_timeout: 30_000,
    types,
  });
  // A connection the server drops (PostgreSQL restarted, a network cut) must not crash the process: the pool's own
  // 'error' covers idle clients, each client's covers one checked out between queries. The query under way, if any,
  // fails with the error; the next gets a new connection.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<StoreSchema>({ dialect: new PostgresDialect({ pool }) });
}

/** The URL with its application_name parameter set to `name` (added, or in place of the one it had). */
export function withApplicationName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', name);
  return parsed.toString();
}

/** Connects (at most `maxConnections` at once, and the leases' own), migrates, and answers; a refused connection is one clear line. */
export async function openPostgres(
  url: string,
  opts: { maxConnections?: number; applicationName?: string } = {},
): Promise<PostgresStore> {
  const named = opts.applicationName ? { applicationName: opts.applicationName } : {};
  const db = kyselyOver(url, opts.maxConnections ?? 10, named);
  try {
    await migratePostgres(db, url);
  } catch (err) {
    await db.destroy();
    if (err instanceof DatabaseError) throw err;
    throw new DatabaseError(
      `dashboard database ${redactUrl(url)}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`,
    );
  }
  // Kept open: a renewal that must first connect (a new server process, on a loaded host seconds) can miss its ttl.
  const leaseDb = kyselyOver(url, LEASE_CONNECTIONS, { keepIdle: true, ...named });
  return { db, leaseDb, close: async () => void (await Promise.all([db.destroy(), leaseDb.destroy()])) };
}
