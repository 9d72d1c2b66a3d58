// Runs a store's tests on both engines the dashboard stores into: SQLite (a new file per test) and PostgreSQL (a new
// database per test, in one real server started for the file on 127.0.0.1 and stopped by its PID).
import type Database from 'better-sqlite3';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { openDatabase } from '@/lib/db/database';
import { openPostgres } from '@/lib/db/postgres';
import type { StoreSchema } from '@/lib/db/schema';
import { sqliteStore } from '@/lib/db/sqlite-store';
import { postgresTestParent, startPostgres, type PostgresServer } from '@/scripts/lib/postgres';
import { tempDatabasePerTest } from './temp-database';

export interface StoreEngine {
  readonly name: 'SQLite' | 'PostgreSQL';
  /** The current test's store. */
  readonly db: Kysely<StoreSchema>;
  /** A new connection to the same data: what a restarted dashboard, or another replica, sees. */
  reopen(): Promise<Kysely<StoreSchema>>;
  /**
   * A second connection to the same data beside the current one (another replica), closed after the test; on
   * PostgreSQL its sessions carry `applicationName` when given (a replica's presenceName), and its URL ends with
   * `urlQuery` when given (`?application_name=…`, as a DATABASE_URL may).
   */
  connect(opts?: { applicationName?: string; urlQuery?: string }): Promise<Kysely<StoreSchema>>;
  /** PostgreSQL only: the server, to stop and start it under a running store. */
  readonly server: PostgresServer | null;
}

function sqliteEngine(): StoreEngine {
  const temp = tempDatabasePerTest('store-');
  let db: Kysely<StoreSchema> | undefined;
  const others: Database.Database[] = [];
  beforeEach(() => {
    db = sqliteStore(temp.db);
  });
  afterEach(() => {
    for (const other of others.splice(0)) other.close();
  });
  return {
    name: 'SQLite',
    get db() {
      if (!db) throw new Error('the store is open only inside a test');
      return db;
    },
    reopen() {
      db = sqliteStore(temp.reopen());
      return Promise.resolve(db);
    },
    connect() {
      const other = openDatabase(temp.file);
      others.push(other);
      return Promise.resolve(sqliteStore(other));
    },
    server: null,
  };
}

function postgresEngine(port: number): StoreEngine {
  let server: PostgresServer | undefined;
  let n = 0;
  let url = '';
  const open: Array<Kysely<StoreSchema>> = [];
  let db: Kysely<StoreSchema> | undefined;
  beforeAll(async () => {
    server = await startPostgres({ parent: postgresTestParent(), port });
  }, 120_000);
  afterAll(async () => {
    await server?.destroy();
  });
  beforeEach(async () => {
    if (!server) throw new Error('PostgreSQL did not start');
    if (server.pid < 0) await server.start(); // a test that stopped it
    const admin = new pg.Client({ connectionString: server.url });
    admin.on('error', () => undefined);
    await admin.connect();
    const name = `test_${++n}`;
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    url = server.url.replace(/\/postgres$/, `/${name}`);
    db = (await openPostgres(url, { maxConnections: 4 })).db;
    open.push(db);
  });
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((d) => d.destroy()));
  });
  return {
    name: 'PostgreSQL',
    get db() {
      if (!db) throw new Error('the store is open only inside a test');
      return db;
    },
    async reopen() {
      db = (await openPostgres(url, { maxConnections: 4 })).db;
      open.push(db);
      return db;
    },
    async connect({ urlQuery = '', ...opts } = {}) {
      const other = (await openPostgres(`${url}${urlQuery}`, { maxConnections: 4, ...opts })).db;
      open.push(other);
      return other;
    },
    get server() {
      return server ?? null;
    },
  };
}

/** `suite` once per engine; `postgresPort` is the file's own port for its PostgreSQL server. */
export function describeOnEachEngine(title: string, postgresPort: number, suite: (engine: StoreEngine) => void): void {
  describe(`${title} (SQLite)`, () => suite(sqliteEngine()));
  describe(`${title} (PostgreSQL)`, () => suite(postgresEngine(postgresPort)));
}
