// Opens the dashboard database file and brings its schema up to date, refusing files it cannot safely use.
import 'server-only';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations';

/** The dashboard database cannot be opened or migrated; the message is one line naming the file. */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Reads the first bytes without opening the file through SQLite, so a foreign file is never written to. */
function readHeader(file: string): Buffer | null {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return null;
  }
  // SQLite treats an empty file as an empty database.
  if (size === 0) return null;
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  try {
    const read = readSync(fd, header, 0, header.length, 0);
    return header.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function hasTables(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' LIMIT 1").get() !== undefined;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

/** Throws unless the database is empty or one of ours at a version this code knows; reads only. */
function assertUsable(db: Database.Database, known: number): void {
  const version = userVersion(db);
  if (version > known) {
    throw new DatabaseError(
      `dashboard database ${db.name}: schema version ${version} is newer than this dashboard knows (${known}); upgrade the dashboard or use another file`,
    );
  }
  if (version === 0 && hasTables(db)) {
    throw new DatabaseError(
      `dashboard database ${db.name}: is an SQLite database of something else (it has tables but no dashboard schema version)`,
    );
  }
}

/**
 * Applies the migrations above the database's user_version in order, each in its own transaction together with
 * its user_version, so a failed step leaves the database at the previous version with its rows.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i + 1} has version ${m.version}: versions must be 1, 2, 3…`);
  });
  assertUsable(db, migrations.length);
  for (const m of migrations.slice(userVersion(db))) {
    db.transaction(() => {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

/** Opens (creating it and its folder if needed) the dashboard database at `file`, migrated to the current schema. */
export function openDatabase(file: string): Database.Database {
  let header: Buffer | null;
  try {
    header = readHeader(file);
  } catch (err) {
    throw new DatabaseError(`dashboard database ${file}: cannot be read: ${firstLine(err)}`);
  }
  if (header !== null && !header.equals(SQLITE_HEADER)) {
    throw new DatabaseError(`dashboard database ${file}: is not an SQLite database (unexpected file header)`);
  }
  mkdirSync(path.dirname(file), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (err) {
    throw new DatabaseError(`dashboard database ${file}: cannot be opened: ${firstLine(err)}`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    // Refuse before switching to WAL: that switch rewrites the header of a file we must leave untouched.
    assertUsable(db, MIGRATIONS.length);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, MIGRATIONS);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof DatabaseError) throw err;
    throw new DatabaseError(`dashboard database ${file}: ${firstLine(err)}`);
  }
}
