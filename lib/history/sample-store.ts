// Raw samples and their one-minute rollups: writing, rolling up, pruning, and reading them back as chart points.
import 'server-only';
import type Database from 'better-sqlite3';
import { SERIES, type SeriesMemberPoints, type SeriesName } from './series';
import { SERIES_CODES } from './series-codes';

export interface SampleRow {
  clusterId: string;
  memberId: string;
  memberName: string;
  series: SeriesName;
  /** Epoch ms. */
  at: number;
  value: number;
}

export interface SampleQuery {
  clusterId: string;
  series: SeriesName;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, inclusive. */
  to: number;
  memberId?: string;
  /** Most points per member; default 1000. */
  maxPoints?: number;
  rawRetentionMs: number;
  /** Epoch ms that raw retention counts back from; default Date.now(). */
  now?: number;
}

export interface SampleQueryResult {
  resolution: 'raw' | '1m';
  stepMs: number;
  /**
   * Epoch ms the answer starts at: the query's `from`, or the series' first stored sample when that is later (a
   * dashboard installed an hour ago answers a 24 h query at the resolution of its one hour).
   */
  dataFrom: number;
  members: SeriesMemberPoints[];
}

export interface RetentionOptions {
  rawRetentionMs: number;
  rollupRetentionMs: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Longer ranges are read from rollups even while raw samples still cover them. */
export const RAW_MAX_RANGE_MS = 6 * HOUR;
export const DEFAULT_MAX_POINTS = 1000;

const ROUND_STEPS_MS = [
  SECOND,
  5 * SECOND,
  10 * SECOND,
  30 * SECOND,
  MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  30 * MINUTE,
  HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
];

/** First minute not yet rolled up (epoch ms). */
const WATERMARK = 'rollup_watermark';
/** Raw samples before this (epoch ms) have been pruned; later arrivals that old are dropped. */
const RAW_PRUNED_BEFORE = 'raw_pruned_before';

const floorTo = (t: number, step: number) => Math.floor(t / step) * step;

/** Epoch-aligned buckets of `stepMs` that [from, to] touches. */
function bucketCount(from: number, to: number, stepMs: number): number {
  return Math.floor(to / stepMs) - Math.floor(from / stepMs) + 1;
}

/**
 * The smallest round width, at least `minStepMs`, whose epoch-aligned buckets over [from, to] number at most
 * `maxPoints`; aligned to the epoch so a refreshed chart keeps its buckets.
 */
export function bucketStepMs(from: number, to: number, maxPoints: number, minStepMs = SECOND): number {
  for (const step of ROUND_STEPS_MS) {
    if (step >= minStepMs && bucketCount(from, to, step) <= maxPoints) return step;
  }
  let days = 2;
  while (bucketCount(from, to, days * DAY) > maxPoints) days *= 2;
  return days * DAY;
}

type Aggregate = (typeof SERIES)[SeriesName]['aggregate'];

interface PointRow {
  memberId: string;
  name: string;
  bucket: number;
  value: number;
}

const MEMBER_FILTER = '(:member IS NULL OR m.member_id = :member)';

// The aggregate is one of two fixed SQL names, never user input. CROSS JOIN keeps members as the outer loop so
// each member's samples are read by a primary-key range.
function rawPointsSql(agg: Aggregate): string {
  return `
    SELECT m.member_id AS memberId, m.name AS name, (s.at / :step) * :step AS bucket, ${agg}(s.value) AS value
    FROM members m CROSS JOIN samples s
    WHERE m.cluster_id = :cluster AND ${MEMBER_FILTER}
      AND s.series = :series AND s.member = m.id AND s.at >= :from AND s.at <= :to
    GROUP BY m.id, bucket
    ORDER BY m.name, m.member_id, bucket`;
}

/** Rollups up to the watermark, then the raw samples not yet rolled up, so the newest minutes are not missing. */
function rollupPointsSql(agg: Aggregate): string {
  return `
    WITH points (member, bucket, value) AS (
      SELECT r.member, (r.minute / :step) * :step, r.${agg}
      FROM members m CROSS JOIN rollups_1m r
      WHERE m.cluster_id = :cluster AND ${MEMBER_FILTER}
        AND r.series = :series AND r.member = m.id
        AND r.minute > :from - ${MINUTE} AND r.minute <= :to AND r.minute < :watermark
      UNION ALL
      SELECT s.member, (s.at / :step) * :step, s.value
      FROM members m CROSS JOIN samples s
      WHERE m.cluster_id = :cluster AND ${MEMBER_FILTER}
        AND s.series = :series AND s.member = m.id AND s.at >= max(:from, :watermark) AND s.at <= :to
    )
    SELECT m.member_id AS memberId, m.name AS name, p.bucket AS bucket, ${agg}(p.value) AS value
    FROM points p JOIN members m ON m.id = p.member
    GROUP BY p.member, p.bucket
    ORDER BY m.name, m.member_id, p.bucket`;
}

export class SampleStore {
  /** Member row ids by cluster and member id, with the name last written, to skip the upsert per sample. */
  private readonly memberIds = new Map<string, { id: number; name: string }>();
  private readonly upsertMember: Database.Statement<[string, string, string], { id: number }>;
  private readonly insertSample: Database.Statement<[number, number, number, number]>;
  private readonly getMeta: Database.Statement<[string], number>;
  private readonly setMeta: Database.Statement<[string, number]>;
  private readonly rollupSeries: Database.Statement<[number, number, number]>;
  private readonly pruneRaw: Database.Statement<[number, number]>;
  private readonly pruneRollups: Database.Statement<[number, number]>;
  private readonly points: Record<'raw' | '1m', Record<Aggregate, Database.Statement<[object], PointRow>>>;
  private readonly firstAt: Database.Statement<[object], number | null>;

  constructor(private readonly db: Database.Database) {
    this.upsertMember = db.prepare(
      `INSERT INTO members (cluster_id, member_id, name) VALUES (?, ?, ?)
       ON CONFLICT (cluster_id, member_id) DO UPDATE SET name = excluded.name
       RETURNING id`,
    );
    this.insertSample = db.prepare('INSERT OR REPLACE INTO samples (series, member, at, value) VALUES (?, ?, ?, ?)');
    this.getMeta = db.prepare<[string], number>('SELECT value FROM meta WHERE key = ?').pluck();
    this.setMeta = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    // A minute is recomputed whole from its raw rows, so rolling it up again (after a late sample) is correct.
    this.rollupSeries = db.prepare(
      `INSERT INTO rollups_1m (series, member, minute, min, max, sum, n)
       SELECT s.series, s.member, (s.at / ${MINUTE}) * ${MINUTE}, min(s.value), max(s.value), sum(s.value), count(*)
       FROM members m CROSS JOIN samples s
       WHERE s.series = ? AND s.member = m.id AND s.at >= ? AND s.at < ?
       GROUP BY s.member, s.at / ${MINUTE}
       ON CONFLICT (series, member, minute) DO UPDATE
         SET min = excluded.min, max = excluded.max, sum = excluded.sum, n = excluded.n`,
    );
    this.pruneRaw = db.prepare(
      'DELETE FROM samples WHERE series = ? AND member IN (SELECT id FROM members) AND at < ?',
    );
    this.pruneRollups = db.prepare(
      'DELETE FROM rollups_1m WHERE series = ? AND member IN (SELECT id FROM members) AND minute < ?',
    );
    // One index seek per member and table (the first row of its primary-key range), not a scan of the series.
    this.firstAt = db
      .prepare<[object], number | null>(
        `SELECT min(first) FROM (
           SELECT (SELECT s.at FROM samples s WHERE s.series = :series AND s.member = m.id ORDER BY s.at LIMIT 1) AS first
           FROM members m WHERE m.cluster_id = :cluster AND ${MEMBER_FILTER}
           UNION ALL
           SELECT (SELECT r.minute FROM rollups_1m r WHERE r.series = :series AND r.member = m.id ORDER BY r.minute LIMIT 1)
           FROM members m WHERE m.cluster_id = :cluster AND ${MEMBER_FILTER}
         )`,
      )
      .pluck();
    this.points = {
      raw: { max: db.prepare(rawPointsSql('max')), sum: db.prepare(rawPointsSql('sum')) },
      '1m': { max: db.prepare(rollupPointsSql('max')), sum: db.prepare(rollupPointsSql('sum')) },
    };
  }

  private meta(key: string): number | null {
    return this.getMeta.get(key) ?? null;
  }

  private memberRowId(clusterId: string, memberId: string, name: string): number {
    const key = `${clusterId}\0${memberId}`;
    const cached = this.memberIds.get(key);
    if (cached && cached.name === name) return cached.id;
    const row = this.upsertMember.get(clusterId, memberId, name);
    if (!row) throw new Error(`member upsert returned no id for ${clusterId}/${memberId}`);
    this.memberIds.set(key, { id: row.id, name });
    return row.id;
  }

  private readonly insertAll = (rows: readonly SampleRow[]): void => {
    const prunedBefore = this.meta(RAW_PRUNED_BEFORE) ?? -Infinity;
    const watermark = this.meta(WATERMARK);
    let earliest = Infinity;
    for (const row of rows) {
      // A missing reading is no sample; NaN would also break the NOT NULL column and lose the whole batch.
      if (!Number.isFinite(row.value) || !Number.isFinite(row.at)) continue;
      const at = Math.floor(row.at);
      // Its minute's other raw rows are gone, so rolling it up again would replace a full minute with one sample.
      if (at < prunedBefore) continue;
      const member = this.memberRowId(row.clusterId, row.memberId, row.memberName);
      this.insertSample.run(SERIES_CODES[row.series], member, at, row.value);
      if (at < earliest) earliest = at;
    }
    // A sample for a minute already rolled up (a late write): roll that minute up again on the next rollup.
    if (watermark !== null && earliest < watermark) this.setMeta.run(WATERMARK, floorTo(earliest, MINUTE));
  };

  /** Writes the samples in one transaction; a sample at the same series, member and ms replaces the earlier one. */
  insert(rows: ReadonlyArray<SampleRow>): void {
    if (rows.length === 0) return;
    try {
      this.db.transaction(this.insertAll)(rows);
    } catch (err) {
      // Member ids cached during the rolled-back transaction may not exist.
      this.memberIds.clear();
      throw err;
    }
  }

  /** Rolls up every complete minute (before the minute `now` is in) not yet rolled up; returns rows written. */
  rollup(now: number): number {
    return this.db.transaction(() => {
      const end = floorTo(now, MINUTE);
      const watermark = this.meta(WATERMARK);
      let start = watermark;
      if (start === null) {
        // First rollup: start at the oldest sample. The scan happens once; later rollups start at the watermark.
        const oldest = this.db.prepare<[], number | null>('SELECT min(at) FROM samples').pluck().get() ?? null;
        start = floorTo(oldest ?? end, MINUTE);
      }
      let written = 0;
      if (start < end) {
        for (const code of Object.values(SERIES_CODES)) written += this.rollupSeries.run(code, start, end).changes;
      }
      const next = Math.max(start, end);
      if (next !== watermark) this.setMeta.run(WATERMARK, next);
      return written;
    })();
  }

  /**
   * Deletes raw samples older than raw retention and rollups older than rollup retention, in whole minutes.
   * Raw samples not yet rolled up are kept whatever their age, so no minute is lost from the rollups.
   */
  prune(now: number, opts: RetentionOptions): { raw: number; rollups: number } {
    return this.db.transaction(() => {
      const watermark = this.meta(WATERMARK);
      const rawCutoff = watermark === null ? null : Math.min(floorTo(now - opts.rawRetentionMs, MINUTE), watermark);
      const rollupCutoff = floorTo(now - opts.rollupRetentionMs, MINUTE);
      let raw = 0;
      let rollups = 0;
      for (const code of Object.values(SERIES_CODES)) {
        if (rawCutoff !== null) raw += this.pruneRaw.run(code, rawCutoff).changes;
        rollups += this.pruneRollups.run(code, rollupCutoff).changes;
      }
      if (rawCutoff !== null && rawCutoff > (this.meta(RAW_PRUNED_BEFORE) ?? -Infinity)) {
        this.setMeta.run(RAW_PRUNED_BEFORE, rawCutoff);
      }
      return { raw, rollups };
    })();
  }

  /**
   * One series of a cluster over [from, to], bucketed so each member has at most maxPoints points. Raw samples
   * serve ranges up to 6 h that raw retention still covers; anything else comes from the 1-minute rollups.
   */
  /**
   * The newest value of `series` recorded in the `lookbackMs` up to `at`, the largest across members (their values
   * of a cluster-wide series such as the revision are equal but for a poll's lag); null when none was recorded.
   */
  latestAt(
    clusterId: string,
    series: SeriesName,
    at: number,
    opts: { lookbackMs: number; rawRetentionMs: number; now?: number },
  ): number | null {
    const res = this.query({
      clusterId,
      series,
      from: at - opts.lookbackMs,
      to: at,
      rawRetentionMs: opts.rawRetentionMs,
      ...(opts.now !== undefined ? { now: opts.now } : {}),
    });
    const last = res.members.map((m) => m.points.at(-1)?.[1]).filter((v): v is number => v !== undefined);
    return last.length > 0 ? Math.max(...last) : null;
  }

  query(q: SampleQuery): SampleQueryResult {
    const maxPoints = q.maxPoints ?? DEFAULT_MAX_POINTS;
    if (!Number.isInteger(maxPoints) || maxPoints < 1) {
      throw new RangeError(`maxPoints must be a positive integer, not ${maxPoints}`);
    }
    if (!(q.from < q.to)) throw new RangeError(`query range: from (${q.from}) must be before to (${q.to})`);
    const now = q.now ?? Date.now();
    const cluster = { cluster: q.clusterId, member: q.memberId ?? null, series: SERIES_CODES[q.series] };
    // Nothing is stored before the first sample: the range that has data decides the resolution and the step.
    const first = this.firstAt.get(cluster) ?? null;
    const from = first !== null && first > q.from && first < q.to ? first : q.from;
    const rawFrom = Math.max(now - q.rawRetentionMs, this.meta(RAW_PRUNED_BEFORE) ?? -Infinity);
    const resolution = q.to - from <= RAW_MAX_RANGE_MS && from >= rawFrom ? 'raw' : '1m';
    const stepMs = bucketStepMs(from, q.to, maxPoints, resolution === 'raw' ? SECOND : MINUTE);
    const aggregate = SERIES[q.series].aggregate;
    const params = {
      ...cluster,
      from,
      to: q.to,
      // Bound as an integer so `at / step` divides as integers (better-sqlite3 binds numbers as REAL).
      step: BigInt(stepMs),
      ...(resolution === '1m' ? { watermark: this.meta(WATERMARK) ?? 0 } : {}),
    };

    const members: SeriesMemberPoints[] = [];
    let current: SeriesMemberPoints | undefined;
    for (const row of this.points[resolution][aggregate].iterate(params)) {
      if (current?.memberId !== row.memberId) {
        current = { memberId: row.memberId, name: row.name, points: [] };
        members.push(current);
      }
      current.points.push([row.bucket, row.value]);
    }
    return { resolution, stepMs, dataFrom: from, members };
  }
}
