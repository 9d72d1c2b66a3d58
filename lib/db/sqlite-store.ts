// The SQLite database seen through Kysely, for the stores that speak to both engines with one set of queries.
import 'server-only';
import type Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { StoreSchema } from './schema';

/**
 * Kysely over the dashboard's open SQLite connection (the same one the other stores use, so one file, one lock).
 * Destroying it closes that connection.
 */
export function sqliteStore(db: Database.Database): Kysely<StoreSchema> {
  return new Kysely<StoreSchema>({ dialect: new SqliteDialect({ database: db }) });
}
