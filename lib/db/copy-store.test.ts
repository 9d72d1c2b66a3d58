// Moving up, against a real PostgreSQL 15: a dashboard's SQLite file with rows in every table arrives row for row, the
// file is left byte for byte as it was, and a target that holds other rows, a copy that differs, or a table the copy
// list forgot are each refused with one line naming the table.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { AlertStore } from '@/lib/alerts/alert-store';
import { AuditLog } from '@/lib/auth/audit-log';
import { hashPassword } from '@/lib/auth/password';
import { SessionStore } from '@/lib/auth/session-store';
import { TokenStore } from '@/lib/auth/token-store';
import { UserStore } from '@/lib/auth/user-store';
import { EventStore } from '@/lib/history/event-store';
import { SampleStore } from '@/lib/history/sample-store';
import { MaintenanceStore } from '@/lib/maintenance/maintenance-store';
import { postgresTestParent, startPostgres, type PostgresServer } from '@/scripts/lib/postgres';
import { COPIED_TABLES, CopyError, copyToPostgres, NOT_COPIED, verifyCopy } from './copy-store';
import { migrate, openDatabase } from './database';
import { MIGRATIONS } from './migrations';
import { openPostgres } from './postgres';
import type { StoreSchema } from './schema';
import { sqliteStore } from './sqlite-store';

const PG_PORT = 25924;
const ROOT = path.resolve(__dirname, '..', '..');
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

let server: PostgresServer;
let databases = 0;
let dir = '';
let file = '';
let hash = '';

beforeAll(async () => {
  hash = await hashPassword('a long enough password');
  server = await startPostgres({ parent: postgresTestParent(), port: PG_PORT });
}, 120_000);
afterAll(async () => {
  await server?.destroy();
});
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'copy-store-'));
  file = path.join(dir, 'dashboard.sqlite');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A new, empty database on the test server; its URL carries the password. */
async function emptyDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url });
  admin.on('error', () => undefined);
  await admin.connect();
  const name = `copy_${++databases}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return server.url.replace(/\/postgres$/, `/${name}`);
}

const password = () => new URL(server.url).password;
const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** A dashboard database written through its own stores, with rows in every table, closed as the dashboard closes it. */
async function dashboardFile(): Promise<void> {
  const conn = openDatabase(file);
  const db = sqliteStore(conn);
  const audit = new AuditLog(db);
  for (let i = 0; i < 25; i++) {
    audit.append({
      at: NOW + i,
      actor: i % 2 ? 'alice' : 'ci-token',
      role: i % 3 ? 'operator' : null,
      method: i % 2 ? 'session' : 'token',
      source: i % 4 ? '10.0.0.7' : null,
      action: i % 5 ? 'snapshot.create' : 'session.sign_in',
      clusterId: i % 2 ? 'prod-eu' : null,
      outcome: i % 7 ? 'success' : 'denied',
      details: { i, note: 'naïve ✓ "quoted"', nested: { n: i / 3 } },
    });
  }
  await audit.flush();
  const users = new UserStore(db);
  for (const username of ['alice', 'Bob', 'carol@example.com', 'z.z']) {
    await users.upsert({ username, passwordHash: hash, role: 'operator', source: 'config' }, NOW);
  }
  const sessions = new SessionStore(db);
  for (let i = 0; i < 5; i++) {
    await sessions.create(
      { username: 'alice', role: 'admin' },
      { ttlMs: 3_600_000, source: i ? '::1' : null },
      NOW + i,
    );
  }
  const tokens = new TokenStore(db);
  await tokens.create({ name: 'ci', role: 'viewer', expiresAt: null, createdBy: 'alice' }, NOW);
  await tokens.create({ name: 'backup ✓', role: 'operator', expiresAt: NOW + 86_400_000, createdBy: 'alice' }, NOW);
  const samples = new SampleStore(db);
  const rows = [];
  for (let i = 0; i < 40; i++) {
    for (const member of ['8e9e05c52164694d', 'fd422379fda50e48']) {
      rows.push({
        clusterId: 'prod-eu',
        memberId: member,
        memberName: `etcd-${member.slice(0, 2)}`,
        series: i % 2 ? ('db_size_bytes' as const) : ('probe_ms' as const),
        at: NOW + i * 1000,
        value: i % 2 ? 2 ** 40 + i : 0.1 + i / 7,
      });
    }
  }
  await samples.insert(rows);
  await db
    .insertInto('rollups_1m')
    .values(
      Array.from({ length: 9 }, (_, i) => ({
        series: 1,
        member: 1 + (i % 2),
        minute: NOW + i * 60_000,
        min: -1.5,
        max: 1e300,
        sum: 1 / 3,
        n: 2 ** 53 - 1 - i,
      })),
    )
    .execute();
  await db
    .insertInto('meta')
    .values([
      { key: 'rollup_watermark', value: NOW },
      { key: 'Zeta', value: -1 },
    ])
    .execute();
  const events = new EventStore(db);
  for (let i = 0; i < 6; i++) {
    await events.insert('prod-eu', {
      at: new Date(NOW + i).toISOString(),
      type: i % 2 ? 'member_down' : 'leader_changed',
      memberId: i % 2 ? '8e9e05c52164694d' : null,
      details: { from: 'a', to: 'b', i },
    });
  }
  const alerts = new AlertStore(db);
  for (const id of ['prod-eu/no_leader/1', 'Prod-eu/A', 'prod-eu/é', 'prod-eu/member_down/2']) {
    await alerts.fired('prod-eu', {
      id,
      key: `key-${id}`,
      rule: 'no_leader',
      severity: 'critical',
      memberId: null,
      memberName: id.includes('member') ? 'etcd-1' : null,
      summary: `no leader (${id})`,
      state: 'firing',
      pendingSince: NOW,
      firingSince: NOW + 5000,
    });
  }
  await alerts.resolved('prod-eu/no_leader/1', NOW + 60_000, 'a leader again');
  const maintenance = new MaintenanceStore(db);
  await maintenance.insert({
    id: 'run-1',
    clusterId: 'prod-eu',
    action: 'defragment',
    by: 'alice',
    trigger: 'manual',
    startedAt: NOW,
    steps: [],
  });
  await maintenance.requestCancel('run-1');
  await maintenance.insert({
    id: 'run-2',
    clusterId: 'prod-eu',
    action: 'compact',
    by: 'schedule',
    trigger: 'schedule',
    startedAt: NOW + 1,
    steps: [],
  });
  await db
    .insertInto('consistency_checks')
    .values([
      {
        cluster_id: 'prod-eu',
        checked_at: NOW,
        revision: 2 ** 53 - 1,
        agree: 1,
        suspect: null,
        note: null,
        members: '[]',
      },
      {
        cluster_id: 'prod-eu',
        checked_at: NOW + 1,
        revision: null,
        agree: null,
        suspect: 'x',
        note: 'n',
        members: '{}',
      },
    ])
    .execute();
  await db
    .insertInto('snapshots')
    .values([
      {
        id: 'snap-1',
        cluster_id: 'prod-eu',
        status: 'succeeded',
        started_at: NOW,
        finished_at: NOW + 1500,
        member_id: '8e9e05c52164694d',
        member_name: 'etcd-8e',
        trigger: 'schedule',
        triggered_by: 'schedule',
        file_name: 'prod-eu-1.db',
        size_bytes: 2 ** 33,
        revision: 123_456,
        total_keys: 1042,
        hash: 2 ** 32 - 1,
        sha256: 'a'.repeat(64),
        verified: 1,
        missing: 0,
        locations: '[{"kind":"file"}]',
        keyspace: '[]',
        restore_test: '{"state":"passed"}',
      },
      {
        id: 'snap-2',
        cluster_id: 'prod-eu',
        status: 'failed',
        started_at: NOW + 1,
        trigger: 'manual',
        triggered_by: 'alice',
        file_name: 'prod-eu-2.db',
        verified: 0,
        missing: 0,
        locations: '[]',
        error: 'no healthy member',
      },
    ])
    .execute();
  await db.insertInto('login_failures').values({ key: 'user:alice', window_start: NOW, failures: 3 }).execute();
  await db
    .insertInto('leases')
    .values({ name: 'leader', holder: 'host-1-abc', generation: 4, expires_at: NOW })
    .execute();
  await db.destroy();
}

/** Every row of every copied table, read through Kysely in key order. */
async function everyRow(db: Kysely<StoreSchema>): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of COPIED_TABLES) {
    const rows = await db.selectFrom(table).selectAll().execute();
    // Both engines, one order: by the whole row as JSON (keys are unique, so rows are too).
    out[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

function sqliteTables(f: string): string[] {
  const conn = new Database(f, { readonly: true });
  try {
    return (
      conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{
        name: string;
      }>
    ).map((r) => r.name);
  } finally {
    conn.close();
  }
}

describe('copyToPostgres', () => {
  it('copies every row of every table, keeps audit ids, and leaves the file byte for byte as it was', async () => {
    await dashboardFile();
    const before = sha256(file);
    const url = await emptyDatabase();
    const progress: string[] = [];
    // Small pages: every table with more than a few rows is read and checked across several.
    const result = await copyToPostgres({
      from: file,
      to: url,
      batchRows: 7,
      onProgress: (p) => progress.push(`${p.phase} ${p.table} ${p.rows}/${p.total}`),
    });
    expect(result.alreadyThere).toBe(false);
    expect(result.tables.map((t) => t.table)).toEqual([...COPIED_TABLES]);
    // Rows in every table: a table left empty here would be a table this test does not prove is copied.
    for (const t of result.tables) expect(t.rows, t.table).toBeGreaterThan(0);
    expect(result.tables.find((t) => t.table === 'samples')?.rows).toBe(80);
    expect(progress).toContain('copy samples 80/80');
    expect(progress).toContain('verify samples 80/80');

    expect(sha256(file)).toBe(before);
    expect(readdirSync(dir)).toEqual(['dashboard.sqlite']);

    const source = sqliteStore(openDatabase(file));
    const target = await openPostgres(url, { maxConnections: 2 });
    try {
      expect(await everyRow(target.db)).toEqual(await everyRow(source));
      // Read back through the dashboard's own stores: the same answers on both engines.
      const [oldAudit, newAudit] = [new AuditLog(source), new AuditLog(target.db)];
      const copied = await newAudit.query({ limit: 1000 });
      expect(copied).toHaveLength(25);
      expect(copied).toEqual(await oldAudit.query({ limit: 1000 }));
      expect(await new UserStore(target.db).list()).toEqual(await new UserStore(source).list());
      expect(await new TokenStore(target.db).list(NOW)).toEqual(await new TokenStore(source).list(NOW));
      expect(await new MaintenanceStore(target.db).list('prod-eu')).toEqual(
        await new MaintenanceStore(source).list('prod-eu'),
      );
      expect(await new AlertStore(target.db).open('prod-eu')).toEqual(await new AlertStore(source).open('prod-eu'));
      const q = { clusterId: 'prod-eu', from: NOW - 1000, to: NOW + 60_000, limit: 100 };
      expect(await new EventStore(target.db).query(q)).toEqual(await new EventStore(source).query(q));
      // The sequences were moved past the copied ids: the next entry and member follow them.
      newAudit.append({
        at: NOW + 100,
        actor: 'alice',
        role: 'admin',
        method: 'session',
        source: null,
        action: 'after.copy',
        outcome: 'success',
      });
      const [latest] = await newAudit.query({ action: 'after.copy' });
      expect(latest?.id).toBe(Math.max(...copied.map((e) => e.id)) + 1);
      await new SampleStore(target.db).insert([
        { clusterId: 'prod-eu', memberId: 'new', memberName: 'etcd-3', series: 'probe_ms', at: NOW, value: 1 },
      ]);
      const member = await target.db
        .selectFrom('members')
        .select('id')
        .where('member_id', '=', 'new')
        .executeTakeFirst();
      expect(member?.id).toBe(3);
    } finally {
      await source.destroy();
      await target.close();
    }
  });

  it('checks a second run against what is there and writes nothing; a changed row is named by table, key and column', async () => {
    await dashboardFile();
    const url = await emptyDatabase();
    await copyToPostgres({ from: file, to: url });
    const again = await copyToPostgres({ from: file, to: url, batchRows: 4 });
    expect(again.alreadyThere).toBe(true);
    expect(await verifyCopy({ from: file, to: url, batchRows: 3 })).toBeNull();

    const target = await openPostgres(url, { maxConnections: 1 });
    try {
      await target.db.updateTable('alerts').set({ summary: 'tampered' }).where('id', '=', 'prod-eu/é').execute();
    } finally {
      await target.close();
    }
    expect(await verifyCopy({ from: file, to: url, batchRows: 3 })).toEqual({
      table: 'alerts',
      key: 'id="prod-eu/é"',
      column: 'summary',
      detail: 'the file has "no leader (prod-eu/é)", PostgreSQL has "tampered"',
    });
    const err = await copyToPostgres({ from: file, to: url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CopyError);
    expect((err as Error).message).toMatch(
      /is not empty \(users has 4 rows, .*\) and differs from .* \(table alerts, row id="prod-eu\/é", column summary: .*\): copy into an empty database$/,
    );
    expect((err as Error).message).not.toContain(password());
  });

  it('refuses a target that holds other rows, naming the table and its count, and leaves it as it was', async () => {
    await dashboardFile();
    const url = await emptyDatabase();
    const target = await openPostgres(url, { maxConnections: 1 });
    try {
      await new UserStore(target.db).upsert(
        { username: 'someone', passwordHash: hash, role: 'viewer', source: 'env' },
        NOW,
      );
      const err = await copyToPostgres({ from: file, to: url }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CopyError);
      expect((err as Error).message).toMatch(/is not empty \(users has 1 rows\) and differs from .*table users/);
      expect(await target.db.selectFrom('audit_log').select('id').execute()).toEqual([]);
    } finally {
      await target.close();
    }
  });

  it('rolls back a copy PostgreSQL refuses, naming the table, the row and the column', async () => {
    await dashboardFile();
    const conn = new Database(file);
    // A value PostgreSQL's column cannot hold, as an old or hand-edited file might have.
    conn.prepare("UPDATE meta SET value = 'soon' WHERE key = 'Zeta'").run();
    conn.close();
    const url = await emptyDatabase();
    const err = await copyToPostgres({ from: file, to: url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CopyError);
    expect((err as Error).message).toMatch(/^table meta, row key="Zeta".*PostgreSQL refused it: .*bigint.*"soon"/);
    const target = await openPostgres(url, { maxConnections: 1 });
    try {
      // One transaction: the tables copied before meta are empty again.
      expect(await target.db.selectFrom('users').select('username').execute()).toEqual([]);
    } finally {
      await target.close();
    }
  });

  it('refuses what is not a dashboard database at this version, without writing to it', async () => {
    const url = await emptyDatabase();
    writeFileSync(file, 'not a database at all, just some text that is long enough');
    await expect(copyToPostgres({ from: file, to: url })).rejects.toThrow(/is not an SQLite database/);
    expect(readFileSync(file, 'utf8')).toMatch(/^not a database/);

    rmSync(file);
    const older = new Database(file);
    migrate(older, MIGRATIONS.slice(0, MIGRATIONS.length - 1));
    older.close();
    const before = sha256(file);
    await expect(copyToPostgres({ from: file, to: url })).rejects.toThrow(
      new CopyError(
        `${file}: schema version ${MIGRATIONS.length - 1}, this command copies version ${MIGRATIONS.length}: start this dashboard once on the file to migrate it, stop it, and run again`,
      ),
    );
    expect(sha256(file)).toBe(before);

    // A dashboard still running on it: its WAL is beside it.
    rmSync(file);
    const running = openDatabase(file);
    running.prepare("INSERT INTO meta (key, value) VALUES ('x', 1)").run();
    try {
      await expect(copyToPostgres({ from: file, to: url })).rejects.toThrow(
        /-wal exists: a dashboard still has the file open/,
      );
    } finally {
      running.close();
    }
  });

  it('leaves the leases behind: who leads is settled anew on PostgreSQL', async () => {
    await dashboardFile();
    const url = await emptyDatabase();
    await copyToPostgres({ from: file, to: url });
    const target = await openPostgres(url, { maxConnections: 1 });
    try {
      expect(await target.db.selectFrom('leases').selectAll().execute()).toEqual([]);
      expect(await target.db.selectFrom('snapshots').select('id').orderBy('id').execute()).toEqual([
        { id: 'snap-1' },
        { id: 'snap-2' },
      ]);
    } finally {
      await target.close();
    }
  });
});

describe('the copy list', () => {
  it('names every table of the SQLite schema, and every table of the store', () => {
    openDatabase(file).close();
    const listed = new Set<string>([...COPIED_TABLES, ...Object.keys(NOT_COPIED)]);
    expect(sqliteTables(file).filter((t) => !listed.has(t))).toEqual([]);
    // And at compile time: a table added to StoreSchema and not to COPIED_TABLES (or left behind) fails the type check.
    expectTypeOf<
      Exclude<keyof StoreSchema, (typeof COPIED_TABLES)[number] | 'leases' | 'cluster_views'>
    >().toEqualTypeOf<never>();
  });

  it('puts every table after the tables it references', () => {
    const conn = openDatabase(file);
    try {
      for (const [i, table] of COPIED_TABLES.entries()) {
        const refs = conn.prepare('SELECT "table" FROM pragma_foreign_key_list(?)').all(table) as Array<{
          table: string;
        }>;
        for (const { table: ref } of refs)
          expect(COPIED_TABLES.indexOf(ref as never), `${table} → ${ref}`).toBeLessThan(i);
      }
    } finally {
      conn.close();
    }
  });

  it('refuses a file with a table that is not in the list, naming it', async () => {
    const conn = openDatabase(file);
    conn.exec('CREATE TABLE login_limits (key TEXT PRIMARY KEY, n INTEGER)');
    conn.close();
    await expect(copyToPostgres({ from: file, to: await emptyDatabase() })).rejects.toThrow(
      `${file}: table login_limits is not in the copy list (lib/db/copy-store.ts COPIED_TABLES): this command would leave it behind`,
    );
  });
});

/** The command as an SRE runs it: its exit code, and everything it printed. */
function runCommand(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      path.join(ROOT, 'node_modules', '.bin', 'tsx'),
      ['--conditions=react-server', 'scripts/copy-to-postgres.ts', ...args],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out: out + err, err }));
  });
}

describe('npm run db:copy-to-postgres', () => {
  it('exits 0 with a summary and a final line when every row is verified, never printing the password', async () => {
    await dashboardFile();
    const url = await emptyDatabase();
    const copied = await runCommand(['--from', file], { DATABASE_URL: url });
    const lines = copied.out.trim().split('\n');
    expect(copied.code, copied.out).toBe(0);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}samples +80 rows copied, verified$/));
    expect(lines.at(-1)).toBe(
      `copied and verified: ${COPIED_TABLES.length} tables, ${copied.out.match(/(\d+) rows from/)?.[1]} rows from ${file} into ${url.replace(password(), '***')}`,
    );
    expect(copied.out).not.toContain(password());

    const again = await runCommand(['--from', file, '--to', url]);
    expect(again.code, again.out).toBe(0);
    expect(again.out.trim().split('\n').at(-1)).toMatch(/^verified: .* already holds every row of .*; nothing copied$/);

    const wrong = await runCommand(['--from', file, '--to', url.replace(password(), `${password()}-wrong`)]);
    expect(wrong.code).toBe(1);
    // One line on stderr: no stack trace.
    expect(wrong.err.trim().split('\n')).toEqual([
      expect.stringMatching(/^copy-to-postgres: .*\*\*\*@127\.0\.0\.1.*password authentication failed/),
    ]);
    expect(wrong.out).not.toContain(password());
  }, 60_000);
});
