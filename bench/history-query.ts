// History store benchmark: a day of one-second samples for a five-member cluster in a temp SQLite file, then the
// time of 24 h and 1 h chart queries and the file's size per member per day. Writes bench/results/history.json.
// Run: npx tsx --conditions=react-server bench/history-query.ts (the condition lets `server-only` load outside Next).
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../lib/db/database';
import { SampleStore, type SampleRow } from '../lib/history/sample-store';
import type { SeriesName } from '../lib/history/series';

const ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(ROOT, 'bench', 'results', 'history.json');

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MEMBERS = 5;
const QUERY_RUNS = 9;
const RAW_RETENTION_MS = DAY;

const EVERY_SECOND: SeriesName[] = ['probe_ms', 'db_size_bytes', 'db_in_use_bytes', 'raft_index'];
const EVERY_FIVE_SECONDS: SeriesName[] = [
  'wal_fsync_p99_ms',
  'backend_commit_p99_ms',
  'peer_rtt_p99_ms',
  'leader_changes',
  'proposals_failed',
  'proposals_pending',
];

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
const round3 = (x: number) => Math.round(x * 1000) / 1000;

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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const v = sorted.length % 2 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return v ?? Number.NaN;
}

const ms = (t: number) => Math.round(t * 100) / 100;

function main(): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'history-bench-'));
  const file = path.join(dir, 'history.db');
  const loadAtStart = os.loadavg();
  try {
    const db = openDatabase(file);
    const store = new SampleStore(db);
    const end = Math.floor(Date.now() / MINUTE) * MINUTE;
    const start = end - DAY;
    const members = Array.from({ length: MEMBERS }, (_, i) => ({
      id: (0x8e9e05c52164694dn + BigInt(i)).toString(16),
      name: `etcd-${i + 1}`,
    }));

    // One transaction per minute of data, in time order, as a collector flushing once a minute would write.
    let rows = 0;
    const insertStart = performance.now();
    for (let minute = start; minute < end; minute += MINUTE) {
      const batch: SampleRow[] = [];
      for (let t = minute; t < minute + MINUTE; t += SECOND) {
        const fiveSecond = (t / SECOND) % 5 === 0;
        members.forEach((m, i) => {
          for (const series of fiveSecond ? [...EVERY_SECOND, ...EVERY_FIVE_SECONDS] : EVERY_SECOND) {
            batch.push({
              clusterId: 'bench',
              memberId: m.id,
              memberName: m.name,
              series,
              at: t,
              value: value(series, i, t, start),
            });
          }
        });
      }
      store.insert(batch);
      rows += batch.length;
    }
    const insertMs = performance.now() - insertStart;

    const rollupStart = performance.now();
    const rollupRows = store.rollup(end);
    const rollupMs = performance.now() - rollupStart;

    db.pragma('wal_checkpoint(TRUNCATE)');
    const fileBytes = statSync(file).size;
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

    const timeQuery = (rangeMs: number) => {
      const q = {
        clusterId: 'bench',
        series: 'probe_ms' as const,
        from: end - rangeMs,
        to: end,
        rawRetentionMs: RAW_RETENTION_MS,
        now: end,
      };
      const first = store.query(q); // warm-up, and the shape of the answer
      const times: number[] = [];
      for (let i = 0; i < QUERY_RUNS; i++) {
        const t0 = performance.now();
        store.query(q);
        times.push(performance.now() - t0);
      }
      return {
        resolution: first.resolution,
        stepMs: first.stepMs,
        members: first.members.length,
        pointsPerMember: Math.max(...first.members.map((m) => m.points.length)),
        runs: QUERY_RUNS,
        medianMs: ms(median(times)),
        minMs: ms(Math.min(...times)),
        maxMs: ms(Math.max(...times)),
      };
    };
    const queries = { '24h': timeQuery(DAY), '6h': timeQuery(6 * HOUR), '1h': timeQuery(HOUR) };

    // Steady state: one more minute written, then the once-a-minute rollup and a prune of the oldest minute.
    const nextBatch: SampleRow[] = [];
    for (let t = end; t < end + MINUTE; t += SECOND) {
      members.forEach((m, i) => {
        for (const series of EVERY_SECOND) {
          nextBatch.push({
            clusterId: 'bench',
            memberId: m.id,
            memberName: m.name,
            series,
            at: t,
            value: value(series, i, t, start),
          });
        }
      });
    }
    store.insert(nextBatch);
    const minuteRollupStart = performance.now();
    store.rollup(end + MINUTE);
    const minuteRollupMs = performance.now() - minuteRollupStart;
    const pruneStart = performance.now();
    const pruned = store.prune(end + MINUTE, { rawRetentionMs: RAW_RETENTION_MS, rollupRetentionMs: 30 * DAY });
    const pruneMs = performance.now() - pruneStart;
    const sqlite = db.prepare('SELECT sqlite_version()').pluck().get() as string;
    db.close();

    const result = {
      machine: {
        date: new Date().toISOString(),
        os: `${os.type()} ${os.release()} (${os.arch()})`,
        cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
        cpuCount: os.cpus().length,
        node: process.version,
        sqlite,
        loadAverageAtStart: loadAtStart.map((x) => Math.round(x * 100) / 100),
        loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
      },
      data: {
        members: MEMBERS,
        hours: 24,
        seriesEverySecond: EVERY_SECOND,
        seriesEveryFiveSeconds: EVERY_FIVE_SECONDS,
        rawRows: rows,
        rollupRows,
      },
      write: {
        insertMs: Math.round(insertMs),
        rowsPerSecond: Math.round(rows / (insertMs / SECOND)),
        firstRollupOfTheDayMs: Math.round(rollupMs),
        oneMinuteRollupMs: ms(minuteRollupMs),
        pruneOneMinuteMs: ms(pruneMs),
        prunedRows: pruned,
      },
      size: {
        fileBytes,
        bytesPerMemberPerDay: Math.round(fileBytes / MEMBERS),
        tableBytes,
        rawBytesPerRow: Math.round(((tableBytes.samples ?? 0) / rows) * 10) / 10,
      },
      queries,
    };
    mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
    writeFileSync(RESULTS_FILE, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
