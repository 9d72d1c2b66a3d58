// /readyz's verdict over the real services on a temporary database: not ready until every cluster has been polled
// once, not ready when the database takes no writes, and never a path in what it says.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@/lib/config/load-config';
import { openSqliteStore } from '@/lib/db/store';
import { buildDashboard, type Dashboard } from './dashboard';
import { readiness } from './readiness';

let dir: string;
let app: Dashboard;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'readiness-'));
  // Nothing listens on port 1: the first poll ends at once with every member unreachable, which is a poll done.
  const config = loadConfig({ ETCDCTL_ENDPOINTS: 'http://127.0.0.1:1', DATA_DIR: dir });
  app = buildDashboard(config, openSqliteStore(path.join(dir, 'dashboard.sqlite')));
});
afterEach(async () => {
  for (const c of app.collectors.values()) c.stop();
  await app.store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('readiness', () => {
  it('waits for the first poll of every cluster, then is ready, saying what it checked', async () => {
    const before = await readiness(app);
    expect(before.ready).toBe(false);
    expect(before.checks.find((c) => c.name === 'first-poll')).toEqual({
      name: 'first-poll',
      ok: false,
      detail: 'waiting for the first poll of default',
    });
    await app.collectors.get('default')!.pollOnce();
    const after = await readiness(app);
    expect(after.ready, JSON.stringify(after)).toBe(true);
    expect(after.checks.map((c) => c.name)).toEqual([
      'config',
      'database',
      'first-poll',
      'maintenance',
      'leader',
      'shards',
      'event-loop',
      'restore-tests',
    ]);
    expect(after.checks.find((c) => c.name === 'event-loop')?.detail).toMatch(
      /^held up at most \d+ ms in the last 30 s(; \d+ poll\(s\) not shown since start because of it)?$/,
    );
    expect(JSON.stringify(after)).not.toContain(dir);
  });

  it('a database another connection holds locked for writing: not ready, naming the reason without the path', async () => {
    await app.collectors.get('default')!.pollOnce();
    const other = new Database(path.join(dir, 'dashboard.sqlite'), { timeout: 0 });
    app.store.sqlite!.pragma('busy_timeout = 0');
    other.exec('BEGIN IMMEDIATE');
    try {
      const r = await readiness(app);
      expect(r.ready).toBe(false);
      const db = r.checks.find((c) => c.name === 'database');
      expect(db?.ok).toBe(false);
      expect(db?.detail).toMatch(/^the dashboard database does not take writes \(SQLITE_BUSY\)$/);
      expect(JSON.stringify(r)).not.toContain(dir);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });
});
