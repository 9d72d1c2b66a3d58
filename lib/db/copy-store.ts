// Moving up: copies a dashboard's SQLite file into PostgreSQL in one transaction, checked row for row; owns the list
// of the tables that are copied, in the order they are written.
import 'server-only';
import { existsSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DatabaseError } from './database';
import { MIGRATIONS } from './migrations';
import { openPostgres } from './postgres';
import { redactUrl } from './redact-url';
import type { StoreSchema } from './schema';

/**
 * Every table of the store, each after the tables it references (samples and rollups after members). A new table is
 * one line here; a table of the SQLite schema missing from here and from NOT_COPIED is refused (and fails a test).
 */
export const COPIED_TABLES = [
  'users',
  'sessions',
  'api_tokens',
  'audit_log',
  'members',
  'samples',
  'rollups_1m',
  'meta',
  'events',
  'alerts',
  'maintenance_runs',
  'consistency_checks',
  'snapshots',
  'login_failures',
] as const satisfies ReadonlyArray<keyof StoreSchema>;

/** Tables of the SQLite schema left behind on purpose, and why (their rows are not the dashboard's history). */
export const NOT_COPIED: Readonly<Record<string, string>> = {
  leases: 'who leads, and which replica is alive, is settled anew by the replicas on PostgreSQL',
  cluster_views: 'the latest view of each cluster is published anew by the replica that polls it',
};

/** The copy or its check failed; the message is one line naming the file or database, and the table. */
export class CopyError extends Error {
  override readonly name = 'CopyError';
}

export interface CopyProgress {
  phase: 'copy' | 'verify';
  table: string;
  rows: number;
  total: number;
}

export interface CopyOptions {
  /** The dashboard's SQLite file; opened read-only. */
  from: string;
  /** postgres://… ; may carry a password, never shown. */
  to: string;
  /** Rows per page read and per INSERT (memory stays bounded by it). Default 1000. */
  batchRows?: number;
  onProgress?: (p: CopyProgress) => void;
}

export interface TableCopied {
  table: string;
  rows: number;
}

export interface CopyResult {
  tables: TableCopied[];
  /** PostgreSQL already held exactly these rows (a re-run): nothing was written. */
  alreadyThere: boolean;
}

/** The first row that differs between the file and PostgreSQL. */
export interface Difference {
  table: string;
  /** The primary key, as `column=value` pairs; null when the row counts differ. */
  key: string | null;
  column: string | null;
  detail: string;
}

export function describeDifference(d: Difference): string {
  return `table ${d.table}${d.key ? `, row ${d.key}` : ''}${d.column ? `, column ${d.column}` : ''}: ${d.detail}`;
}

type Value = bigint | number | string | Buffer | null;
type Row = Value[];

interface TableShape {
  name: string;
  columns: string[];
  /** Primary key columns, in key order. */
  key: string[];
}

const DEFAULT_BATCH_ROWS = 1000;
/** PostgreSQL's limit on parameters in one statement. */
const MAX_PARAMETERS = 65_535;

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

function shown(v: Value): string {
  if (v === null) return 'NULL';
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  const text = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

// ---------------------------------------------------------------------------------------------------------------
// The SQLite side: read-only, paged by primary key.

interface Source {
  file: string;
  db: Database.Database;
  shapes: Map<string, TableShape>;
  /** Throws if the file changed since it was opened (a dashboard started on it). */
  assertUnchanged(): void;
  close(): void;
}

/**
 * Opens the file read-only once it is known to be a dashboard database at the version this code copies. SQLite makes
 * the -wal and -shm files beside a WAL-mode file even to read it; the ones it made here are removed at close.
 */
function openSource(file: string): Source {
  if (!existsSync(file) || !statSync(file).isFile()) throw new CopyError(`${file}: no such file`);
  // A dashboard still writing would have rows the copy misses; one that crashed has rows only in its WAL.
  if (existsSync(`${file}-wal`)) {
    throw new CopyError(
      `${file}: ${file}-wal exists: a dashboard still has the file open, or stopped without closing it; stop the dashboard (start it and stop it once if it crashed) and run again`,
    );
  }
  const before = statSync(file);
  const sideFiles = [`${file}-wal`, `${file}-shm`].filter((f) => !existsSync(f));
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new CopyError(`${file}: cannot be opened read-only: ${firstLine(err)}`);
  }
  const close = () => {
    if (db.open) db.close();
    // Only when SQLite made them for this read and wrote nothing into the WAL: a dashboard started meanwhile would.
    const wal = `${file}-wal`;
    if (!existsSync(wal) || statSync(wal).size === 0) {
      for (const f of sideFiles) rmSync(f, { force: true });
    }
  };
  try {
    let version: number;
    try {
      version = db.pragma('user_version', { simple: true }) as number;
    } catch (err) {
      throw new CopyError(`${file}: is not an SQLite database (${firstLine(err)})`);
    }
    const known = MIGRATIONS.length;
    const names = (
      db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{
        name: string;
      }>
    ).map((r) => r.name);
    if (version === 0) {
      throw new CopyError(
        names.length > 0
          ? `${file}: is an SQLite database of something else (it has tables but no dashboard schema version)`
          : `${file}: is empty, not a dashboard database`,
      );
    }
    if (version !== known) {
      throw new CopyError(
        version < known
          ? `${file}: schema version ${version}, this command copies version ${known}: start this dashboard once on the file to migrate it, stop it, and run again`
          : `${file}: schema version ${version} is newer than this command knows (${known}): use the copy command of the dashboard that wrote it`,
      );
    }
    const listed = new Set<string>([...COPIED_TABLES, ...Object.keys(NOT_COPIED)]);
    const unknown = names.filter((n) => !listed.has(n));
    if (unknown.length > 0) {
      throw new CopyError(
        `${file}: table ${unknown.join(', ')} is not in the copy list (lib/db/copy-store.ts COPIED_TABLES): this command would leave it behind`,
      );
    }
    // One read transaction for the copy and its check: both see the same rows.
    db.exec('BEGIN');
    const shapes = new Map<string, TableShape>();
    for (const name of COPIED_TABLES) {
      if (!names.includes(name)) throw new CopyError(`${file}: has no table ${name}, which a dashboard database has`);
      const info = db.prepare(`SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`).all(name) as Array<{
        name: string;
        pk: number;
      }>;
      const key = info
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name);
      if (key.length === 0) throw new CopyError(`${file}: table ${name} has no primary key to page through`);
      shapes.set(name, { name, columns: info.map((c) => c.name), key });
    }
    return {
      file,
      db,
      shapes,
      assertUnchanged: () => {
        const now = statSync(file);
        const wal = `${file}-wal`;
        if (now.size !== before.size || now.mtimeMs !== before.mtimeMs || (existsSync(wal) && statSync(wal).size > 0)) {
          throw new CopyError(
            `${file}: changed while it was copied (a dashboard started on it?): stop it and run again`,
          );
        }
      },
      close,
    };
  } catch (err) {
    close();
    throw err;
  }
}

/** Pages of a table in primary-key order (SQLite's BINARY order for text, which PostgreSQL's "C" collation matches). */
function* sourcePages(source: Source, shape: TableShape, batchRows: number): Generator<Row[]> {
  const cols = shape.columns.map(quote).join(', ');
  const order = shape.key.map(quote).join(', ');
  const first = source.db.prepare(`SELECT ${cols} FROM ${quote(shape.name)} ORDER BY ${order} LIMIT ?`);
  const next = source.db.prepare(
    `SELECT ${cols} FROM ${quote(shape.name)} WHERE (${order}) > (${shape.key.map(() => '?').join(', ')}) ORDER BY ${order} LIMIT ?`,
  );
  // Integers as bigint: no value beyond 2^53 is rounded on its way.
  for (const s of [first, next]) s.raw(true).safeIntegers(true);
  const keyAt = shape.key.map((k) => shape.columns.indexOf(k));
  let after: Value[] | null = null;
  for (;;) {
    const page = (after === null ? first.all(batchRows) : next.all(...after, batchRows)) as Row[];
    if (page.length === 0) return;
    yield page;
    if (page.length < batchRows) return;
    const last = page[page.length - 1] as Row;
    after = keyAt.map((i) => last[i] ?? null);
  }
}

function sourceCount(source: Source, table: string): number {
  const row = source.db.prepare(`SELECT count(*) AS n FROM ${quote(table)}`).get() as { n: number };
  return row.n;
}

// ---------------------------------------------------------------------------------------------------------------
// The PostgreSQL side: one client, BIGINT as bigint so values compare exactly.

const INT8_OID = 20;
const exactTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => BigInt(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

interface TargetColumns {
  /** Column name → PostgreSQL data type. */
  types: Map<string, string>;
  identity: string[];
}

async function connectTarget(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, types: exactTypes });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new CopyError(`${redactUrl(url)}: cannot connect: ${firstLine(err)}`);
  }
  return client;
}

async function targetColumns(client: pg.Client, target: string, shape: TableShape): Promise<TargetColumns> {
  const { rows } = await client.query<{ column_name: string; data_type: string; is_identity: string }>(
    `SELECT column_name, data_type, is_identity FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1`,
    [shape.name],
  );
  if (rows.length === 0) throw new CopyError(`${target}: has no table ${shape.name} after its migrations`);
  const types = new Map(rows.map((r) => [r.column_name, r.data_type]));
  const extra = rows.map((r) => r.column_name).filter((c) => !shape.columns.includes(c));
  const missing = shape.columns.filter((c) => !types.has(c));
  if (extra.length > 0 || missing.length > 0) {
    throw new CopyError(
      `table ${shape.name}: the SQLite and PostgreSQL schemas differ (${[
        ...missing.map((c) => `${c} only in SQLite`),
        ...extra.map((c) => `${c} only in PostgreSQL`),
      ].join(', ')})`,
    );
  }
  return { types, identity: rows.filter((r) => r.is_identity === 'YES').map((r) => r.column_name) };
}

const TEXT_TYPES = new Set(['text', 'character varying', 'character']);

/** Pages of a PostgreSQL table in the SQLite file's key order. */
async function* targetPages(
  client: pg.Client,
  shape: TableShape,
  cols: TargetColumns,
  batchRows: number,
): AsyncGenerator<Row[]> {
  const keyed = shape.key.map((k) => (TEXT_TYPES.has(cols.types.get(k) ?? '') ? `${quote(k)} COLLATE "C"` : quote(k)));
  const select = `SELECT ${shape.columns.map(quote).join(', ')} FROM ${quote(shape.name)}`;
  const order = `ORDER BY ${keyed.join(', ')} LIMIT`;
  const keyAt = shape.key.map((k) => shape.columns.indexOf(k));
  let after: Value[] | null = null;
  for (;;) {
    const params = after === null ? [] : after.map(toParameter);
    const where =
      after === null ? '' : `WHERE ROW(${keyed.join(', ')}) > ROW(${shape.key.map((_, i) => `$${i + 1}`).join(', ')})`;
    const { rows } = await client.query<Row>({
      text: `${select} ${where} ${order} ${batchRows}`,
      values: params,
      rowMode: 'array',
    });
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < batchRows) return;
    const last = rows[rows.length - 1] as Row;
    after = keyAt.map((i) => last[i] ?? null);
  }
}

/** As pg sends it: bigint as its decimal text (pg would refuse it), everything else as it is. */
function toParameter(v: Value): string | number | Buffer | null {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** SQLite gives integers as bigint and reals as numbers; PostgreSQL gives INTEGER as number, BIGINT as bigint. */
function sameValue(a: Value, b: Value): boolean {
  if (a === null || b === null) return a === b;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  const asInteger = (v: Value) => (typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v);
  return asInteger(a) === asInteger(b);
}

function keyOf(shape: TableShape, row: Row): string {
  return shape.key.map((k) => `${k}=${shown(row[shape.columns.indexOf(k)] ?? null)}`).join(', ');
}

// ---------------------------------------------------------------------------------------------------------------
// Copy and check.

async function countTarget(client: pg.Client, table: string): Promise<number> {
  const { rows } = await client.query<{ n: bigint }>(`SELECT count(*) AS n FROM ${quote(table)}`);
  return Number(rows[0]?.n ?? 0);
}

async function insertRows(client: pg.Client, shape: TableShape, cols: TargetColumns, rows: Row[]): Promise<void> {
  const width = shape.columns.length;
  const tuples = rows.map((_, r) => `(${shape.columns.map((__, c) => `$${r * width + c + 1}`).join(', ')})`);
  // Identity columns keep the file's ids; the sequences are moved past them afterwards.
  const overriding = cols.identity.length > 0 ? ' OVERRIDING SYSTEM VALUE' : '';
  await client.query(
    `INSERT INTO ${quote(shape.name)} (${shape.columns.map(quote).join(', ')})${overriding} VALUES ${tuples.join(', ')}`,
    rows.flat().map(toParameter),
  );
}

/** Inserts a page; a page PostgreSQL refuses is tried row by row, so the error names the row. */
async function insertPage(client: pg.Client, shape: TableShape, cols: TargetColumns, rows: Row[]): Promise<void> {
  await client.query('SAVEPOINT page');
  try {
    await insertRows(client, shape, cols, rows);
    await client.query('RELEASE SAVEPOINT page');
    return;
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT page');
  }
  for (const row of rows) {
    try {
      await insertRows(client, shape, cols, [row]);
    } catch (err) {
      const column = (err as { column?: string }).column;
      const at = column ? `, column ${column} (${shown(row[shape.columns.indexOf(column)] ?? null)})` : '';
      throw new CopyError(
        `table ${shape.name}, row ${keyOf(shape, row)}${at}: PostgreSQL refused it: ${firstLine(err)}`,
      );
    }
  }
  throw new CopyError(`table ${shape.name}: PostgreSQL refused a page of rows it then took one by one`);
}

async function copyTable(
  source: Source,
  client: pg.Client,
  shape: TableShape,
  cols: TargetColumns,
  batchRows: number,
  onProgress: CopyOptions['onProgress'],
): Promise<number> {
  const total = sourceCount(source, shape.name);
  // PostgreSQL takes at most 65,535 parameters in one statement.
  const perInsert = Math.max(1, Math.min(batchRows, Math.floor(MAX_PARAMETERS / shape.columns.length)));
  let rows = 0;
  for (const page of sourcePages(source, shape, perInsert)) {
    await insertPage(client, shape, cols, page);
    rows += page.length;
    onProgress?.({ phase: 'copy', table: shape.name, rows, total });
  }
  for (const column of cols.identity) {
    // The next id the dashboard takes is past every copied one.
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), m) FROM (SELECT max(${quote(column)}) AS m FROM ${quote(shape.name)}) AS x WHERE m IS NOT NULL`,
      [quote(shape.name), column],
    );
  }
  return rows;
}

async function verifyTable(
  source: Source,
  client: pg.Client,
  shape: TableShape,
  cols: TargetColumns,
  batchRows: number,
  onProgress: CopyOptions['onProgress'],
): Promise<Difference | null> {
  const total = sourceCount(source, shape.name);
  const inTarget = await countTarget(client, shape.name);
  if (total !== inTarget) {
    return {
      table: shape.name,
      key: null,
      column: null,
      detail: `${total} rows in the file, ${inTarget} in PostgreSQL`,
    };
  }
  const theirs = targetPages(client, shape, cols, batchRows);
  let checked = 0;
  try {
    for (const ours of sourcePages(source, shape, batchRows)) {
      const next = await theirs.next();
      const page = next.done ? [] : next.value;
      for (const [i, row] of ours.entries()) {
        const other = page[i];
        if (!other) return { table: shape.name, key: keyOf(shape, row), column: null, detail: 'missing in PostgreSQL' };
        const ourKey = keyOf(shape, row);
        const otherKey = keyOf(shape, other);
        if (ourKey !== otherKey) {
          return {
            table: shape.name,
            key: ourKey,
            column: null,
            detail: `PostgreSQL has row ${otherKey} in its place`,
          };
        }
        for (const [c, column] of shape.columns.entries()) {
          const a = row[c] ?? null;
          const b = other[c] ?? null;
          if (!sameValue(a, b)) {
            return {
              table: shape.name,
              key: ourKey,
              column,
              detail: `the file has ${shown(a)}, PostgreSQL has ${shown(b)}`,
            };
          }
        }
      }
      checked += ours.length;
      onProgress?.({ phase: 'verify', table: shape.name, rows: checked, total });
    }
  } finally {
    await theirs.return(undefined);
  }
  return null;
}

async function verifyAll(
  source: Source,
  client: pg.Client,
  columns: Map<string, TargetColumns>,
  batchRows: number,
  onProgress: CopyOptions['onProgress'],
): Promise<Difference | null> {
  for (const table of COPIED_TABLES) {
    const shape = source.shapes.get(table) as TableShape;
    const diff = await verifyTable(source, client, shape, columns.get(table) as TargetColumns, batchRows, onProgress);
    if (diff) return diff;
  }
  return null;
}

/** Migrates PostgreSQL, then opens the one connection the copy and its check run on. */
async function openTarget(source: Source, url: string) {
  const target = redactUrl(url);
  try {
    const migrated = await openPostgres(url, { maxConnections: 1 });
    await migrated.close();
  } catch (err) {
    if (err instanceof DatabaseError) throw new CopyError(err.message);
    throw new CopyError(`${target}: ${firstLine(err)}`);
  }
  const client = await connectTarget(url);
  try {
    const columns = new Map<string, TargetColumns>();
    for (const table of COPIED_TABLES) {
      columns.set(table, await targetColumns(client, target, source.shapes.get(table) as TableShape));
    }
    return { client, columns, target };
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

/**
 * Copies every table of the SQLite file `from` into the PostgreSQL `to` (migrated first) in one transaction, then
 * compares every row before committing: a copy that does not match is rolled back, so nothing is left half-done
 * (audit_log rows, once committed, cannot be deleted). A PostgreSQL that already holds exactly these rows is checked
 * and left as it is; one holding any other rows is refused. Throws CopyError with one line, the password masked.
 */
export async function copyToPostgres(opts: CopyOptions): Promise<CopyResult> {
  const batchRows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
  const source = openSource(opts.from);
  try {
    const { client, columns, target } = await openTarget(source, opts.to);
    try {
      const held: string[] = [];
      for (const table of COPIED_TABLES) {
        const n = await countTarget(client, table);
        if (n > 0) held.push(`${table} has ${n} rows`);
      }
      if (held.length > 0) {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const diff = await verifyAll(source, client, columns, batchRows, opts.onProgress);
        await client.query('COMMIT');
        if (diff) {
          throw new CopyError(
            `${target}: is not empty (${held.join(', ')}) and differs from ${opts.from} (${describeDifference(diff)}): copy into an empty database`,
          );
        }
        return {
          tables: COPIED_TABLES.map((table) => ({ table, rows: sourceCount(source, table) })),
          alreadyThere: true,
        };
      }
      await client.query('BEGIN');
      try {
        const tables: TableCopied[] = [];
        for (const table of COPIED_TABLES) {
          const shape = source.shapes.get(table) as TableShape;
          const rows = await copyTable(
            source,
            client,
            shape,
            columns.get(table) as TargetColumns,
            batchRows,
            opts.onProgress,
          );
          tables.push({ table, rows });
        }
        const diff = await verifyAll(source, client, columns, batchRows, opts.onProgress);
        if (diff)
          throw new CopyError(`the copy does not match the file, nothing was kept: ${describeDifference(diff)}`);
        source.assertUnchanged();
        await client.query('COMMIT');
        return { tables, alreadyThere: false };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch (err) {
    if (err instanceof CopyError) throw err;
    throw new CopyError(`${redactUrl(opts.to)}: ${firstLine(err)}`);
  } finally {
    source.close();
  }
}

/** Compares every row of the file with PostgreSQL (already copied); the first difference, or null. */
export async function verifyCopy(opts: Omit<CopyOptions, 'onProgress'>): Promise<Difference | null> {
  const source = openSource(opts.from);
  try {
    const { client, columns } = await openTarget(source, opts.to);
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      return await verifyAll(source, client, columns, opts.batchRows ?? DEFAULT_BATCH_ROWS, undefined);
    } finally {
      await client.query('COMMIT').catch(() => undefined);
      await client.end().catch(() => undefined);
    }
  } finally {
    source.close();
  }
}
