import { beforeEach, describe, expect, it } from 'vitest';
import { EventStore } from '@/lib/history/event-store';
import { SampleStore } from '@/lib/history/sample-store';
import type { ClusterEvent } from '@/lib/history/series';
import type { EtcdMetricsSample } from '@/lib/metrics/etcd-metrics';
import { describeOnEachEngine } from '@/test/support/store-engines';
import { observation } from '@/test/support/observations';
import { HistoryRecorder } from './history-recorder';

/** This file's PostgreSQL server. */
const PG_PORT = 25917;
const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const S = 1000;
/** observation(): three members, each with a probe time, two DB sizes and a raft index. */
const ROWS_PER_POLL = 12;

const metrics = (over: Partial<EtcdMetricsSample> = {}): EtcdMetricsSample => ({
  walFsyncP99Ms: 1.5,
  backendCommitP99Ms: 2.5,
  peerRttP99Ms: {},
  worstPeerRttP99Ms: null,
  leaderChanges: 0,
  proposalsFailed: 0,
  proposalsPending: null,
  hasLeader: true,
  quotaBackendBytes: null,
  defragInflight: null,
  counterReset: false,
  ...over,
});

const event = (at: number, type: ClusterEvent['type'] = 'leader_changed'): ClusterEvent => ({
  at: new Date(at).toISOString(),
  type,
  memberId: null,
  details: { n: at - T0 },
});

describeOnEachEngine('HistoryRecorder', PG_PORT, (engine) => {
  let samples: SampleStore;
  let events: EventStore;
  let recorder: HistoryRecorder;
  beforeEach(() => {
    samples = new SampleStore(engine.db);
    events = new EventStore(engine.db);
    recorder = new HistoryRecorder(samples, events);
  });

  /** Every stored sample's time, oldest first, once per row. */
  const storedAts = async () =>
    (await engine.db.selectFrom('samples').select('at').orderBy('at').execute()).map((r) => r.at - T0);
  const storedEvents = async () =>
    (await events.query({ clusterId: 'prod', from: T0 - 3600 * S, to: T0 + 3600 * S })).map((e) => e.details.n);

  it('records without waiting, and writes the polls, metrics and events in order', async () => {
    recorder.recordPoll('prod', observation(), T0);
    recorder.recordEvents('prod', [event(T0), event(T0, 'member_down')]);
    recorder.recordMetrics('prod', { id: 'a1', name: 'etcd-1' }, metrics({ leaderChanges: 1 }), T0 + S);
    // Nothing has reached the database yet: record() only queues.
    expect(recorder.pendingCount).toBe(ROWS_PER_POLL + 2 + 4);
    await recorder.flush();
    expect(recorder.pendingCount).toBe(0);
    expect(recorder.historyAvailable).toEqual({ ok: true });

    expect(await storedAts()).toEqual([...Array<number>(ROWS_PER_POLL).fill(0), ...Array<number>(4).fill(S)]);
    // The same ms: the later write first, as the timeline shows them.
    expect(
      (await events.query({ clusterId: 'prod', from: T0, to: T0 })).map((e) => e.type),
      'events at one ms keep the order they were recorded in',
    ).toEqual(['member_down', 'leader_changed']);
    const leaderChanges = await samples.query({
      clusterId: 'prod',
      series: 'leader_changes',
      from: T0,
      to: T0 + 10 * S,
      rawRetentionMs: 3_600_000,
      now: T0 + 10 * S,
    });
    expect(leaderChanges.members).toEqual([{ memberId: 'a1', name: 'etcd-1', points: [[T0 + S, 1]] }]);
  });

  it('refuses an event whose time is not a time when it is recorded, and keeps the rest going', async () => {
    expect(() => recorder.recordEvents('prod', [event(T0), { ...event(T0), at: 'soon' }])).toThrow(RangeError);
    recorder.recordEvents('prod', [event(T0 + S)]);
    await recorder.flush();
    expect(await storedEvents()).toEqual([S]);
  });

  it('runs a serialized task between the writes queued before it and those after (the rollup never sees half)', async () => {
    recorder.recordPoll('prod', observation(), T0);
    const seen = recorder.serialize(async () => (await storedAts()).length);
    recorder.recordPoll('prod', observation(), T0 + S);
    expect(await seen).toBe(ROWS_PER_POLL);
    await recorder.flush();
    expect(await storedAts()).toHaveLength(2 * ROWS_PER_POLL);
  });

  it.runIf(engine.name === 'PostgreSQL')(
    'an event the database refuses for good (a NUL in its details) is dropped alone; the rest are written',
    async () => {
      recorder.recordEvents('prod', [
        event(T0),
        { ...event(T0 + S), details: { n: S, bad: 'a\u0000b' } },
        event(T0 + 2 * S),
      ]);
      await recorder.flush();
      expect(recorder.historyAvailable).toEqual({ ok: true });
      expect((await storedEvents()).sort()).toEqual([0, 2 * S]);
    },
  );

  describe('while the database refuses writes (PostgreSQL stopped)', () => {
    const postgresOnly = engine.name === 'PostgreSQL';

    it.runIf(postgresOnly)(
      'goes on recording, says the history is unavailable with what it holds, and writes it all when back',
      async () => {
        recorder.recordPoll('prod', observation(), T0);
        await recorder.flush();
        await engine.server!.kill();
        const killedAt = Date.now();

        for (let i = 1; i <= 5; i++) {
          expect(() => recorder.recordPoll('prod', observation(), T0 + i * S)).not.toThrow();
          expect(() => recorder.recordEvents('prod', [event(T0 + i * S)])).not.toThrow();
        }
        await expect(recorder.flush()).rejects.toThrow();
        // Recording goes on while the writes are refused.
        expect(() => recorder.recordPoll('prod', observation(), T0 + 6 * S)).not.toThrow();
        const state = recorder.historyAvailable;
        expect(state).toMatchObject({ ok: false, pending: 6 * ROWS_PER_POLL + 5 });
        if (state.ok) throw new Error('unreachable');
        expect(state.since).toBeGreaterThanOrEqual(killedAt);
        expect(state.reason).not.toBe('');
        // Readers are not held back by the queue: they ask the database and hear its error.
        await expect(storedEvents()).rejects.toThrow();

        await engine.server!.start();
        await recorder.flush();
        expect(recorder.historyAvailable).toEqual({ ok: true });
        expect(recorder.pendingCount).toBe(0);
        expect(recorder.droppedSamples).toBe(0);
        const expected = [0, 1, 2, 3, 4, 5, 6].flatMap((i) => Array<number>(ROWS_PER_POLL).fill(i * S));
        expect(await storedAts()).toEqual(expected);
        expect(await storedEvents()).toEqual([5 * S, 4 * S, 3 * S, 2 * S, S]);
      },
    );

    it.runIf(postgresOnly)(
      'past its bound, drops the oldest samples and counts them; events are all kept',
      async () => {
        recorder = new HistoryRecorder(samples, events, { maxPendingSamples: 2 * ROWS_PER_POLL });
        await engine.server!.kill();
        recorder.recordPoll('prod', observation(), T0);
        await expect(recorder.flush()).rejects.toThrow();
        for (let i = 1; i <= 4; i++) {
          recorder.recordEvents('prod', [event(T0 + i * S)]);
          recorder.recordPoll('prod', observation(), T0 + i * S);
        }
        expect(recorder.droppedSamples).toBe(3 * ROWS_PER_POLL);
        expect(recorder.historyAvailable).toMatchObject({ ok: false, pending: 2 * ROWS_PER_POLL + 4 });

        await engine.server!.start();
        await recorder.flush();
        expect(recorder.historyAvailable).toEqual({ ok: true });
        // The newest two polls are kept; the three before them went.
        expect(await storedAts()).toEqual([
          ...Array<number>(ROWS_PER_POLL).fill(3 * S),
          ...Array<number>(ROWS_PER_POLL).fill(4 * S),
        ]);
        expect(await storedEvents()).toEqual([4 * S, 3 * S, 2 * S, S]);
        expect(recorder.droppedSamples).toBe(3 * ROWS_PER_POLL);
      },
    );
  });
});
