import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { describeOnEachEngine } from '@/test/support/store-engines';
import type { TrackedAlert } from './alert-tracker';
import { AlertStore } from './alert-store';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const MIN = 60_000;

/** This file's PostgreSQL server. */
const PG_PORT = 25918;

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

describeOnEachEngine('AlertStore: fired alerts are history that is never rewritten', PG_PORT, (engine) => {
  let store: AlertStore;

  beforeEach(() => {
    store = new AlertStore(engine.db);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const history = async () =>
    (await store.history({ from: 0, to: T0 + 1000 * MIN })).map((a) => ({
      summary: a.summary,
      firingSince: a.firingSince,
      resolvedAt: a.resolvedAt,
    }));

  it('firing an id that is already resolved keeps its history as it was, and says so', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await store.fired('prod', alert())).toBe(true);
    await store.resolved(alert().id, T0 + 5 * MIN, 'etcd-1 is back');
    // The same id again (a clock stepped back to the same millisecond, a second process on the database).
    expect(
      await store.fired('prod', alert({ summary: 'etcd-1 is unreachable again', firingSince: T0 + 9 * MIN })),
    ).toBe(false);
    expect(await history()).toEqual([{ summary: 'etcd-1 is back', firingSince: T0 + MIN, resolvedAt: T0 + 5 * MIN }]);
    expect(await store.open('prod')).toEqual([]);
    expect(log).toHaveBeenCalledWith(
      `alerts: ${alert().id} is already recorded as resolved; its history is kept as it was`,
    );
  });

  it('an open alert fired again keeps when it began; only its summary and member name follow', async () => {
    expect(await store.fired('prod', alert())).toBe(true);
    expect(
      await store.fired(
        'prod',
        alert({ summary: 'etcd-1: connection refused', memberName: 'etcd-1b', firingSince: T0 + 3 * MIN }),
      ),
    ).toBe(true);
    expect(await store.open('prod')).toMatchObject([
      { summary: 'etcd-1: connection refused', memberName: 'etcd-1b', pendingSince: T0, firingSince: T0 + MIN },
    ]);
  });

  it('a second resolution does not move the time an alert ended', async () => {
    await store.fired('prod', alert());
    await store.resolved(alert().id, T0 + 5 * MIN, 'etcd-1 is back');
    await store.resolved(alert().id, T0 + 8 * MIN, 'later');
    expect(await history()).toEqual([{ summary: 'etcd-1 is back', firingSince: T0 + MIN, resolvedAt: T0 + 5 * MIN }]);
  });
});

describeOnEachEngine('AlertStore: reads and pruning', PG_PORT, (engine) => {
  let store: AlertStore;

  beforeEach(() => {
    store = new AlertStore(engine.db);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** An alert of member `m` that became pending at T0 + `at` minutes and fired a minute later. */
  const of = (m: string, at: number, over: Partial<TrackedAlert> = {}) =>
    alert({
      id: `prod:member_down|critical|${m}|:${T0 + at * MIN}`,
      key: `member_down|critical|${m}|`,
      memberId: m,
      memberName: `etcd-${m}`,
      pendingSince: T0 + at * MIN,
      firingSince: T0 + (at + 1) * MIN,
      ...over,
    });

  it('open alerts survive a restart, per cluster, oldest firing first, as they were written', async () => {
    await store.fired('prod', of('m2', 2));
    await store.fired('prod', of('m1', 0));
    await store.fired('prod', of('m3', 4));
    await store.resolved(of('m3', 4).id, T0 + 9 * MIN, 'etcd-m3 is back');
    await store.fired('staging', { ...of('m1', 0), id: 'staging:x' });
    store = new AlertStore(await engine.reopen());

    const open = await store.open('prod');
    expect(open.map((a) => a.id)).toEqual([of('m1', 0).id, of('m2', 2).id]);
    expect(open[0]).toEqual({ ...of('m1', 0), clusterId: 'prod', resolvedAt: null, notified: null });
    expect((await store.open('staging')).map((a) => a.id)).toEqual(['staging:x']);
  });

  it('notified only moves forward; a resolve whose firing notice went out but whose own did not is owed', async () => {
    await store.fired('prod', of('m1', 0));
    await store.fired('prod', of('m2', 1));
    await store.fired('prod', of('m3', 2));
    // m1: firing sent, then resolved and its resolve sent. m2: firing sent, resolved, resolve not sent. m3: nothing sent.
    await store.notified(of('m1', 0).id, 'firing');
    await store.notified(of('m2', 1).id, 'firing');
    await store.resolved(of('m1', 0).id, T0 + 5 * MIN, 'back');
    await store.resolved(of('m2', 1).id, T0 + 6 * MIN, 'back');
    await store.resolved(of('m3', 2).id, T0 + 7 * MIN, 'back');
    await store.notified(of('m1', 0).id, 'resolved');
    // A repeat of the firing notice settling late does not undo the resolve.
    await store.notified(of('m1', 0).id, 'firing');
    store = new AlertStore(await engine.reopen());
    const owed = await store.resolvedUnnotified('prod', T0);
    expect(owed.map((a) => [a.id, a.notified, a.resolvedAt])).toEqual([[of('m2', 1).id, 'firing', T0 + 6 * MIN]]);
    expect(await store.resolvedUnnotified('prod', T0 + 7 * MIN)).toEqual([]);
    expect(await store.resolvedUnnotified('staging', T0)).toEqual([]);
  });

  it('an id already stored for another cluster is left as it was, and fired says so', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await store.fired('prod', alert())).toBe(true);
    expect(await store.fired('staging', alert({ summary: 'other' }))).toBe(false);
    expect(await store.open('prod')).toMatchObject([{ summary: 'etcd-1 is unreachable', clusterId: 'prod' }]);
    expect(await store.open('staging')).toEqual([]);
  });

  it('resolvedSince: resolved at or after the time, newest first, open ones not', async () => {
    await store.fired('prod', of('m1', 0));
    await store.fired('prod', of('m2', 1));
    await store.fired('prod', of('m3', 2));
    await store.fired('prod', of('m4', 3));
    await store.resolved(of('m1', 0).id, T0 + 10 * MIN, 'back');
    await store.resolved(of('m2', 1).id, T0 + 20 * MIN, 'back');
    await store.resolved(of('m3', 2).id, T0 + 30 * MIN, 'back');
    const since = await store.resolvedSince(T0 + 20 * MIN);
    expect(since.map((a) => [a.memberId, a.resolvedAt])).toEqual([
      ['m3', T0 + 30 * MIN],
      ['m2', T0 + 20 * MIN],
    ]);
  });

  it('history: fired in the range or still firing then, newest first, by cluster, at most the limit', async () => {
    await store.fired('prod', of('m1', 0)); // fires T0+1, resolved T0+5: before the range
    await store.resolved(of('m1', 0).id, T0 + 5 * MIN, 'back');
    await store.fired('prod', of('m2', 2)); // fires T0+3, resolved T0+12: overlaps it
    await store.resolved(of('m2', 2).id, T0 + 12 * MIN, 'back');
    await store.fired('prod', of('m3', 14)); // fires T0+15, still open
    await store.fired('prod', of('m4', 30)); // fires T0+31: after it
    await store.fired('staging', { ...of('m5', 14), id: 'staging:m5' });
    const range = { from: T0 + 10 * MIN, to: T0 + 20 * MIN };

    // staging's fired at the same time as m3: after it, by id.
    expect((await store.history(range)).map((a) => a.id)).toEqual([of('m3', 14).id, 'staging:m5', of('m2', 2).id]);
    expect((await store.history({ ...range, clusterId: 'prod' })).map((a) => a.memberId)).toEqual(['m3', 'm2']);
    expect((await store.history({ ...range, clusterId: 'prod', limit: 1 })).map((a) => a.memberId)).toEqual(['m3']);
    expect(await store.history({ ...range, clusterId: 'nowhere' })).toEqual([]);
  });

  it('alerts at the same time come back in id order on both engines, a limit cutting among them by id', async () => {
    // Ids a PostgreSQL collation other than C (the test server's) would order otherwise: upper case, punctuation.
    for (const id of ['prod:b', 'prod:B', 'prod:a-1', 'prod:a1', 'prod:_']) {
      await store.fired('prod', alert({ id, key: id }));
    }
    const ids = ['prod:B', 'prod:_', 'prod:a-1', 'prod:a1', 'prod:b'];
    expect((await store.open('prod')).map((a) => a.id)).toEqual(ids);
    expect((await store.history({ from: 0, to: T0 + 1000 * MIN })).map((a) => a.id)).toEqual(ids);
    // A limit that cuts among them keeps the first by id, whichever rows the database would have cut.
    expect((await store.history({ from: 0, to: T0 + 1000 * MIN, limit: 2 })).map((a) => a.id)).toEqual(ids.slice(0, 2));
    for (const id of ids) await store.resolved(id, T0 + 5 * MIN, 'back');
    expect((await store.resolvedSince(T0)).map((a) => a.id)).toEqual(ids);
  });

  it('prunes resolved alerts older than the time; open ones stay however old', async () => {
    await store.fired('prod', of('m1', 0));
    await store.fired('prod', of('m2', 1));
    await store.fired('prod', of('m3', 2));
    await store.resolved(of('m1', 0).id, T0 + 10 * MIN, 'back');
    await store.resolved(of('m2', 1).id, T0 + 20 * MIN, 'back');
    expect(await store.prune(T0 + 20 * MIN)).toBe(1);
    expect(await store.prune(T0 + 20 * MIN)).toBe(0);
    const left = await store.history({ from: 0, to: T0 + 1000 * MIN });
    expect(left.map((a) => [a.memberId, a.resolvedAt])).toEqual([
      ['m3', null],
      ['m2', T0 + 20 * MIN],
    ]);
  });

  it('refuses a severity the rules do not have', async () => {
    await expect(store.fired('prod', alert({ severity: 'fatal' as TrackedAlert['severity'] }))).rejects.toThrow();
    expect(await store.open('prod')).toEqual([]);
  });
});
