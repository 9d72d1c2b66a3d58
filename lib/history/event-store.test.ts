import { beforeEach, describe, expect, it } from 'vitest';
import { tempDatabasePerTest } from '@/test/support/temp-database';
import { EventStore } from './event-store';
import type { ClusterEvent, EventType } from './series';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const S = 1000;

const temp = tempDatabasePerTest('event-store-', 'history.db');
let events: EventStore;

beforeEach(() => {
  events = new EventStore(temp.db);
});

function event(at: number, type: EventType = 'member_down', memberId: string | null = 'a1'): ClusterEvent {
  return { at: new Date(at).toISOString(), type, memberId, details: { reason: `at ${at}` } };
}

const all = { clusterId: 'prod', from: T0 - 3600 * S, to: T0 + 3600 * S };

describe('EventStore', () => {
  it('returns what was stored, newest first, after the file is reopened', () => {
    const leader: ClusterEvent = {
      at: new Date(T0 + 5 * S).toISOString(),
      type: 'leader_changed',
      memberId: 'b2',
      details: { from: { id: 'a1', name: 'etcd-1' }, to: { id: 'b2', name: 'etcd-2' }, term: 7 },
    };
    const quorum: ClusterEvent = { at: new Date(T0).toISOString(), type: 'quorum_lost', memberId: null, details: {} };
    events.insert('prod', quorum);
    events.insert('prod', leader);
    events = new EventStore(temp.reopen());

    expect(events.query(all)).toEqual([leader, quorum]);
  });

  it('keeps events at the same time in the order they were written, newest write first', () => {
    events.insert('prod', event(T0, 'member_down', 'a1'));
    events.insert('prod', event(T0, 'quorum_lost', null));
    expect(events.query(all).map((e) => e.type)).toEqual(['quorum_lost', 'member_down']);
  });

  it('only returns the asked cluster, within [from, to]', () => {
    for (const at of [T0 - S, T0, T0 + S, T0 + 2 * S]) events.insert('prod', event(at));
    events.insert('staging', event(T0));
    const got = events.query({ clusterId: 'prod', from: T0, to: T0 + S });
    expect(got.map((e) => Date.parse(e.at))).toEqual([T0 + S, T0]);
  });

  it('filters by type; an empty type list matches nothing', () => {
    events.insert('prod', event(T0, 'member_down'));
    events.insert('prod', event(T0 + S, 'member_up'));
    events.insert('prod', event(T0 + 2 * S, 'alarm_raised'));
    expect(events.query({ ...all, types: ['member_up', 'alarm_raised'] }).map((e) => e.type)).toEqual([
      'alarm_raised',
      'member_up',
    ]);
    expect(events.query({ ...all, types: [] })).toEqual([]);
  });

  it('returns the newest 500 by default and never more than 5000', () => {
    const insertMany = temp.db.transaction((n: number) => {
      for (let i = 0; i < n; i++) events.insert('prod', event(T0 + i));
    });
    insertMany(5100);
    const byDefault = events.query(all);
    expect(byDefault).toHaveLength(500);
    expect(byDefault[0]?.at).toBe(new Date(T0 + 5099).toISOString());
    expect(events.query({ ...all, limit: 10 })).toHaveLength(10);
    expect(events.query({ ...all, limit: 1_000_000 })).toHaveLength(5000);
    expect(events.query({ ...all, limit: 0 })).toHaveLength(1);
  });

  it('prunes events older than the retention and keeps the rest', () => {
    events.insert('prod', event(T0 - 10 * S));
    events.insert('prod', event(T0));
    events.insert('staging', event(T0 - 20 * S));
    expect(events.prune(T0 + 5 * S, 10 * S)).toBe(2);
    expect(events.query(all).map((e) => e.at)).toEqual([new Date(T0).toISOString()]);
    expect(events.query({ ...all, clusterId: 'staging' })).toEqual([]);
  });

  it('counts the events of one type of one cluster within [from, to], without the 500 cap of query', () => {
    expect(events.countByType('prod', 'leader_changed', T0, T0 + 10 * S), 'an empty store').toBe(0);
    for (const at of [T0 - S, T0, T0 + 5 * S, T0 + 10 * S, T0 + 11 * S])
      events.insert('prod', event(at, 'leader_changed'));
    events.insert('prod', event(T0 + 2 * S, 'member_down'));
    events.insert('staging', event(T0 + 3 * S, 'leader_changed'));
    expect(events.countByType('prod', 'leader_changed', T0, T0 + 10 * S), 'both ends inclusive').toBe(3);
    expect(events.countByType('prod', 'member_down', T0, T0 + 10 * S)).toBe(1);
    expect(events.countByType('prod', 'member_up', T0, T0 + 10 * S)).toBe(0);
    expect(events.countByType('staging', 'leader_changed', T0, T0 + 10 * S)).toBe(1);
    expect(events.countByType('nope', 'leader_changed', T0, T0 + 10 * S)).toBe(0);
    expect(events.countByType('prod', 'leader_changed', T0 + 10 * S, T0)).toBe(0);
    expect(events.countByType('prod', 'leader_changed', T0, T0 + 10 * S)).toBe(
      events.query({ clusterId: 'prod', from: T0, to: T0 + 10 * S, types: ['leader_changed'] }).length,
    );

    const insertMany = temp.db.transaction((n: number) => {
      for (let i = 0; i < n; i++) events.insert('prod', event(T0 + 20 * S + i, 'leader_changed'));
    });
    insertMany(600);
    expect(events.countByType('prod', 'leader_changed', T0 + 20 * S, T0 + 30 * S)).toBe(600);
  });

  it('refuses an event whose time is not a time', () => {
    expect(() => events.insert('prod', { ...event(T0), at: 'soon' })).toThrow(/"soon" is not an ISO time/);
    expect(events.query(all)).toEqual([]);
  });
});
