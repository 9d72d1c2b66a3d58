import { beforeEach, expect, it } from 'vitest';
import { describeOnEachEngine } from '@/test/support/store-engines';
import { EventStore } from './event-store';
import type { ClusterEvent, EventType } from './series';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const S = 1000;

/** This file's PostgreSQL server. */
const PG_PORT = 25916;

function event(at: number, type: EventType = 'member_down', memberId: string | null = 'a1'): ClusterEvent {
  return { at: new Date(at).toISOString(), type, memberId, details: { reason: `at ${at}` } };
}

const all = { clusterId: 'prod', from: T0 - 3600 * S, to: T0 + 3600 * S };

describeOnEachEngine('EventStore', PG_PORT, (engine) => {
  let events: EventStore;

  beforeEach(() => {
    events = new EventStore(engine.db);
  });

  it('returns what was stored, newest first, after the file is reopened', async () => {
    const leader: ClusterEvent = {
      at: new Date(T0 + 5 * S).toISOString(),
      type: 'leader_changed',
      memberId: 'b2',
      details: { from: { id: 'a1', name: 'etcd-1' }, to: { id: 'b2', name: 'etcd-2' }, term: 7 },
    };
    const quorum: ClusterEvent = { at: new Date(T0).toISOString(), type: 'quorum_lost', memberId: null, details: {} };
    await events.insert('prod', quorum);
    await events.insert('prod', leader);
    events = new EventStore(await engine.reopen());

    expect(await events.query(all)).toEqual([leader, quorum]);
  });

  it('keeps events at the same time in the order they were written, newest write first', async () => {
    await events.insert('prod', event(T0, 'member_down', 'a1'));
    await events.insert('prod', event(T0, 'quorum_lost', null));
    expect((await events.query(all)).map((e) => e.type)).toEqual(['quorum_lost', 'member_down']);
  });

  it('only returns the asked cluster, within [from, to]', async () => {
    for (const at of [T0 - S, T0, T0 + S, T0 + 2 * S]) await events.insert('prod', event(at));
    await events.insert('staging', event(T0));
    const got = await events.query({ clusterId: 'prod', from: T0, to: T0 + S });
    expect(got.map((e) => Date.parse(e.at))).toEqual([T0 + S, T0]);
  });

  it('filters by type; an empty type list matches nothing', async () => {
    await events.insert('prod', event(T0, 'member_down'));
    await events.insert('prod', event(T0 + S, 'member_up'));
    await events.insert('prod', event(T0 + 2 * S, 'alarm_raised'));
    expect((await events.query({ ...all, types: ['member_up', 'alarm_raised'] })).map((e) => e.type)).toEqual([
      'alarm_raised',
      'member_up',
    ]);
    expect(await events.query({ ...all, types: [] })).toEqual([]);
  });

  it('returns the newest 500 by default and never more than 5000', async () => {
    await events.insertMany(Array.from({ length: 5100 }, (_, i) => ({ clusterId: 'prod', event: event(T0 + i) })));
    const byDefault = await events.query(all);
    expect(byDefault).toHaveLength(500);
    expect(byDefault[0]?.at).toBe(new Date(T0 + 5099).toISOString());
    expect(await events.query({ ...all, limit: 10 })).toHaveLength(10);
    expect(await events.query({ ...all, limit: 1_000_000 })).toHaveLength(5000);
    expect(await events.query({ ...all, limit: 0 })).toHaveLength(1);
  });

  it('prunes events older than the retention and keeps the rest', async () => {
    await events.insert('prod', event(T0 - 10 * S));
    await events.insert('prod', event(T0));
    await events.insert('staging', event(T0 - 20 * S));
    expect(await events.prune(T0 + 5 * S, 10 * S)).toBe(2);
    expect((await events.query(all)).map((e) => e.at)).toEqual([new Date(T0).toISOString()]);
    expect(await events.query({ ...all, clusterId: 'staging' })).toEqual([]);
  });

  it('counts the events of one type of one cluster within [from, to], without the 500 cap of query', async () => {
    expect(await events.countByType('prod', 'leader_changed', T0, T0 + 10 * S), 'an empty store').toBe(0);
    for (const at of [T0 - S, T0, T0 + 5 * S, T0 + 10 * S, T0 + 11 * S])
      await events.insert('prod', event(at, 'leader_changed'));
    await events.insert('prod', event(T0 + 2 * S, 'member_down'));
    await events.insert('staging', event(T0 + 3 * S, 'leader_changed'));
    expect(await events.countByType('prod', 'leader_changed', T0, T0 + 10 * S), 'both ends inclusive').toBe(3);
    expect(await events.countByType('prod', 'member_down', T0, T0 + 10 * S)).toBe(1);
    expect(await events.countByType('prod', 'member_up', T0, T0 + 10 * S)).toBe(0);
    expect(await events.countByType('staging', 'leader_changed', T0, T0 + 10 * S)).toBe(1);
    expect(await events.countByType('nope', 'leader_changed', T0, T0 + 10 * S)).toBe(0);
    expect(await events.countByType('prod', 'leader_changed', T0 + 10 * S, T0)).toBe(0);
    expect(await events.countByType('prod', 'leader_changed', T0, T0 + 10 * S)).toBe(
      (await events.query({ clusterId: 'prod', from: T0, to: T0 + 10 * S, types: ['leader_changed'] })).length,
    );

    await events.insertMany(
      Array.from({ length: 600 }, (_, i) => ({ clusterId: 'prod', event: event(T0 + 20 * S + i, 'leader_changed') })),
    );
    expect(await events.countByType('prod', 'leader_changed', T0 + 20 * S, T0 + 30 * S)).toBe(600);
  });

  it('writes a batch in its order, and nothing of a batch with an event whose time is not a time', async () => {
    const batch = [event(T0, 'member_down', 'a1'), event(T0, 'member_up', 'a1'), event(T0, 'quorum_lost', null)];
    await expect(
      events.insertMany([
        ...batch.map((e) => ({ clusterId: 'prod', event: e })),
        { clusterId: 'prod', event: { ...event(T0), at: 'x' } },
      ]),
    ).rejects.toThrow(RangeError);
    expect(await events.query(all)).toEqual([]);
    await events.insertMany(batch.map((e) => ({ clusterId: 'prod', event: e })));
    expect((await events.query(all)).map((e) => e.type)).toEqual(['quorum_lost', 'member_up', 'member_down']);
  });

  it('refuses an event whose time is not a time', async () => {
    await expect(events.insert('prod', { ...event(T0), at: 'soon' })).rejects.toThrow(/"soon" is not an ISO time/);
    expect(await events.query(all)).toEqual([]);
  });
});
