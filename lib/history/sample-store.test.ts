import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { describeOnEachEngine } from '@/test/support/store-engines';
import { bucketStepMs, SampleStore, type SampleRow } from './sample-store';
import type { SeriesName } from './series';
import { SERIES_CODES } from './series-codes';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const DAY = 24 * H;
/** Minute-aligned start of every test's data. */
const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const RAW_RETENTION = DAY;
/** What every query of the tests' cluster shares. */
const base = { clusterId: 'prod', rawRetentionMs: RAW_RETENTION };

/** This file's PostgreSQL server. */
const PG_PORT = 25915;

function row(over: Partial<SampleRow> & { at: number; value: number }): SampleRow {
  return { clusterId: 'prod', memberId: 'a1', memberName: 'etcd-1', series: 'probe_ms', ...over };
}

/** One sample a second for `seconds` from `start`, value = f(i). */
function everySecond(start: number, seconds: number, f: (i: number) => number, over: Partial<SampleRow> = {}) {
  return Array.from({ length: seconds }, (_, i) => row({ at: start + i * S, value: f(i), ...over }));
}

describe('bucketStepMs', () => {
  it('picks the smallest round width that keeps the points at or under the maximum', () => {
    expect(bucketStepMs(T0, T0 + 15 * MIN, 1000)).toBe(S);
    expect(bucketStepMs(T0, T0 + H, 1000)).toBe(5 * S);
    expect(bucketStepMs(T0, T0 + 6 * H, 1000)).toBe(30 * S);
    expect(bucketStepMs(T0, T0 + DAY, 1000, MIN)).toBe(5 * MIN);
    expect(bucketStepMs(T0, T0 + 7 * DAY, 1000, MIN)).toBe(30 * MIN);
    expect(bucketStepMs(T0, T0 + 31 * DAY, 1000, MIN)).toBe(H);
  });

  it('counts the partial buckets at both ends', () => {
    // 1000 s from an aligned start touches 1001 one-second buckets.
    expect(bucketStepMs(T0, T0 + 1000 * S, 1000)).toBe(5 * S);
    expect(bucketStepMs(T0, T0 + 999 * S, 1000)).toBe(S);
  });

  it('keeps the minimum width even for short ranges', () => {
    expect(bucketStepMs(T0, T0 + 10 * S, 1000, MIN)).toBe(MIN);
  });

  it('goes past a day for tiny point budgets', () => {
    const step = bucketStepMs(T0, T0 + 31 * DAY, 3, MIN);
    expect(Math.floor((T0 + 31 * DAY) / step) - Math.floor(T0 / step) + 1).toBeLessThanOrEqual(3);
  });
});

describeOnEachEngine('SampleStore', PG_PORT, (engine) => {
  let store: SampleStore;

  beforeEach(() => {
    store = new SampleStore(engine.db);
  });

  async function rollupRows(series: SeriesName = 'probe_ms') {
    return engine.db
      .selectFrom('rollups_1m')
      .select(['minute', 'min', 'max', 'sum', 'n'])
      .where('series', '=', SERIES_CODES[series])
      .orderBy('member')
      .orderBy('minute')
      .execute();
  }

  async function count(table: 'samples' | 'members' | 'rollups_1m'): Promise<number> {
    const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(engine.db);
    return Number(rows[0]?.n);
  }

  describe('insert', () => {
    it('stores samples that survive closing and reopening the file', async () => {
      await store.insert(everySecond(T0, 10, (i) => i + 0.5));
      store = new SampleStore(await engine.reopen());
      const result = await store.query({ ...base, series: 'probe_ms', from: T0, to: T0 + 9 * S, now: T0 + 10 * S });
      expect(result.members).toEqual([
        { memberId: 'a1', name: 'etcd-1', points: Array.from({ length: 10 }, (_, i) => [T0 + i * S, i + 0.5]) },
      ]);
    });

    it('keeps a renamed member under its id and shows the new name', async () => {
      await store.insert([row({ at: T0, value: 1, memberName: 'old-name' })]);
      await store.insert([row({ at: T0 + S, value: 2, memberName: 'new-name' })]);
      expect(await engine.db.selectFrom('members').select(['id', 'name']).execute()).toEqual([
        { id: 1, name: 'new-name' },
      ]);
      const { members } = await store.query({ ...base, series: 'probe_ms', from: T0, to: T0 + 5 * S, now: T0 + 5 * S });
      expect(members).toEqual([
        {
          memberId: 'a1',
          name: 'new-name',
          points: [
            [T0, 1],
            [T0 + S, 2],
          ],
        },
      ]);
    });

    it('writes a batch all or nothing, and works again after a failed batch', async () => {
      const bad = row({ at: T0 + 2 * S, value: 3, series: 'not_a_series' as SeriesName });
      await expect(
        store.insert([row({ at: T0, value: 1, memberId: 'b2', memberName: 'etcd-2' }), bad]),
      ).rejects.toThrow();
      expect(await count('samples')).toBe(0);
      expect(await count('members')).toBe(0);

      // The member seen in the failed batch is written again rather than assumed to exist.
      await store.insert([row({ at: T0, value: 1, memberId: 'b2', memberName: 'etcd-2' })]);
      expect(await count('samples')).toBe(1);
      expect(await engine.db.selectFrom('members').select('member_id').execute()).toEqual([{ member_id: 'b2' }]);
    });

    it('keeps the later of two samples at the same series, member and ms, within a batch and across batches', async () => {
      await store.insert([row({ at: T0, value: 1 }), row({ at: T0, value: 2 }), row({ at: T0 + S, value: 3 })]);
      await store.insert([row({ at: T0 + S, value: 4 })]);
      expect(await engine.db.selectFrom('samples').select(['at', 'value']).orderBy('at').execute()).toEqual([
        { at: T0, value: 2 },
        { at: T0 + S, value: 4 },
      ]);
    });

    it('skips readings that are not numbers instead of losing the batch', async () => {
      await store.insert([row({ at: T0, value: Number.NaN }), row({ at: T0 + S, value: 7 })]);
      expect(await engine.db.selectFrom('samples').select(['at', 'value']).execute()).toEqual([
        { at: T0 + S, value: 7 },
      ]);
    });
  });

  describe('rollup', () => {
    it('rolls up complete minutes only, leaving the current minute for later', async () => {
      // 2.5 minutes of samples: 0..149.
      await store.insert(everySecond(T0, 150, (i) => i));
      const now = T0 + 2 * MIN + 30 * S;
      expect(await store.rollup(now)).toBe(2);
      expect(await rollupRows()).toEqual([
        { minute: T0, min: 0, max: 59, sum: (59 * 60) / 2, n: 60 },
        { minute: T0 + MIN, min: 60, max: 119, sum: ((60 + 119) * 60) / 2, n: 60 },
      ]);
    });

    it('is idempotent and picks up the minute once it is complete', async () => {
      await store.insert(everySecond(T0, 150, (i) => i));
      expect(await store.rollup(T0 + 2 * MIN + 30 * S)).toBe(2);
      expect(await store.rollup(T0 + 2 * MIN + 45 * S)).toBe(0);
      expect(await store.rollup(T0 + 2 * MIN + 59 * S)).toBe(0);
      expect(await store.rollup(T0 + 3 * MIN)).toBe(1);
      expect(await rollupRows()).toHaveLength(3);
      expect((await rollupRows())[2]).toEqual({
        minute: T0 + 2 * MIN,
        min: 120,
        max: 149,
        sum: ((120 + 149) * 30) / 2,
        n: 30,
      });
      expect(await store.rollup(T0 + 3 * MIN)).toBe(0);
    });

    it('rolls up each series and member on its own', async () => {
      await store.insert([
        row({ at: T0, value: 5 }),
        row({ at: T0, value: 50, memberId: 'b2', memberName: 'etcd-2' }),
        row({ at: T0 + S, value: 1, series: 'leader_changes' }),
        row({ at: T0 + 2 * S, value: 1, series: 'leader_changes' }),
      ]);
      expect(await store.rollup(T0 + MIN)).toBe(3);
      expect(await rollupRows('probe_ms')).toEqual([
        { minute: T0, min: 5, max: 5, sum: 5, n: 1 },
        { minute: T0, min: 50, max: 50, sum: 50, n: 1 },
      ]);
      expect(await rollupRows('leader_changes')).toEqual([{ minute: T0, min: 1, max: 1, sum: 2, n: 2 }]);
    });

    it('rolls a minute up again when a late sample arrives for it', async () => {
      await store.insert(everySecond(T0, 60, () => 1));
      expect(await store.rollup(T0 + 2 * MIN)).toBe(1);
      // Stamped inside the first minute, written after it was rolled up.
      await store.insert([row({ at: T0 + 30 * S + 500, value: 99 })]);
      expect(await store.rollup(T0 + 2 * MIN)).toBe(1);
      expect(await rollupRows()).toEqual([{ minute: T0, min: 1, max: 99, sum: 60 + 99, n: 61 }]);
    });

    it('rolls up a late sample written while a rollup is running, at the latest on the next rollup', async () => {
      await store.insert(everySecond(T0, 120, () => 1));
      await store.rollup(T0 + MIN);
      // The rollup of the second minute and a late sample for the first, at once: whatever their statements'
      // interleaving, the first minute ends up counting the late sample.
      await Promise.all([store.rollup(T0 + 2 * MIN), store.insert([row({ at: T0 + 30 * S + 500, value: 99 })])]);
      await store.rollup(T0 + 2 * MIN);
      expect(await rollupRows()).toEqual([
        { minute: T0, min: 1, max: 99, sum: 60 + 99, n: 61 },
        { minute: T0 + MIN, min: 1, max: 1, sum: 60, n: 60 },
      ]);
    });
  });

  describe('prune', () => {
    const retention = { rawRetentionMs: 10 * MIN, rollupRetentionMs: 60 * MIN };

    it('never deletes raw samples that are not rolled up yet', async () => {
      await store.insert(everySecond(T0, 120, (i) => i));
      expect(await store.prune(T0 + 2 * H, retention)).toEqual({ raw: 0, rollups: 0 });
      expect(await count('samples')).toBe(120);

      // Rolled up to the end of the first minute only: the second minute stays whatever its age.
      await store.rollup(T0 + MIN + 10 * S);
      expect(await store.prune(T0 + 2 * H, retention)).toEqual({ raw: 60, rollups: 1 });
      const oldest = await engine.db
        .selectFrom('samples')
        .select((eb) => eb.fn.min('at').as('at'))
        .executeTakeFirst();
      expect(Number(oldest?.at)).toBe(T0 + MIN);
    });

    it('deletes raw samples past raw retention and rollups past rollup retention, keeping newer ones', async () => {
      await store.insert(everySecond(T0, 5 * 60, (i) => i));
      const now = T0 + 15 * MIN;
      await store.rollup(now);
      // Raw cutoff 12:05: everything goes; rollup cutoff 11:15: nothing goes.
      expect(await store.prune(now, retention)).toEqual({ raw: 300, rollups: 0 });
      expect(await count('rollups_1m')).toBe(5);
      // Rollup cutoff 12:03: the first three minutes go.
      expect(await store.prune(T0 + 63 * MIN, retention)).toEqual({ raw: 0, rollups: 3 });
      expect((await rollupRows()).map((r) => (r as { minute: number }).minute)).toEqual([T0 + 3 * MIN, T0 + 4 * MIN]);
    });

    it('drops a late sample older than what was pruned, so its minute keeps its full rollup', async () => {
      await store.insert(everySecond(T0, 60, () => 1));
      await store.rollup(T0 + MIN);
      await store.prune(T0 + 20 * MIN, retention);
      await store.insert([row({ at: T0 + 5 * S, value: 99 })]);
      await store.rollup(T0 + 20 * MIN);
      expect(await rollupRows()).toEqual([{ minute: T0, min: 1, max: 1, sum: 60, n: 60 }]);
      expect(await count('samples')).toBe(0);
    });
  });

  describe('query', () => {
    it('returns members sorted by name with their points sorted by time, and only the asked cluster', async () => {
      // Inserted newest first and member "b" first to show the order comes from the query.
      await store.insert([
        row({ at: T0 + 2 * S, value: 3, memberId: 'ff', memberName: 'etcd-b' }),
        row({ at: T0 + S, value: 2, memberId: 'ff', memberName: 'etcd-b' }),
        row({ at: T0 + S, value: 20, memberId: '01', memberName: 'etcd-a' }),
        row({ at: T0, value: 10, memberId: '01', memberName: 'etcd-a' }),
        row({ at: T0, value: 1000, memberId: '01', memberName: 'other-a', clusterId: 'staging' }),
      ]);
      const result = await store.query({ ...base, series: 'probe_ms', from: T0, to: T0 + 10 * S, now: T0 + 10 * S });
      expect(result).toEqual({
        resolution: 'raw',
        stepMs: S,
        dataFrom: T0,
        members: [
          {
            memberId: '01',
            name: 'etcd-a',
            points: [
              [T0, 10],
              [T0 + S, 20],
            ],
          },
          {
            memberId: 'ff',
            name: 'etcd-b',
            points: [
              [T0 + S, 2],
              [T0 + 2 * S, 3],
            ],
          },
        ],
      });
    });

    it('filters to one member', async () => {
      await store.insert([row({ at: T0, value: 1 }), row({ at: T0, value: 2, memberId: 'b2', memberName: 'etcd-2' })]);
      const { members } = await store.query({
        ...base,
        series: 'probe_ms',
        from: T0,
        to: T0 + MIN,
        memberId: 'b2',
        now: T0 + MIN,
      });
      expect(members).toEqual([{ memberId: 'b2', name: 'etcd-2', points: [[T0, 2]] }]);
    });

    it('only counts samples inside [from, to]', async () => {
      await store.insert(everySecond(T0, 10, (i) => i));
      const { members } = await store.query({
        ...base,
        series: 'probe_ms',
        from: T0 + 3 * S,
        to: T0 + 5 * S,
        now: T0 + MIN,
      });
      expect(members[0]?.points).toEqual([
        [T0 + 3 * S, 3],
        [T0 + 4 * S, 4],
        [T0 + 5 * S, 5],
      ]);
    });

    it('buckets an hour of one-second samples into at most maxPoints points, with max or sum per series', async () => {
      await store.insert([
        ...everySecond(T0, 3600, (i) => i % 7),
        ...everySecond(T0, 3600, (i) => (i % 10 === 0 ? 1 : 0), { series: 'proposals_failed' }),
      ]);
      const now = T0 + H;
      const probe = await store.query({ ...base, series: 'probe_ms', from: T0, to: T0 + H - 1, now });
      expect(probe.resolution).toBe('raw');
      expect(probe.stepMs).toBe(5 * S);
      const points = probe.members[0]?.points ?? [];
      expect(points).toHaveLength(720);
      // Bucket k holds samples 5k…5k+4; probe_ms takes the largest of their i % 7.
      expect(points.slice(0, 3)).toEqual([
        [T0, 4],
        [T0 + 5 * S, 6],
        [T0 + 10 * S, 6],
      ]);
      expect(points[1]?.[1]).toBe(Math.max(...[5, 6, 7, 8, 9].map((i) => i % 7)));

      const failed = await store.query({
        ...base,
        series: 'proposals_failed',
        from: T0,
        to: T0 + H - 1,
        maxPoints: 100,
        now,
      });
      expect(failed.stepMs).toBe(MIN);
      const failedPoints = failed.members[0]?.points ?? [];
      expect(failedPoints).toHaveLength(60);
      // Six failures a minute, summed.
      expect(failedPoints.every(([, v]) => v === 6)).toBe(true);
    });

    it('never returns more than maxPoints per member', async () => {
      await store.insert(everySecond(T0 + 123, 2000, (i) => i));
      for (const maxPoints of [1, 7, 100, 999, 1000]) {
        const { members } = await store.query({
          ...base,
          series: 'probe_ms',
          from: T0 + 123,
          to: T0 + 123 + 1999 * S,
          maxPoints,
          now: T0 + H,
        });
        expect(members[0]?.points.length).toBeLessThanOrEqual(maxPoints);
        expect(members[0]?.points.reduce((a, [, v]) => Math.max(a, v), 0)).toBe(1999);
      }
    });

    it('reads ranges over 6 h from rollups, with the minutes not yet rolled up from raw samples', async () => {
      const start = T0 - 7 * H;
      const rows = [];
      for (let t = start; t < T0 + 90 * S; t += 10 * S) rows.push(row({ at: t, value: (t - start) / S }));
      await store.insert(rows);
      await store.rollup(T0); // Everything before 12:00 is rolled up; 12:00–12:01:30 is raw only.
      const now = T0 + 90 * S;

      const result = await store.query({ ...base, series: 'probe_ms', from: start, to: now, maxPoints: 20, now });
      expect(result.resolution).toBe('1m');
      expect(result.stepMs).toBe(30 * MIN);
      const points = result.members[0]?.points ?? [];
      expect(points).toHaveLength(15);
      expect(points[0]).toEqual([start, 30 * 60 - 10]);
      // The last bucket holds the raw tail: its largest value is from the newest sample.
      expect(points.at(-1)).toEqual([T0, (T0 + 80 * S - start) / S]);
    });

    it('reads a short range from rollups once raw retention no longer covers it', async () => {
      await store.insert(everySecond(T0, 120, (i) => i));
      await store.rollup(T0 + 2 * MIN);
      const q = { ...base, series: 'probe_ms' as const, from: T0, to: T0 + 2 * MIN };
      expect((await store.query({ ...q, now: T0 + 10 * MIN })).resolution).toBe('raw');

      const old = await store.query({ ...q, now: T0 + 2 * DAY });
      expect(old.resolution).toBe('1m');
      expect(old.stepMs).toBe(MIN);
      expect(old.members[0]?.points).toEqual([
        [T0, 59],
        [T0 + MIN, 119],
      ]);
    });

    it('treats a range of exactly 6 h as raw and anything longer as rollups', async () => {
      const now = T0 + DAY;
      const exactly = await store.query({ ...base, series: 'probe_ms', from: now - 6 * H, to: now, now });
      expect(exactly.resolution).toBe('raw');
      const longer = await store.query({ ...base, series: 'probe_ms', from: now - 6 * H - 1, to: now, now });
      expect(longer.resolution).toBe('1m');
    });

    it('answers a 24 h query of a dashboard with 20 minutes of history at the resolution of those 20 minutes', async () => {
      const start = T0 + 10 * H;
      await store.insert(everySecond(start, 20 * 60, (i) => i));
      const now = start + 20 * MIN;
      const day = await store.query({ ...base, series: 'probe_ms', from: now - DAY, to: now, maxPoints: 400, now });
      expect(day.dataFrom).toBe(start);
      expect(day.resolution).toBe('raw');
      expect(day.stepMs).toBe(5 * S); // 1,200 s of samples in at most 400 points; not 5 min buckets of the whole day
      expect(day.members[0]!.points.length).toBeGreaterThan(200);
      // With history covering the range, the range is kept.
      const tenMinutes = await store.query({ ...base, series: 'probe_ms', from: now - 10 * MIN, to: now, now });
      expect(tenMinutes.dataFrom).toBe(now - 10 * MIN);
      // And a series with nothing stored keeps the asked range.
      const none = await store.query({ ...base, series: 'wal_fsync_p99_ms', from: now - DAY, to: now, now });
      expect(none.dataFrom).toBe(now - DAY);
      expect(none.members).toEqual([]);
    });

    it('refuses an empty range and a nonsensical point budget', async () => {
      await expect(store.query({ ...base, series: 'probe_ms', from: T0, to: T0 })).rejects.toThrow(RangeError);
      await expect(store.query({ ...base, series: 'probe_ms', from: T0, to: T0 + H, maxPoints: 0 })).rejects.toThrow(
        RangeError,
      );
    });
  });
});
