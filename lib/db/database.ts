// Opens the dashboard database file and brings its schema up to date, refusing files it cannot safely use.
import 'server-only';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
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

/** It holds password hashes and token digests: only the dashboard's own user may read the file or list its folder. */
const PRIVATE_FOLDER_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;
const STICKY_BIT = 0o1000;
/** Kept: new files then take the folder's group, as a shared volume (a Kubernetes fsGroup) expects. */
const SETGID_BIT = 0o2000;

/** Creates the folder 700 or tightens it to 700; a shared one such as /tmp (sticky) is left as it is. */
function keepFolderPrivate(folder: string): void {
  mkdirSync(folder, { recursive: true, mode: PRIVATE_FOLDER_MODE });
  const mode = statSync(folder).mode;
  if ((mode & STICKY_BIT) !== 0 || (mode & 0o777) === PRIVATE_FOLDER_MODE) return;
  try {
    chmodSync(folder, (mode & SETGID_BIT) | PRIVATE_FOLDER_MODE);
  } catch (err) {
    // A volume owned by another user (a Kubernetes fsGroup) still works; say so rather than refuse to start.
    console.warn(`etcd-dashboard: cannot make ${folder} private (700): ${firstLine(err)}`);
  }
}

/** The database file and SQLite's WAL files beside it, 600 (SQLite gives new WAL files the database's mode). */
function keepFilesPrivate(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (
      !existsSync(/*turbopackIgnore: true*/ f) ||
      (statSync(/*turbopackIgnore: true*/ f).mode & 0o777) === PRIVATE_FILE_MODE
    )
      continue;
    try {
      chmodSync(f, PRIVATE_FILE_MODE);
    } catch (err) {
      console.warn(`etcd-dashboard: cannot make ${f} private (600): ${firstLine(err)}`);
    }
  }
}

/**
 * Opens (creating it and its folder if needed) the dashboard database at `file`, migrated to the current schema;
 * the folder is kept 700 and the file 600.
 */
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
  let db: Database.Database;
  try {
    keepFolderPrivate(path.dirname(file));
    // Created 600 before SQLite creates it with the umask's mode (644).
    if (header === null) closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
    db = new Database(file);
  } catch (err) {
    throw new DatabaseError(`dashboard database ${file}: cannot be opened: ${firstLine(err)}`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    // Refuse before switching to WAL: that switch rewrites the header of a file we must leave untouched.
    assertUsable(db, MIGRATIONS.length);
    // Only once it is known to be ours: a refused file is left as it was, mode included.
    keepFilesPrivate(file);
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
