import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '@/lib/db/database';
import type { TrackedAlert } from './alert-tracker';
import { AlertStore } from './alert-store';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const MIN = 60_000;

let dir: string;
let db: Database.Database;
let store: AlertStore;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'alert-store-'));
  db = openDatabase(path.join(dir, 'dashboard.sqlite'));
  store = new AlertStore(db);
});
afterEach(() => {
  vi.restoreAllMocks();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const alert = (over: Partial<TrackedAlert> = {}): TrackedAlert => ({
  id: `prod:member_down|critical|m1|:${T0}`,
  key: 'member_down|critical|m1|',
  rule: 'member_down',
  severity: 'critical',
  memberId: 'm1',
  memberName: 'etcd-1',
  summary: 'etcd-1 is unreachable',
  state: 'firing',
  pendingSince: T0,
  firingSince: T0 + MIN,
  ...over,
});

const history = () =>
  store
    .history({ from: 0, to: T0 + 1000 * MIN })
    .map((a) => ({ summary: a.summary, firingSince: a.firingSince, resolvedAt: a.resolvedAt }));

describe('AlertStore: fired alerts are history that is never rewritten', () => {
  it('firing an id that is already resolved keeps its history as it was, and says so', () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(store.fired('prod', alert())).toBe(true);
    store.resolved(alert().id, T0 + 5 * MIN, 'etcd-1 is back');
    // The same id again (a clock stepped back to the same millisecond, a second process on the database).
    expect(store.fired('prod', alert({ summary: 'etcd-1 is unreachable again', firingSince: T0 + 9 * MIN }))).toBe(
      false,
    );
    expect(history()).toEqual([{ summary: 'etcd-1 is back', firingSince: T0 + MIN, resolvedAt: T0 + 5 * MIN }]);
    expect(store.open('prod')).toEqual([]);
    expect(log).toHaveBeenCalledWith(
      `alerts: ${alert().id} is already recorded as resolved; its history is kept as it was`,
    );
  });

  it('an open alert fired again keeps when it began; only its summary and member name follow', () => {
    store.fired('prod', alert());
    store.fired(
      'prod',
      alert({ summary: 'etcd-1: connection refused', memberName: 'etcd-1b', firingSince: T0 + 3 * MIN }),
    );
    expect(store.open('prod')).toMatchObject([
      { summary: 'etcd-1: connection refused', memberName: 'etcd-1b', pendingSince: T0, firingSince: T0 + MIN },
    ]);
  });

  it('a second resolution does not move the time an alert ended', () => {
    store.fired('prod', alert());
    store.resolved(alert().id, T0 + 5 * MIN, 'etcd-1 is back');
    store.resolved(alert().id, T0 + 8 * MIN, 'later');
    expect(history()).toEqual([{ summary: 'etcd-1 is back', firingSince: T0 + MIN, resolvedAt: T0 + 5 * MIN }]);
  });
});
