// A fresh SQLite database file in its own temporary folder for every test of a file, closed and removed after each.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';
import { openDatabase } from '@/lib/db/database';

export interface TempDatabase {
  /** The open connection of the current test (a new one after `reopen`). */
  readonly db: Database.Database;
  /** The database file, for a second connection or a look at its bytes. */
  readonly file: string;
  /** Closes the connection (unless already closed) and opens the same file again. */
  reopen(): Database.Database;
}

/** Call at the top level of a test file; `prefix` names the temporary folder. Hooks run before the file's own. */
export function tempDatabasePerTest(prefix: string, fileName = 'dashboard.db'): TempDatabase {
  let dir = '';
  let file = '';
  let db: Database.Database | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    file = path.join(dir, fileName);
    db = openDatabase(file);
  });
  afterEach(() => {
    if (db?.open) db.close();
    db = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const current = (): Database.Database => {
    if (!db) throw new Error('tempDatabasePerTest: the database is open only inside a test');
    return db;
  };
  return {
    get db() {
      return current();
    },
    get file() {
      return file;
    },
    reopen() {
      const old = current();
      if (old.open) old.close();
      db = openDatabase(file);
      return db;
    },
  };
}
