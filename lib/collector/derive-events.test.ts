import { describe, expect, it } from 'vitest';
import type { ClusterEvent, EventType } from '@/lib/history/series';
import type { AlarmView, MemberHealth, MemberView, Observation, Quorum } from '@/lib/cluster/status-types';
import { deriveEvents, type DeriveInput, type EventState } from './derive-events';

// Three members on loopback, as scripts/local-cluster.ts runs them; ids as etcdctl prints them.
const IDS = ['8211f1d0f64f3269', '91bc3c398fb3c146', 'fd422379fda50e48'] as const;
const NAMES = ['etcd-0', 'etcd-1', 'etcd-2'] as const;
const NEW_ID = 'ef37ad9dc622a7c4';

type Index = 0 | 1 | 2;

const REFUSED = 'connect ECONNREFUSED 127.0.0.1:22379';

/** A distinct observation time per poll, one second apart. */
const at = (n: number) => `2025-03-01T12:00:${String(n).padStart(2, '0')}.000Z`;

const QUORUM = {
  healthy: { members: 3, voting: 3, healthy: 3, required: 2, tolerance: 1, state: 'healthy' },
  atRisk: { members: 3, voting: 3, healthy: 2, required: 2, tolerance: 0, state: 'at-risk' },
  lost: { members: 3, voting: 3, healthy: 1, required: 2, tolerance: -1, state: 'lost' },
} as const satisfies Record<string, Quorum>;

/** A member-list row (it has peer URLs) for member i, healthy and answering Status at the given term. */
function row(i: Index, overrides: Partial<MemberView> & { term?: number; leader?: boolean } = {}): MemberView {
  const { term = 2, leader = false, ...rest } = overrides;
  return {
    id: IDS[i],
    name: NAMES[i],
    peerURLs: [`https://127.0.0.1:${2380 + i * 20000}`],
    clientURLs: [`https://127.0.0.1:${2379 + i * 20000}`],
    endpoint: `https://127.0.0.1:${2379 + i * 20000}`,
    isLearner: false,
    health: 'healthy',
    probeMs: 2.5,
    error: null,
    status: {
      version: '3.4.23',
      dbSize: 20480,
      dbSizeInUse: 16384,
      raftTerm: term,
      raftIndex: 42,
      raftAppliedIndex: 42,
      isLeader: leader,
      errors: [],
    },
    ...rest,
  };
}

/** A member that answers nothing: no Status, so it says nothing about the term. */
function down(i: Index, error = REFUSED): MemberView {
  return row(i, { health: 'unreachable', error, probeMs: null, status: null });
}

interface ObsSpec {
  n?: number;
  /** Index of the leader, or null for none; etcd-0 unless told. */
  leader?: Index | null;
  term?: number;
  members?: MemberView[];
  alarms?: AlarmView[];
  quorum?: Quorum;
}

function observe(spec: ObsSpec = {}): Observation {
  const { n = 0, term = 2, alarms = [], quorum = QUORUM.healthy } = spec;
  const leader = spec.leader === undefined ? 0 : spec.leader;
  const members = spec.members ?? ([0, 1, 2] as const).map((i) => row(i, { term, leader: i === leader }));
  return {
    clusterId: 'default',
    name: 'default',
    observedAt: at(n),
    pollIntervalMs: 1000,
    quorum,
    leader: leader === null ? null : { id: IDS[leader], name: NAMES[leader] },
    members,
    alarms,
    warnings: [],
    quotaBackendBytes: null,
  };
}

// Most tests look at matching, not at timing: counted changes are reported at once unless a test says otherwise.
const input = (observation: Observation, leaderChangesFromMetrics: number | null = null, graceMs = 0): DeriveInput => ({
  observation,
  leaderChangesFromMetrics,
  graceMs,
});

/** Feeds the inputs in order, as the collector would, and returns the events of each call and the last state. */
function play(...inputs: Array<Observation | DeriveInput>): { events: ClusterEvent[][]; state: EventState | null } {
  let state: EventState | null = null;
  const events: ClusterEvent[][] = [];
  for (const i of inputs) {
    const result = deriveEvents(state, 'observation' in i ? i : input(i));
    events.push(result.events);
    state = result.state;
  }
  return { events, state };
}

const types = (events: ClusterEvent[]): EventType[] => events.map((e) => e.type);

describe('deriveEvents: the first observation', () => {
  it('yields no events, however bad things already are, but remembers what it saw', () => {
    const first = observe({
      leader: 1,
      term: 7,
      members: [row(0, { term: 7 }), row(1, { term: 7, leader: true }), down(2)],
      alarms: [{ memberId: IDS[0], alarm: 'NOSPACE' }],
      quorum: QUORUM.atRisk,
    });
    const { events, state } = deriveEvents(null, input(first, 5));
    expect(events).toEqual([]);
    expect(state.lastLeader).toEqual({ id: IDS[1], name: 'etcd-1' });
    expect(state.lastTerm).toBe(7);
    expect([...state.health]).toEqual([
      [IDS[0], 'healthy'],
      [IDS[1], 'healthy'],
      [IDS[2], 'unreachable'],
    ]);
    expect([...(state.memberIds ?? [])]).toEqual([...IDS]);
    expect(state.quorumLost).toBe(false);
    expect(state.alarms.size).toBe(1);
    expect(state.unmatchedStatusChanges).toHaveLength(0);
  });

  it('a cluster first seen without quorum is remembered as lost', () => {
    const { events, state } = deriveEvents(null, input(observe({ leader: null, quorum: QUORUM.lost })));
    expect(events).toEqual([]);
    expect(state.quorumLost).toBe(true);
    expect(state.lastLeader).toBeNull();
  });

  it('an unchanged cluster polled again yields nothing', () => {
    const { events } = play(observe({ n: 0 }), observe({ n: 1 }), observe({ n: 2 }));
    expect(events).toEqual([[], [], []]);
  });
});

describe('deriveEvents: leader changes seen from Status', () => {
  it('leader etcd-0 → etcd-1 gives one leader_changed naming both leaders and the new term', () => {
    const { events } = play(observe({ n: 0, leader: 0, term: 2 }), observe({ n: 1, leader: 1, term: 3 }));
    expect(events[1]).toEqual([
      {
        at: at(1),
        type: 'leader_changed',
        memberId: IDS[1],
        details: { oldLeader: IDS[0], oldLeaderName: 'etcd-0', newLeader: IDS[1], newLeaderName: 'etcd-1', term: 3 },
      },
    ]);
  });

  it('the change is reported once: the next poll under the new leader is quiet', () => {
    const { events } = play(
      observe({ n: 0, leader: 0, term: 2 }),
      observe({ n: 1, leader: 1, term: 3 }),
      observe({ n: 2, leader: 1, term: 3 }),
    );
    expect(events[2]).toEqual([]);
  });

  it('etcd-0 → no leader (quorum lost) → etcd-1: quorum_lost, then the change etcd-0 → etcd-1 and quorum_restored', () => {
    const leaderless = observe({
      n: 1,
      leader: null,
      members: [down(0), row(1, { term: 3 }), row(2, { term: 3 })],
      quorum: QUORUM.lost,
    });
    const { events } = play(
      observe({ n: 0, leader: 0, term: 2 }),
      leaderless,
      observe({
        n: 2,
        leader: 1,
        members: [down(0), row(1, { term: 4, leader: true }), row(2, { term: 4 })],
        quorum: QUORUM.atRisk,
      }),
    );
    expect(types(events[1] ?? [])).toEqual(['member_down', 'quorum_lost']);
    expect(events[1]?.find((e) => e.type === 'leader_changed')).toBeUndefined();
    expect(events[1]?.find((e) => e.type === 'quorum_lost')).toMatchObject({
      at: at(1),
      memberId: null,
      details: { healthy: 1, voting: 3, required: 2, leader: null },
    });

    expect(types(events[2] ?? [])).toEqual(['leader_changed', 'quorum_restored']);
    expect(events[2]?.[0]).toEqual({
      at: at(2),
      type: 'leader_changed',
      memberId: IDS[1],
      details: { oldLeader: IDS[0], oldLeaderName: 'etcd-0', newLeader: IDS[1], newLeaderName: 'etcd-1', term: 4 },
    });
    expect(events[2]?.[1]).toMatchObject({
      at: at(2),
      type: 'quorum_restored',
      memberId: null,
      details: { healthy: 2, voting: 3, state: 'at-risk', leader: IDS[1] },
    });
  });

  it('several polls without a leader still report the change against the last leader seen', () => {
    const noLeader = (n: number) =>
      observe({ n, leader: null, members: [down(0), row(1, { term: 3 }), row(2, { term: 3 })], quorum: QUORUM.lost });
    const { events } = play(
      observe({ n: 0, leader: 0, term: 2 }),
      noLeader(1),
      noLeader(2),
      noLeader(3),
      observe({ n: 4, leader: 2, term: 5 }),
    );
    expect(events[2]).toEqual([]);
    expect(events[3]).toEqual([]);
    expect(events[4]?.find((e) => e.type === 'leader_changed')?.details).toMatchObject({
      oldLeader: IDS[0],
      oldLeaderName: 'etcd-0',
      newLeader: IDS[2],
      newLeaderName: 'etcd-2',
      term: 5,
    });
  });

  it('the same leader at a higher raft term gives a leader_changed with a note: an election it won again', () => {
    const { events } = play(observe({ n: 0, leader: 0, term: 2 }), observe({ n: 1, leader: 0, term: 4 }));
    expect(events[1]).toHaveLength(1);
    const e = events[1]?.[0];
    expect(e).toMatchObject({
      at: at(1),
      type: 'leader_changed',
      memberId: IDS[0],
      details: { oldLeader: IDS[0], oldLeaderName: 'etcd-0', newLeader: IDS[0], newLeaderName: 'etcd-0', term: 4 },
    });
    const note = e?.details.note;
    expect(typeof note).toBe('string');
    expect(note).toMatch(/\b2\b.*\b4\b/);
    expect(note).toContain('etcd-0');
  });

  it('a lower raft term under the same leader (a cluster restored from a snapshot) is not an election', () => {
    const { events, state } = play(observe({ n: 0, leader: 0, term: 9 }), observe({ n: 1, leader: 0, term: 2 }));
    expect(events[1]).toEqual([]);
    expect(state?.lastTerm).toBe(2);
    // …and the term counts from there: the next rise is an election again.
    const next = deriveEvents(state, input(observe({ n: 2, leader: 0, term: 3 })));
    expect(types(next.events)).toEqual(['leader_changed']);
  });
});

describe('deriveEvents: leader changes cross-checked with the members’ counters', () => {
  it('the counters rising by 2 with no change in Status give one leader_changed with count 2', () => {
    const { events } = play(observe({ n: 0 }), input(observe({ n: 1 }), 2));
    expect(events[1]).toHaveLength(1);
    expect(events[1]?.[0]).toMatchObject({
      at: at(1),
      type: 'leader_changed',
      memberId: IDS[0],
      details: { oldLeader: IDS[0], newLeader: IDS[0], count: 2, term: 2 },
    });
    expect(events[1]?.[0]?.details.note).toMatch(/\b2\b/);
  });

  it('a change Status saw is not reported again when the counters catch up on a later call', () => {
    const { events, state } = play(
      observe({ n: 0, leader: 0, term: 2 }),
      input(observe({ n: 1, leader: 1, term: 3 }), null),
      input(observe({ n: 2, leader: 1, term: 3 }), 1),
    );
    expect(types(events[1] ?? [])).toEqual(['leader_changed']);
    expect(events[2]).toEqual([]);
    expect(state?.unmatchedStatusChanges).toHaveLength(0);
  });

  it('the counters may catch up several calls later', () => {
    const { events } = play(
      observe({ n: 0, leader: 0, term: 2 }),
      input(observe({ n: 1, leader: 1, term: 3 }), null),
      input(observe({ n: 2, leader: 1, term: 3 }), null),
      input(observe({ n: 3, leader: 1, term: 3 }), 1),
    );
    expect(events.slice(2)).toEqual([[], []]);
  });

  it('a change Status saw and the counters report in the same call is one event', () => {
    const { events, state } = play(
      observe({ n: 0, leader: 0, term: 2 }),
      input(observe({ n: 1, leader: 1, term: 3 }), 1),
    );
    expect(types(events[1] ?? [])).toEqual(['leader_changed']);
    expect(events[1]?.[0]?.details).not.toHaveProperty('count');
    expect(state?.unmatchedStatusChanges).toHaveLength(0);
  });

  it('counters reporting more changes than Status saw add one event for the ones Status missed', () => {
    const { events } = play(observe({ n: 0, leader: 0, term: 2 }), input(observe({ n: 1, leader: 1, term: 5 }), 3));
    expect(types(events[1] ?? [])).toEqual(['leader_changed', 'leader_changed']);
    expect(events[1]?.[0]?.details).not.toHaveProperty('count');
    expect(events[1]?.[1]?.details).toMatchObject({ count: 2 });
  });

  it('after the counters have matched a change, a later rise is news again', () => {
    const { events } = play(
      observe({ n: 0, leader: 0, term: 2 }),
      input(observe({ n: 1, leader: 1, term: 3 }), null),
      input(observe({ n: 2, leader: 1, term: 3 }), 1),
      input(observe({ n: 3, leader: 1, term: 3 }), 1),
    );
    expect(events[2]).toEqual([]);
    expect(types(events[3] ?? [])).toEqual(['leader_changed']);
    expect(events[3]?.[0]?.details).toMatchObject({ count: 1 });
  });

  it('no scrape (null) or no rise (0) in the counters says nothing', () => {
    const { events } = play(observe({ n: 0 }), input(observe({ n: 1 }), null), input(observe({ n: 2 }), 0));
    expect(events).toEqual([[], [], []]);
  });

  it('the counters are ignored on the first call: a rise before the dashboard watched is not news', () => {
    const { events, state } = play(input(observe({ n: 0 }), 4));
    expect(events).toEqual([[]]);
    expect(state?.unmatchedStatusChanges).toHaveLength(0);
  });
});

describe('deriveEvents: members going down and up', () => {
  it('healthy → unreachable gives member_down with the reason from the member’s error; back gives member_up', () => {
    const { events } = play(
      observe({ n: 0 }),
      observe({ n: 1, members: [row(0, { leader: true }), down(1), row(2)], quorum: QUORUM.atRisk }),
      observe({ n: 2 }),
    );
    expect(events[1]).toEqual([
      {
        at: at(1),
        type: 'member_down',
        memberId: IDS[1],
        details: { name: 'etcd-1', health: 'unreachable', reason: REFUSED },
      },
    ]);
    expect(events[2]).toEqual([
      { at: at(2), type: 'member_up', memberId: IDS[1], details: { name: 'etcd-1', was: 'unreachable' } },
    ]);
  });

  it('healthy → unhealthy is also member_down, with the failed health read as the reason', () => {
    const timeout = 'no answer before the deadline (member hung, overloaded or partitioned)';
    const { events } = play(
      observe({ n: 0 }),
      observe({ n: 1, members: [row(0, { leader: true }), row(1), row(2, { health: 'unhealthy', error: timeout })] }),
    );
    expect(events[1]).toEqual([
      {
        at: at(1),
        type: 'member_down',
        memberId: IDS[2],
        details: { name: 'etcd-2', health: 'unhealthy', reason: timeout },
      },
    ]);
  });

  it('a member that stays down is reported once, not on every poll', () => {
    const oneDown = (n: number) =>
      observe({ n, members: [row(0, { leader: true }), down(1), row(2)], quorum: QUORUM.atRisk });
    const { events } = play(observe({ n: 0 }), oneDown(1), oneDown(2), oneDown(3));
    expect(types(events[1] ?? [])).toEqual(['member_down']);
    expect(events.slice(2)).toEqual([[], []]);
  });

  it('a member first seen unhealthy yields nothing until it changes, then member_up', () => {
    const sick = (n: number, health: MemberHealth) =>
      observe({
        n,
        members: [row(0, { leader: true }), row(1), row(2, { health, error: 'health read failed', probeMs: null })],
      });
    const { events } = play(sick(0, 'unhealthy'), sick(1, 'unhealthy'), observe({ n: 2 }));
    expect(events[0]).toEqual([]);
    expect(events[1]).toEqual([]);
    expect(events[2]).toEqual([
      { at: at(2), type: 'member_up', memberId: IDS[2], details: { name: 'etcd-2', was: 'unhealthy' } },
    ]);
  });

  it('several members failing at once give one member_down each', () => {
    const { events } = play(
      observe({ n: 0 }),
      observe({ n: 1, leader: null, members: [row(0), down(1), down(2)], quorum: QUORUM.lost }),
    );
    expect(events[1]?.filter((e) => e.type === 'member_down').map((e) => e.memberId)).toEqual([IDS[1], IDS[2]]);
  });
});

describe('deriveEvents: quorum', () => {
  it('healthy → lost → at-risk gives quorum_lost, then quorum_restored with the state it came back to', () => {
    const members = [row(0, { leader: true }), row(1), row(2)];
    const { events } = play(
      observe({ n: 0, members }),
      observe({ n: 1, members, quorum: QUORUM.lost }),
      observe({ n: 2, members, quorum: QUORUM.atRisk }),
    );
    expect(events[1]).toEqual([
      {
        at: at(1),
        type: 'quorum_lost',
        memberId: null,
        details: { healthy: 1, voting: 3, required: 2, leader: IDS[0] },
      },
    ]);
    expect(events[2]).toEqual([
      {
        at: at(2),
        type: 'quorum_restored',
        memberId: null,
        details: { healthy: 2, voting: 3, state: 'at-risk', leader: IDS[0] },
      },
    ]);
  });

  it('healthy → at-risk → degraded is not a quorum event', () => {
    const degraded: Quorum = { members: 5, voting: 5, healthy: 4, required: 3, tolerance: 1, state: 'degraded' };
    const { events } = play(
      observe({ n: 0 }),
      observe({ n: 1, quorum: QUORUM.atRisk }),
      observe({ n: 2, quorum: degraded }),
    );
    expect(events.flat().filter((e) => e.type.startsWith('quorum'))).toEqual([]);
  });

  it('quorum lost over several polls is reported once', () => {
    const { events } = play(
      observe({ n: 0 }),
      observe({ n: 1, quorum: QUORUM.lost }),
      observe({ n: 2, quorum: QUORUM.lost }),
    );
    expect(types(events[1] ?? [])).toEqual(['quorum_lost']);
    expect(events[2]).toEqual([]);
  });
});

describe('deriveEvents: alarms', () => {
  it('an alarm appearing gives alarm_raised and disappearing gives alarm_cleared, with the alarm and member', () => {
    const nospace: AlarmView = { memberId: IDS[2], alarm: 'NOSPACE' };
    const { events } = play(observe({ n: 0 }), observe({ n: 1, alarms: [nospace] }), observe({ n: 2 }));
    expect(events[1]).toEqual([
      { at: at(1), type: 'alarm_raised', memberId: IDS[2], details: { alarm: 'NOSPACE', name: 'etcd-2' } },
    ]);
    expect(events[2]).toEqual([
      { at: at(2), type: 'alarm_cleared', memberId: IDS[2], details: { alarm: 'NOSPACE', name: 'etcd-2' } },
    ]);
  });

  it('an alarm that stays is reported once; a second alarm on the same member is its own event', () => {
    const nospace: AlarmView = { memberId: IDS[0], alarm: 'NOSPACE' };
    const corrupt: AlarmView = { memberId: IDS[0], alarm: 'CORRUPT' };
    const { events } = play(
      observe({ n: 0 }),
      observe({ n: 1, alarms: [nospace] }),
      observe({ n: 2, alarms: [nospace] }),
      observe({ n: 3, alarms: [nospace, corrupt] }),
      observe({ n: 4, alarms: [corrupt] }),
    );
    expect(types(events[1] ?? [])).toEqual(['alarm_raised']);
    expect(events[2]).toEqual([]);
    expect(events[3]).toEqual([
      { at: at(3), type: 'alarm_raised', memberId: IDS[0], details: { alarm: 'CORRUPT', name: 'etcd-0' } },
    ]);
    expect(events[4]).toEqual([
      { at: at(4), type: 'alarm_cleared', memberId: IDS[0], details: { alarm: 'NOSPACE', name: 'etcd-0' } },
    ]);
  });

  it('the same alarm on two members is two events, one per member', () => {
    const { events } = play(
      observe({ n: 0 }),
      observe({
        n: 1,
        alarms: [
          { memberId: IDS[0], alarm: 'NOSPACE' },
          { memberId: IDS[1], alarm: 'NOSPACE' },
        ],
      }),
    );
    expect(events[1]?.map((e) => [e.type, e.memberId, e.details.alarm])).toEqual([
      ['alarm_raised', IDS[0], 'NOSPACE'],
      ['alarm_raised', IDS[1], 'NOSPACE'],
    ]);
  });
});

describe('deriveEvents: membership', () => {
  const newRow = (): MemberView => ({
    ...row(2),
    id: NEW_ID,
    name: 'etcd-3',
    peerURLs: ['https://127.0.0.1:42380'],
    clientURLs: ['https://127.0.0.1:42379'],
    endpoint: 'https://127.0.0.1:42379',
    isLearner: true,
  });

  it('a member appearing in the member list gives member_added with its peer URLs and learner flag', () => {
    const { events } = play(
      observe({ n: 0 }),
      observe({ n: 1, members: [row(0, { leader: true }), row(1), row(2), newRow()] }),
    );
    expect(events[1]).toEqual([
      {
        at: at(1),
        type: 'member_added',
        memberId: NEW_ID,
        details: { name: 'etcd-3', peerURLs: ['https://127.0.0.1:42380'], isLearner: true },
      },
    ]);
  });

  it('a member vanishing from the member list gives member_removed, and no member_down', () => {
    const { events } = play(observe({ n: 0 }), observe({ n: 1, members: [row(0, { leader: true }), row(1)] }));
    expect(events[1]).toEqual([{ at: at(1), type: 'member_removed', memberId: IDS[2], details: { name: NAMES[2] } }]);
  });

  it('a member replaced in one poll gives member_removed for the old and member_added for the new', () => {
    const { events } = play(
      observe({ n: 0 }),
      observe({ n: 1, members: [row(0, { leader: true }), row(1), newRow()] }),
    );
    expect(events[1]?.map((e) => [e.type, e.memberId])).toEqual([
      ['member_added', NEW_ID],
      ['member_removed', IDS[2]],
    ]);
  });

  it('a poll without member-list rows (only endpoint rows) keeps the last list: nothing is removed', () => {
    const endpointOnly = (i: Index): MemberView => ({ ...row(i), peerURLs: [], name: `127.0.0.1:${2379 + i * 20000}` });
    const { events, state } = play(
      observe({ n: 0 }),
      observe({ n: 1, members: [endpointOnly(0), endpointOnly(1), endpointOnly(2)] }),
      observe({ n: 2 }),
    );
    expect(events[1]).toEqual([]);
    expect(events[2]).toEqual([]);
    expect([...(state?.memberIds ?? [])]).toEqual([...IDS]);
  });

  it('the first member list read after polls without one is not news', () => {
    const endpointOnly = (i: Index): MemberView => ({ ...row(i), peerURLs: [] });
    const { events } = play(observe({ n: 0, members: [endpointOnly(0), endpointOnly(1)] }), observe({ n: 1 }));
    expect(events[1]).toEqual([]);
  });
});

describe('deriveEvents: rows without ids', () => {
  /** A row for an endpoint that never answered while no member list was known. */
  const anonymous = (health: MemberHealth): MemberView => ({
    ...row(2),
    id: null,
    name: '127.0.0.1:42379',
    peerURLs: [],
    clientURLs: ['https://127.0.0.1:42379'],
    endpoint: 'https://127.0.0.1:42379',
    health,
    error: health === 'healthy' ? null : REFUSED,
    status: null,
  });

  it('never produce events: not down, not up, not added, not removed', () => {
    const members = (health: MemberHealth, withAnonymous: boolean) => [
      row(0, { leader: true }),
      row(1),
      row(2),
      ...(withAnonymous ? [anonymous(health)] : []),
    ];
    const { events, state } = play(
      observe({ n: 0, members: members('healthy', true) }),
      observe({ n: 1, members: members('unreachable', true) }),
      observe({ n: 2, members: members('healthy', true) }),
      observe({ n: 3, members: members('healthy', false) }),
      observe({ n: 4, members: members('unreachable', true) }),
    );
    expect(events.flat()).toEqual([]);
    expect([...(state?.health.keys() ?? [])]).toEqual([...IDS]);
  });

  it('are not tracked when they are the only rows', () => {
    const { events, state } = play(
      observe({ n: 0, leader: null, members: [anonymous('unreachable')], quorum: QUORUM.lost }),
      observe({ n: 1, leader: null, members: [anonymous('healthy')], quorum: QUORUM.lost }),
    );
    expect(events.flat()).toEqual([]);
    expect(state?.health.size).toBe(0);
    expect(state?.memberIds).toBeNull();
  });
});

describe('deriveEvents: event times', () => {
  it('every event of a call carries that observation’s observedAt', () => {
    const { events } = play(
      observe({ n: 0, leader: 0, term: 2 }),
      input(
        observe({
          n: 7,
          leader: 1,
          members: [down(0), row(1, { term: 3, leader: true }), row(2, { term: 3 }), { ...row(2), id: NEW_ID }],
          alarms: [{ memberId: IDS[1], alarm: 'NOSPACE' }],
          quorum: QUORUM.lost,
        }),
        3,
      ),
      observe({ n: 9, leader: 1, term: 3 }),
    );
    expect(new Set(types(events[1] ?? []))).toEqual(
      new Set(['leader_changed', 'member_down', 'quorum_lost', 'alarm_raised', 'member_added']),
    );
    expect(new Set(types(events[2] ?? []))).toEqual(
      new Set(['member_up', 'quorum_restored', 'alarm_cleared', 'member_removed']),
    );
    expect(events[1]?.every((e) => e.at === at(7))).toBe(true);
    expect(events[2]?.every((e) => e.at === at(9))).toBe(true);
  });
});

describe('deriveEvents: findings from review', () => {
  it('a member cut off from its peers, campaigning at ever higher terms, invents no elections', () => {
    const partitioned = (term: number) => row(2, { term, health: 'unhealthy', error: 'no leader' });
    const { events } = play(
      observe({ n: 0, members: [row(0, { leader: true }), row(1), partitioned(2)], quorum: QUORUM.atRisk }),
      observe({ n: 1, members: [row(0, { leader: true }), row(1), partitioned(5)], quorum: QUORUM.atRisk }),
      observe({ n: 2, members: [row(0, { leader: true }), row(1), partitioned(8)], quorum: QUORUM.atRisk }),
    );
    expect(events.flat().filter((e) => e.type === 'leader_changed')).toEqual([]);
  });

  it('counters that lag one scrape behind do not report a change Status already showed', () => {
    const { events } = play(
      input(observe({ n: 0, leader: 0 })),
      input(observe({ n: 1, leader: 1, term: 3 }), 0),
      input(observe({ n: 2, leader: 1, term: 3 }), 1),
    );
    expect(events.flat().filter((e) => e.type === 'leader_changed')).toHaveLength(1);
  });

  it('a leader that loses quorum and wins the next election is reported as re-elected', () => {
    const { events } = play(
      observe({ n: 0, leader: 0, term: 2 }),
      observe({ n: 1, leader: null, members: [row(0, { term: 3 }), down(1), down(2)], quorum: QUORUM.lost }),
      observe({ n: 2, leader: 0, term: 3 }),
    );
    const changes = events.flat().filter((e) => e.type === 'leader_changed');
    expect(changes).toHaveLength(1);
    expect(changes[0]?.details).toMatchObject({ oldLeader: IDS[0], newLeader: IDS[0], term: 3 });
  });

  it('a removed member is named in its event', () => {
    const { events } = play(observe({ n: 0 }), observe({ n: 1, members: [row(0, { leader: true }), row(1)] }));
    const removed = events.flat().find((e) => e.type === 'member_removed');
    expect(removed?.details).toEqual({ name: NAMES[2] });
  });
});

describe('deriveEvents: counters ahead of Status', () => {
  it('an election the counters report while there is no leader yet is one event once Status shows the winner', () => {
    const etcd1Leads = (n: number) =>
      observe({
        n,
        leader: 1,
        term: 3,
        members: [down(0), row(1, { term: 3, leader: true }), row(2, { term: 3 })],
        quorum: QUORUM.atRisk,
      });
    const { events } = play(
      input(observe({ n: 0, leader: 0 }), null, 2000),
      input(observe({ n: 1, leader: null, members: [down(0), row(1), row(2)], quorum: QUORUM.lost }), 1, 2000),
      input(etcd1Leads(2), null, 2000),
      input(etcd1Leads(5), null, 2000),
    );
    const changes = events.flat().filter((e) => e.type === 'leader_changed');
    expect(changes).toHaveLength(1);
    expect(changes[0]?.details).toMatchObject({ oldLeader: IDS[0], newLeader: IDS[1] });
  });

  it('a counted change Status never shows is reported after the grace period, not before', () => {
    const { events } = play(
      input(observe({ n: 0 }), null, 2000),
      input(observe({ n: 1 }), 2, 2000),
      input(observe({ n: 2 }), null, 2000),
      input(observe({ n: 3 }), null, 2000),
    );
    expect(events.map((e) => e.filter((x) => x.type === 'leader_changed').length)).toEqual([0, 0, 0, 1]);
    expect(events[3]?.[0]?.details).toMatchObject({ count: 2 });
  });
});
