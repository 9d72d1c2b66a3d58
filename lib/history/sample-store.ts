// Raw samples and their one-minute rollups: writing, rolling up, pruning, and reading them back as chart points, with
// one set of queries on SQLite and PostgreSQL.
import 'server-only';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { StoreSchema } from '@/lib/db/schema';
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
  member_id: string;
  name: string;
  bucket: number;
  value: number;
}

/** Sample rows per INSERT (four values each): well inside both engines' limits on bound parameters. */
const INSERT_CHUNK = 1000;

/**
 * A time bound as a whole number of ms: PostgreSQL takes no fraction for a BIGINT, and a fraction would change what
 * SQLite compares. `at >= from` is `at >= ceil(from)` for whole `at`, `at <= to` is `at <= floor(to)`.
 */
const atLeast = (t: number) => Math.ceil(t);
const atMost = (t: number) => Math.floor(t);

/**
 * `t` bucketed down to a multiple of `step`, in integer arithmetic on both engines: the step is cast to BIGINT
 * (SQLite would divide a bound JS number as REAL; PostgreSQL needs no hint but takes it).
 */
function bucketOf(t: RawBuilder<unknown>, stepMs: number): RawBuilder<number> {
  return sql<number>`(${t} / CAST(${stepMs} AS BIGINT)) * CAST(${stepMs} AS BIGINT)`;
}

/** The members of the query: the cluster's, or one of them. */
function memberFilter(clusterId: string, memberId: string | null): RawBuilder<unknown> {
  return memberId === null
    ? sql`m.cluster_id = ${clusterId}`
    : sql`m.cluster_id = ${clusterId} AND m.member_id = ${memberId}`;
}

interface PointsParams {
  clusterId: string;
  memberId: string | null;
  series: number;
  from: number;
  to: number;
  stepMs: number;
}

// The aggregate is one of two fixed SQL names, never user input. CROSS JOIN keeps members as the outer loop on
// SQLite so each member's samples are read by a primary-key range. Rows come by member row id and bucket; the
// members are put in name order in JS (the engines order text differently).
function rawPoints(agg: Aggregate, p: PointsParams): RawBuilder<PointRow> {
  return sql<PointRow>`
    SELECT m.member_id AS member_id, m.name AS name, ${bucketOf(sql`s.at`, p.stepMs)} AS bucket,
      ${sql.raw(agg)}(s.value) AS value
    FROM members m CROSS JOIN samples s
    WHERE ${memberFilter(p.clusterId, p.memberId)}
      AND s.series = ${p.series} AND s.member = m.id AND s.at >= ${atLeast(p.from)} AND s.at <= ${atMost(p.to)}
    GROUP BY m.id, bucket
    ORDER BY m.id, bucket`;
}

/** Rollups up to the watermark, then the raw samples not yet rolled up, so the newest minutes are not missing. */
function rollupPoints(agg: Aggregate, p: PointsParams & { watermark: number }): RawBuilder<PointRow> {
  const filter = memberFilter(p.clusterId, p.memberId);
  return sql<PointRow>`
    WITH points (member, bucket, value) AS (
      SELECT r.member, ${bucketOf(sql`r.minute`, p.stepMs)}, r.${sql.raw(agg)}
      FROM members m CROSS JOIN rollups_1m r
      WHERE ${filter}
        AND r.series = ${p.series} AND r.member = m.id
        AND r.minute > ${atMost(p.from - MINUTE)} AND r.minute <= ${atMost(p.to)} AND r.minute < ${p.watermark}
      UNION ALL
      SELECT s.member, ${bucketOf(sql`s.at`, p.stepMs)}, s.value
      FROM members m CROSS JOIN samples s
      WHERE ${filter}
        AND s.series = ${p.series} AND s.member = m.id
        AND s.at >= ${atLeast(Math.max(p.from, p.watermark))} AND s.at <= ${atMost(p.to)}
    )
    SELECT m.member_id AS member_id, m.name AS name, p.bucket AS bucket, ${sql.raw(agg)}(p.value) AS value
    FROM points p JOIN members m ON m.id = p.member
    GROUP BY m.id, p.bucket
    ORDER BY m.id, p.bucket`;
}

/** Byte order of the names (what SQLite's ORDER BY gave), then of the member ids. */
function byNameThenId(a: SeriesMemberPoints, b: SeriesMemberPoints): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.memberId !== b.memberId) return a.memberId < b.memberId ? -1 : 1;
  return 0;
}

const seriesCode = (series: SeriesName): number => {
  const code = SERIES_CODES[series] as number | undefined;
  if (code === undefined) throw new RangeError(`series ${JSON.stringify(series)} is unknown`);
  return code;
};

export class SampleStore {
  /** Member row ids by cluster and member id, with the name last written, to skip the upsert per sample. */
  private readonly memberIds = new Map<string, { id: number; name: string }>();

  constructor(private readonly db: Kysely<StoreSchema>) {}

  private async meta(key: string): Promise<number | null> {
    const row = await this.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    return row ? Number(row.value) : null;
  }

  private async memberRowId(clusterId: string, memberId: string, name: string): Promise<number> {
    const key = `${clusterId}\0${memberId}`;
    const cached = this.memberIds.get(key);
    if (cached && cached.name === name) return cached.id;
    const row = await this.db
      .insertInto('members')
      .values({ cluster_id: clusterId, member_id: memberId, name })
      .onConflict((oc) =>
        oc.columns(['cluster_id', 'member_id']).doUpdateSet((eb) => ({ name: eb.ref('excluded.name') })),
      )
      .returning('id')
      .executeTakeFirst();
    if (!row) throw new Error(`member upsert returned no id for ${clusterId}/${memberId}`);
    const id = Number(row.id);
    this.memberIds.set(key, { id, name });
    return id;
  }

  /**
   * Writes the samples; a sample at the same series, member and ms replaces the earlier one. Every row is checked
   * before anything is written (an unknown series writes nothing). The writes are statements one after another,
   * each safe to repeat, ordered so that a batch cut short by the database is whole once written again: the members,
   * then the samples, then the rollup watermark moved back for a late sample.
   */
  async insert(rows: ReadonlyArray<SampleRow>): Promise<void> {
    if (rows.length === 0) return;
    // A missing reading is no sample; NaN would also break the NOT NULL column.
    const valid = rows
      .filter((row) => Number.isFinite(row.value) && Number.isFinite(row.at))
      .map((row) => ({ ...row, code: seriesCode(row.series), at: Math.floor(row.at) }));
    if (valid.length === 0) return;
    const prunedBefore = (await this.meta(RAW_PRUNED_BEFORE)) ?? -Infinity;
    // Its minute's other raw rows are gone, so rolling it up again would replace a full minute with one sample.
    const kept = valid.filter((row) => row.at >= prunedBefore);
    // Each member once (in the order first seen, as ids are given), under the name it has last in the batch.
    const names = new Map<string, { clusterId: string; memberId: string; name: string }>();
    for (const row of kept) {
      const key = `${row.clusterId}\0${row.memberId}`;
      names.set(key, { clusterId: row.clusterId, memberId: row.memberId, name: row.memberName });
    }
    const ids = new Map<string, number>();
    for (const [key, m] of names) ids.set(key, await this.memberRowId(m.clusterId, m.memberId, m.name));
    // The same series, member and ms twice: the later one wins (PostgreSQL will not update a row twice in one
    // statement).
    const byKey = new Map<string, { series: number; member: number; at: number; value: number }>();
    let earliest = Infinity;
    for (const row of kept) {
      const member = ids.get(`${row.clusterId}\0${row.memberId}`)!;
      const key = `${row.code}:${member}:${row.at}`;
      byKey.delete(key);
      byKey.set(key, { series: row.code, member, at: row.at, value: row.value });
      if (row.at < earliest) earliest = row.at;
    }
    const values = [...byKey.values()];
    for (let i = 0; i < values.length; i += INSERT_CHUNK) {
      await this.db
        .insertInto('samples')
        .values(values.slice(i, i + INSERT_CHUNK))
        .onConflict((oc) =>
          oc.columns(['series', 'member', 'at']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
        )
        .execute();
    }
    // A sample for a minute already rolled up (a late write): roll that minute up again on the next rollup. Done after
    // the samples are in, and only ever moving the watermark back, so a rollup running meanwhile cannot miss it.
    if (earliest !== Infinity) {
      const minute = floorTo(earliest, MINUTE);
      await this.db
        .updateTable('meta')
        .set({ value: minute })
        .where('key', '=', WATERMARK)
        .where('value', '>', minute)
        .execute();
    }
  }

  /** Rolls up every complete minute (before the minute `now` is in) not yet rolled up; returns rows written. */
  async rollup(now: number): Promise<number> {
    const end = floorTo(now, MINUTE);
    const watermark = await this.meta(WATERMARK);
    let start = watermark;
    if (start === null) {
      // First rollup: start at the oldest sample. The scan happens once; later rollups start at the watermark.
      const oldest = await this.db
        .selectFrom('samples')
        .select((eb) => eb.fn.min('at').as('oldest'))
        .executeTakeFirst();
      start = floorTo(oldest?.oldest == null ? end : Number(oldest.oldest), MINUTE);
    }
    // A minute whose raw rows were pruned keeps its rollup: a sample that arrived for it after all is not a minute.
    const prunedBefore = await this.meta(RAW_PRUNED_BEFORE);
    const from = prunedBefore === null ? start : Math.max(start, prunedBefore);
    let written = 0;
    if (from < end) {
      // A minute is recomputed whole from its raw rows, so rolling it up again (after a late sample) is correct.
      for (const code of Object.values(SERIES_CODES)) {
        const result = await sql`
          INSERT INTO rollups_1m (series, member, minute, min, max, sum, n)
          SELECT s.series, s.member, (s.at / ${sql.raw(String(MINUTE))}) * ${sql.raw(String(MINUTE))},
            min(s.value), max(s.value), sum(s.value), count(*)
          FROM members m CROSS JOIN samples s
          WHERE s.series = ${code} AND s.member = m.id AND s.at >= ${from} AND s.at < ${end}
          GROUP BY s.series, s.member, s.at / ${sql.raw(String(MINUTE))}
          ON CONFLICT (series, member, minute) DO UPDATE
            SET min = excluded.min, max = excluded.max, sum = excluded.sum, n = excluded.n`.execute(this.db);
        written += Number(result.numAffectedRows ?? 0);
      }
    }
    const next = Math.max(start, end);
    if (watermark === null) {
      await this.db
        .insertInto('meta')
        .values({ key: WATERMARK, value: next })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
    } else if (next !== watermark) {
      // Moved on only from the value read: a late sample that moved it back meanwhile is rolled up next time.
      await this.db
        .updateTable('meta')
        .set({ value: next })
        .where('key', '=', WATERMARK)
        .where('value', '=', watermark)
        .execute();
    }
    return written;
  }

  /**
   * Deletes raw samples older than raw retention and rollups older than rollup retention, in whole minutes.
   * Raw samples not yet rolled up are kept whatever their age, so no minute is lost from the rollups.
   */
  async prune(now: number, opts: RetentionOptions): Promise<{ raw: number; rollups: number }> {
    const watermark = await this.meta(WATERMARK);
    const rawCutoff = watermark === null ? null : Math.min(floorTo(now - opts.rawRetentionMs, MINUTE), watermark);
    const rollupCutoff = floorTo(now - opts.rollupRetentionMs, MINUTE);
    let raw = 0;
    let rollups = 0;
    // `member IN (members)` lets SQLite seek each member's primary-key range instead of scanning the series.
    for (const code of Object.values(SERIES_CODES)) {
      if (rawCutoff !== null) {
        const r = await this.db
          .deleteFrom('samples')
          .where('series', '=', code)
          .where('member', 'in', (eb) => eb.selectFrom('members').select('id'))
          .where('at', '<', rawCutoff)
          .executeTakeFirst();
        raw += Number(r.numDeletedRows);
      }
      const r = await this.db
        .deleteFrom('rollups_1m')
        .where('series', '=', code)
        .where('member', 'in', (eb) => eb.selectFrom('members').select('id'))
        .where('minute', '<', rollupCutoff)
        .executeTakeFirst();
      rollups += Number(r.numDeletedRows);
    }
    if (rawCutoff !== null) {
      // Only ever moved forward.
      await this.db
        .insertInto('meta')
        .values({ key: RAW_PRUNED_BEFORE, value: rawCutoff })
        .onConflict((oc) =>
          oc
            .column('key')
            .doUpdateSet((eb) => ({ value: eb.ref('excluded.value') }))
            .where('meta.value', '<', rawCutoff),
        )
        .execute();
    }
    return { raw, rollups };
  }

  /**
   * The newest value of `series` recorded in the `lookbackMs` up to `at`, the largest across members (their values
   * of a cluster-wide series such as the revision are equal but for a poll's lag); null when none was recorded.
   */
  async latestAt(
    clusterId: string,
    series: SeriesName,
    at: number,
    opts: { lookbackMs: number; rawRetentionMs: number; now?: number },
  ): Promise<number | null> {
    const res = await this.query({
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

  /** The first sample or rollup of the series: one index seek per member and table, not a scan of the series. */
  private async firstAt(clusterId: string, memberId: string | null, series: number): Promise<number | null> {
    const filter = memberFilter(clusterId, memberId);
    const { rows } = await sql<{ first: number | null }>`
      SELECT min(f.first) AS first FROM (
        SELECT (SELECT s.at FROM samples s WHERE s.series = ${series} AND s.member = m.id ORDER BY s.at LIMIT 1) AS first
        FROM members m WHERE ${filter}
        UNION ALL
        SELECT (SELECT r.minute FROM rollups_1m r WHERE r.series = ${series} AND r.member = m.id ORDER BY r.minute LIMIT 1)
        FROM members m WHERE ${filter}
      ) AS f`.execute(this.db);
    const first = rows[0]?.first;
    return first === null || first === undefined ? null : Number(first);
  }

  /**
   * One series of a cluster over [from, to], bucketed so each member has at most maxPoints points. Raw samples
   * serve ranges up to 6 h that raw retention still covers; anything else comes from the 1-minute rollups.
   */
  async query(q: SampleQuery): Promise<SampleQueryResult> {
    const maxPoints = q.maxPoints ?? DEFAULT_MAX_POINTS;
    if (!Number.isInteger(maxPoints) || maxPoints < 1) {
      throw new RangeError(`maxPoints must be a positive integer, not ${maxPoints}`);
    }
    if (!(q.from < q.to)) throw new RangeError(`query range: from (${q.from}) must be before to (${q.to})`);
    const now = q.now ?? Date.now();
    const series = seriesCode(q.series);
    const memberId = q.memberId ?? null;
    // Nothing is stored before the first sample: the range that has data decides the resolution and the step.
    const first = await this.firstAt(q.clusterId, memberId, series);
    const from = first !== null && first > q.from && first < q.to ? first : q.from;
    const rawFrom = Math.max(now - q.rawRetentionMs, (await this.meta(RAW_PRUNED_BEFORE)) ?? -Infinity);
    const resolution = q.to - from <= RAW_MAX_RANGE_MS && from >= rawFrom ? 'raw' : '1m';
    const stepMs = bucketStepMs(from, q.to, maxPoints, resolution === 'raw' ? SECOND : MINUTE);
    const aggregate = SERIES[q.series].aggregate;
    const params = { clusterId: q.clusterId, memberId, series, from, to: q.to, stepMs };
    const points =
      resolution === 'raw'
        ? rawPoints(aggregate, params)
        : rollupPoints(aggregate, { ...params, watermark: (await this.meta(WATERMARK)) ?? 0 });
    const { rows } = await points.execute(this.db);

    const members: SeriesMemberPoints[] = [];
    let current: SeriesMemberPoints | undefined;
    for (const row of rows) {
      if (current?.memberId !== row.member_id) {
        current = { memberId: row.member_id, name: row.name, points: [] };
        members.push(current);
      }
      current.points.push([Number(row.bucket), Number(row.value)]);
    }
    return { resolution, stepMs, dataFrom: from, members: members.sort(byNameThenId) };
  }
}
