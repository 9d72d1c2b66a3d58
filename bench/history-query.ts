// Figure 5, history: a week of samples for a five-member cluster in a temp SQLite file, written, rolled up and pruned
// day by day as the dashboard does with its default retention (raw 24 h, rollups 30 days); then the time of 7 d,
// 24 h, 6 h and 1 h chart queries, and the file's size.
// Run alone with `npx tsx --conditions=react-server bench/history-query.ts [--quick]` (the condition lets
// `server-only` load outside Next); bench/run.ts runs it and writes the numbers to docs/.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../lib/db/database';
import { sqliteStore } from '../lib/db/sqlite-store';
import { SampleStore, type SampleRow } from '../lib/history/sample-store';
import { SERIES_NAMES, type SeriesName } from '../lib/history/series';
import { figureMain } from './lib/results';
import { median, round3, summarize, type Summary } from './lib/stats';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MEMBERS = 5;
const DAYS = 7;
/** The dashboard's defaults (lib/config/load-config.ts). */
const RAW_RETENTION_MS = DAY;
const ROLLUP_RETENTION_MS = 30 * DAY;

/** The series the collector writes at every poll and at every metrics scrape (also seeded by bench/history-page.ts). */
export const EVERY_POLL: SeriesName[] = ['probe_ms', 'db_size_bytes', 'db_in_use_bytes', 'raft_index'];
export const EVERY_SCRAPE: SeriesName[] = [
  'wal_fsync_p99_ms',
  'backend_commit_p99_ms',
  'peer_rtt_p99_ms',
  'leader_changes',
  'proposals_failed',
  'proposals_pending',
];

interface Settings {
  /** Seconds between two samples of a poll series (the collector: 1) and of a metrics series (the collector: 5). */
  pollEverySeconds: number;
  scrapeEverySeconds: number;
  /** Minutes of samples per write transaction (the collector's history recorder: about one). */
  minutesPerTransaction: number;
  queryRuns: number;
}

const FULL: Settings = { pollEverySeconds: 1, scrapeEverySeconds: 5, minutesPerTransaction: 1, queryRuns: 9 };
/**
 * A sample every 15 s, written 10 minutes at a time: a fifteenth of the rows and a tenth of the commits, but every
 * minute still has samples, so the rollups, which the 24 h and 7 d queries read, are as many as in a full run.
 */
const QUICK: Settings = { pollEverySeconds: 15, scrapeEverySeconds: 15, minutesPerTransaction: 10, queryRuns: 5 };

export interface QueryTiming {
  resolution: 'raw' | '1m';
  stepMs: number;
  members: number;
  pointsPerMember: number;
  ms: Summary;
  /** The same query to sub-millisecond precision: these are short. */
  medianMsPrecise: number;
}

export interface HistoryResult {
  settings: Settings;
  data: {
    members: number;
    days: number;
    seriesEveryPoll: SeriesName[];
    seriesEveryScrape: SeriesName[];
    rawRowsWritten: number;
    rawRowsKept: number;
    rollupRows: number;
  };
  write: {
    insertMs: number;
    rowsPerSecond: number;
    /** Rolling up one whole day at once (the first rollup after a restart that long), median of the days. */
    dayRollupMedianMs: number;
    oneMinuteRollupMs: number;
    pruneOneMinuteMs: number;
  };
  size: {
    fileBytes: number;
    freeBytes: number;
    tableBytes: Record<string, number>;
    rawBytesPerRow: number;
    /** Raw samples kept (24 h), per member: the samples table only; rollups are in rollupBytesPerMemberPerDay. */
    bytesPerMemberPerDayRaw: number;
    rollupBytesPerMemberPerDay: number;
  };
  /** One series (probe_ms), every member: one chart. */
  queries: Record<'7d' | '24h' | '6h' | '1h', QueryTiming>;
  /** All ten series one after another: what the history page asks for at that range. */
  allSeries: Record<'7d' | '24h', { series: number; ms: Summary; medianMsPrecise: number }>;
  /**
   * The 1 h page's requests with the API's JSON encoding: at the store's default of 1,000 points a member and at the
   * 400 the charts ask for since they fit the data (lib/history/chart-model.ts, CHART_MAX_POINTS).
   */
  page1h?: Record<'points1000' | 'points400', PageTiming>;
}

export interface PageTiming {
  series: number;
  maxPoints: number;
  /** JSON bytes of all the answers together. */
  bytes: number;
  ms: Summary;
  medianMsPrecise: number;
}

/** Deterministic noise, so every run stores the same bytes. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = mulberry32(42);

/** Values shaped like the collector's: fractional latencies, whole-byte sizes, a climbing raft index. */
function value(series: SeriesName, member: number, t: number, start: number): number {
  const elapsedS = (t - start) / SECOND;
  switch (series) {
    case 'probe_ms':
      return round3(0.8 + random() * 3 + (random() < 0.01 ? random() * 50 : 0));
    case 'db_size_bytes':
      return 200 * 1024 * 1024 + Math.floor(elapsedS / 60) * 4096;
    case 'db_in_use_bytes':
      return 150 * 1024 * 1024 + Math.floor(elapsedS / 60) * 4096 - Math.floor(random() * 1000) * 16;
    case 'raft_index':
      return 1_000_000 + Math.floor(elapsedS * 20) + member;
    case 'revision':
      return 800_000 + Math.floor(elapsedS * 15);
    case 'wal_fsync_p99_ms':
    case 'backend_commit_p99_ms':
      return round3(1 + random() * 8);
    case 'peer_rtt_p99_ms':
      return round3(0.2 + random() * 2);
    case 'leader_changes':
    case 'proposals_failed':
      return random() < 0.0005 ? 1 : 0;
    case 'proposals_pending':
      return Math.floor(random() * 3);
  }
}

const ms2 = (t: number) => Math.round(t * 100) / 100;

function log(line: string): void {
  console.log(`history: ${line}`);
}

export async function runHistory(quick = false): Promise<HistoryResult> {
  const settings = quick ? QUICK : FULL;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'history-bench-'));
  const file = path.join(dir, 'history.db');
  try {
    const db = openDatabase(file);
    const store = new SampleStore(sqliteStore(db));
    const end = Math.floor(Date.now() / MINUTE) * MINUTE;
    const start = end - DAYS * DAY;
    const members = Array.from({ length: MEMBERS }, (_, i) => ({
      id: (0x8e9e05c52164694dn + BigInt(i)).toString(16),
      name: `etcd-${i + 1}`,
    }));
    const rowsFor = (t: number): SampleRow[] => {
      const s = t / SECOND;
      const series = [
        ...(s % settings.pollEverySeconds === 0 ? EVERY_POLL : []),
        ...(s % settings.scrapeEverySeconds === 0 ? EVERY_SCRAPE : []),
      ];
      return members.flatMap((m, i) =>
        series.map((name) => ({
          clusterId: 'bench',
          memberId: m.id,
          memberName: m.name,
          series: name,
          at: t,
          value: value(name, i, t, start),
        })),
      );
    };

    // One transaction per minute of data, in time order, as a collector flushing once a minute would write; at the
    // end of each day the rollup and the prune the dashboard runs once a minute, for the whole day at once.
    const chunk = settings.minutesPerTransaction * MINUTE;
    let rows = 0;
    let insertMs = 0;
    const dayRollups: number[] = [];
    for (let day = 0; day < DAYS; day++) {
      const dayStart = start + day * DAY;
      const t0 = performance.now();
      for (let from = dayStart; from < dayStart + DAY; from += chunk) {
        const batch: SampleRow[] = [];
        for (let t = from; t < from + chunk; t += SECOND) batch.push(...rowsFor(t));
        await store.insert(batch);
        rows += batch.length;
      }
      insertMs += performance.now() - t0;
      const r0 = performance.now();
      await store.rollup(dayStart + DAY);
      dayRollups.push(performance.now() - r0);
      await store.prune(dayStart + DAY, { rawRetentionMs: RAW_RETENTION_MS, rollupRetentionMs: ROLLUP_RETENTION_MS });
      log(`day ${day + 1} of ${DAYS} written (${rows} raw rows so far)`);
    }

    const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    const rawRowsKept = count('samples');
    const rollupRows = count('rollups_1m');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const fileBytes = statSync(file).size;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const freeBytes = (db.pragma('freelist_count', { simple: true }) as number) * pageSize;
    const tableBytes = Object.fromEntries(
      (
        db
          .prepare(
            `SELECT name, sum(pgsize) AS bytes FROM dbstat
             WHERE name IN ('samples', 'rollups_1m', 'members', 'meta', 'events') GROUP BY name`,
          )
          .all() as Array<{ name: string; bytes: number }>
      ).map((r) => [r.name, r.bytes]),
    );

    const query = (series: SeriesName, rangeMs: number, maxPoints?: number) =>
      store.query({
        clusterId: 'bench',
        series,
        from: end - rangeMs,
        to: end,
        rawRetentionMs: RAW_RETENTION_MS,
        now: end,
        ...(maxPoints !== undefined ? { maxPoints } : {}),
      });
    const timeRuns = async (run: () => Promise<unknown>) => {
      await run(); // warm-up: the pages it reads are in SQLite's cache and the OS's for the timed runs
      const times: number[] = [];
      for (let i = 0; i < settings.queryRuns; i++) {
        const t0 = performance.now();
        await run();
        times.push(performance.now() - t0);
      }
      const summary = summarize(times);
      if (!summary) throw new Error('no query runs');
      return { ms: summary, medianMsPrecise: ms2(median(times)) };
    };
    const timeQuery = async (rangeMs: number): Promise<QueryTiming> => {
      const first = await query('probe_ms', rangeMs);
      return {
        resolution: first.resolution,
        stepMs: first.stepMs,
        members: first.members.length,
        pointsPerMember: Math.max(...first.members.map((m) => m.points.length)),
        ...(await timeRuns(() => query('probe_ms', rangeMs))),
      };
    };
    const timeAll = async (rangeMs: number) => ({
      series: SERIES_NAMES.length,
      ...(await timeRuns(async () => {
        for (const s of SERIES_NAMES) await query(s, rangeMs);
      })),
    });
    const queries = {
      '7d': await timeQuery(DAYS * DAY),
      '24h': await timeQuery(DAY),
      '6h': await timeQuery(6 * HOUR),
      '1h': await timeQuery(HOUR),
    };
    const allSeries = { '7d': await timeAll(DAYS * DAY), '24h': await timeAll(DAY) };
    const timePage = async (maxPoints: number): Promise<PageTiming> => {
      let bytes = 0;
      for (const s of SERIES_NAMES) bytes += JSON.stringify(await query(s, HOUR, maxPoints)).length;
      return {
        series: SERIES_NAMES.length,
        maxPoints,
        bytes,
        ...(await timeRuns(async () => {
          for (const s of SERIES_NAMES) JSON.stringify(await query(s, HOUR, maxPoints));
        })),
      };
    };
    const page1h = { points1000: await timePage(1000), points400: await timePage(400) };
    log(
      `7 d query ${queries['7d'].medianMsPrecise} ms, 24 h ${queries['24h'].medianMsPrecise} ms (medians of ${settings.queryRuns})`,
    );

    // Steady state: one more minute written, then the once-a-minute rollup and a prune of the oldest minute.
    const nextBatch: SampleRow[] = [];
    for (let t = end; t < end + MINUTE; t += SECOND) nextBatch.push(...rowsFor(t));
    await store.insert(nextBatch);
    const minuteRollupStart = performance.now();
    await store.rollup(end + MINUTE);
    const minuteRollupMs = performance.now() - minuteRollupStart;
    const pruneStart = performance.now();
    await store.prune(end + MINUTE, { rawRetentionMs: RAW_RETENTION_MS, rollupRetentionMs: ROLLUP_RETENTION_MS });
    const pruneMs = performance.now() - pruneStart;
    db.close();

    const rawBytes = tableBytes.samples ?? 0;
    return {
      settings,
      data: {
        members: MEMBERS,
        days: DAYS,
        seriesEveryPoll: EVERY_POLL,
        seriesEveryScrape: EVERY_SCRAPE,
        rawRowsWritten: rows,
        rawRowsKept,
        rollupRows,
      },
      write: {
        insertMs: Math.round(insertMs),
        rowsPerSecond: Math.round(rows / (insertMs / SECOND)),
        dayRollupMedianMs: Math.round(median(dayRollups)),
        oneMinuteRollupMs: ms2(minuteRollupMs),
        pruneOneMinuteMs: ms2(pruneMs),
      },
      size: {
        fileBytes,
        freeBytes,
        tableBytes,
        rawBytesPerRow: Math.round((rawBytes / rawRowsKept) * 10) / 10,
        bytesPerMemberPerDayRaw: Math.round(rawBytes / MEMBERS),
        rollupBytesPerMemberPerDay: Math.round((tableBytes.rollups_1m ?? 0) / MEMBERS / DAYS),
      },
      queries,
      allSeries,
      page1h,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  figureMain('history', ({ quick }) => runHistory(quick));
}
