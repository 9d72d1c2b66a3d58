import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseError, migrate, openDatabase } from './database';
import { MIGRATIONS, type Migration } from './migrations';
import { SERIES_CODES } from '@/lib/history/series-codes';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'history-db-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const CURRENT = MIGRATIONS.length;

/** `count` probe samples of one member, one a second, written straight into the tables this file is about. */
function writeSamples(db: Database.Database, count: number): void {
  const member = db
    .prepare<[], { id: number }>(
      `INSERT INTO members (cluster_id, member_id, name) VALUES ('prod', '8e9e05c52164694d', 'etcd-1')
       ON CONFLICT (cluster_id, member_id) DO UPDATE SET name = excluded.name RETURNING id`,
    )
    .get()!;
  const insert = db.prepare('INSERT OR REPLACE INTO samples (series, member, at, value) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(SERIES_CODES.probe_ms, member.id, T0 + i * 1000, i);
  })();
}

const countSamples = (db: Database.Database) => db.prepare('SELECT count(*) FROM samples').pluck().get();

/** Runs `check` on an open database and closes it, whatever `check` does. */
function closingAfter<T>(db: Database.Database, check: (db: Database.Database) => T): T {
  try {
    return check(db);
  } finally {
    db.close();
  }
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`threw a non-Error: ${String(err)}`);
  }
  throw new Error('did not throw');
}

describe('openDatabase', () => {
  it('creates the folder and a migrated database in WAL mode with foreign keys on', () => {
    const file = path.join(dir, 'nested', 'deeper', 'history.db');
    closingAfter(openDatabase(file), (db) => {
      expect(existsSync(file)).toBe(true);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
      expect(db.pragma('user_version', { simple: true })).toBe(CURRENT);
    });
  });

  it('keeps the rows when the file is opened again', () => {
    const file = path.join(dir, 'history.db');
    closingAfter(openDatabase(file), (db) => writeSamples(db, 30));

    closingAfter(openDatabase(file), (again) => {
      expect(countSamples(again)).toBe(30);
      expect(again.pragma('user_version', { simple: true })).toBe(CURRENT);
    });
  });

  it('enforces the member foreign key', () => {
    closingAfter(openDatabase(path.join(dir, 'history.db')), (db) => {
      expect(() => db.prepare('INSERT INTO samples (series, member, at, value) VALUES (1, 999, 0, 1)').run()).toThrow(
        /FOREIGN KEY/,
      );
    });
  });

  it('refuses a database from a newer dashboard and leaves it untouched', () => {
    const file = path.join(dir, 'history.db');
    const db = openDatabase(file);
    writeSamples(db, 5);
    db.pragma(`user_version = ${CURRENT + 1}`);
    db.close();
    const before = readFileSync(file);

    const err = errorOf(() => openDatabase(file));
    expect(err).toBeInstanceOf(DatabaseError);
    expect(err.message).toContain(file);
    expect(err.message).toContain(`schema version ${CURRENT + 1} is newer`);
    expect(err.message).not.toContain('\n');
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a file that is not SQLite and leaves it byte for byte as it was', () => {
    const file = path.join(dir, 'history.db');
    const content = Buffer.from('{"these": "are not the rows you are looking for"}\n'.repeat(200));
    writeFileSync(file, content);

    const err = errorOf(() => openDatabase(file));
    expect(err).toBeInstanceOf(DatabaseError);
    expect(err.message).toBe(`dashboard database ${file}: is not an SQLite database (unexpected file header)`);
    expect(readFileSync(file).equals(content)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('refuses an SQLite database that belongs to something else and leaves it untouched', () => {
    const file = path.join(dir, 'other.db');
    const other = new Database(file);
    other.exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts VALUES (1, 'x');");
    other.close();
    const before = readFileSync(file);

    const err = errorOf(() => openDatabase(file));
    expect(err).toBeInstanceOf(DatabaseError);
    expect(err.message).toContain(file);
    expect(err.message).toContain('something else');
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a path that is a folder', () => {
    const err = errorOf(() => openDatabase(dir));
    expect(err).toBeInstanceOf(DatabaseError);
    expect(err.message).toContain(`dashboard database ${dir}: `);
  });

  it('opens an empty file as a new database', () => {
    const file = path.join(dir, 'empty.db');
    writeFileSync(file, '');
    closingAfter(openDatabase(file), (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(CURRENT);
    });
  });
});

describe("openDatabase: password hashes and token digests are readable by the dashboard's user only", () => {
  const modeOf = (p: string) => (statSync(p).mode & 0o7777).toString(8);

  it('creates its folder 700 and the database 600 (and SQLite its WAL files 600), whatever the umask', () => {
    const data = path.join(dir, 'data');
    const file = path.join(data, 'dashboard.sqlite');
    closingAfter(openDatabase(file), (db) => {
      writeSamples(db, 3);
      expect({
        folder: modeOf(data),
        database: modeOf(file),
        wal: modeOf(`${file}-wal`),
        shm: modeOf(`${file}-shm`),
      }).toEqual({ folder: '700', database: '600', wal: '600', shm: '600' });
    });
  });

  it('tightens a folder and database left 755 and 644 by an earlier version', () => {
    const data = path.join(dir, 'data');
    const file = path.join(data, 'dashboard.sqlite');
    openDatabase(file).close();
    chmodSync(data, 0o755);
    chmodSync(file, 0o644);
    closingAfter(openDatabase(file), () => {
      expect({ folder: modeOf(data), database: modeOf(file) }).toEqual({ folder: '700', database: '600' });
    });
  });

  it('keeps a setgid folder setgid, so files keep taking its group (a Kubernetes fsGroup volume)', () => {
    const data = path.join(dir, 'volume');
    mkdirSync(data);
    chmodSync(data, 0o2775);
    openDatabase(path.join(data, 'dashboard.sqlite')).close();
    expect(modeOf(data)).toBe('2700');
  });

  it('leaves a shared folder such as /tmp (sticky bit) as it is, and still keeps the database 600', () => {
    const shared = path.join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const file = path.join(shared, 'dashboard.sqlite');
    closingAfter(openDatabase(file), () => {
      expect({ folder: modeOf(shared), database: modeOf(file) }).toEqual({ folder: '1777', database: '600' });
    });
  });
});

describe('migrate', () => {
  // A test-only next version: one SQL step and one function step that backfills from existing rows.
  const NEXT: Migration[] = [
    ...MIGRATIONS,
    { version: CURRENT + 1, up: 'ALTER TABLE members ADD COLUMN note TEXT' },
    {
      version: CURRENT + 2,
      up: (db) => {
        db.prepare(
          "UPDATE members SET note = 'seen ' || (SELECT count(*) FROM samples WHERE member = members.id)",
        ).run();
      },
    },
  ];

  it('migrates a database from an earlier version in place, keeping its rows', () => {
    const file = path.join(dir, 'history.db');
    closingAfter(openDatabase(file), (db) => writeSamples(db, 40));

    closingAfter(new Database(file), (db) => {
      migrate(db, NEXT);
      expect(db.pragma('user_version', { simple: true })).toBe(CURRENT + 2);
      expect(countSamples(db)).toBe(40);
      expect(db.prepare('SELECT name, note FROM members').all()).toEqual([{ name: 'etcd-1', note: 'seen 40' }]);
      // Applying again changes nothing.
      migrate(db, NEXT);
      expect(db.pragma('user_version', { simple: true })).toBe(CURRENT + 2);
    });
    // And the dashboard that only knows the current version refuses the migrated file.
    expect(() => openDatabase(file)).toThrow(DatabaseError);
  });

  it('applies each migration in its own transaction: a failing one leaves the previous version and rows', () => {
    const file = path.join(dir, 'history.db');
    closingAfter(openDatabase(file), (db) => writeSamples(db, 10));

    const failing: Migration[] = [
      ...MIGRATIONS,
      { version: CURRENT + 1, up: 'CREATE TABLE extra (x INTEGER); INSERT INTO no_such_table VALUES (1);' },
    ];
    closingAfter(new Database(file), (db) => {
      expect(() => migrate(db, failing)).toThrow(/no_such_table/);
      expect(db.pragma('user_version', { simple: true })).toBe(CURRENT);
      expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'extra'").pluck().get()).toBe(0);
      expect(countSamples(db)).toBe(10);
    });
  });

  it('rejects a migration list whose versions are not 1, 2, 3…', () => {
    closingAfter(new Database(path.join(dir, 'x.db')), (db) => {
      expect(() =>
        migrate(db, [
          { version: 1, up: 'SELECT 1' },
          { version: 3, up: 'SELECT 1' },
        ]),
      ).toThrow(/migration 2 has version 3/);
      expect(db.pragma('user_version', { simple: true })).toBe(0);
    });
  });
});
