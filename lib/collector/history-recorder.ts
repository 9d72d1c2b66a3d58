// Writes what the collector sees into the history store: per-poll samples, metric-derived samples, events. The
// collector records on every poll and never waits on the database: rows are queued and written in order a moment
// later, held in memory while the database refuses writes (PostgreSQL down) and written when it answers again.
import 'server-only';
import type { Observation } from '@/lib/cluster/status-types';
import { refusedForGood } from '@/lib/db/refusals';
import { eventRow, type ClusterEventRow, type EventStore } from '@/lib/history/event-store';
import type { SampleRow, SampleStore } from '@/lib/history/sample-store';
import type { ClusterEvent } from '@/lib/history/series';
import type { EtcdMetricsSample } from '@/lib/metrics/etcd-metrics';

/** Whether the history is being written; when not, since when, why, and how many rows wait in memory. */
export type HistoryAvailability =
  | { ok: true }
  | {
      ok: false;
      /** Epoch ms of the first refused write. */
      since: number;
      /** The database's error, its first line. */
      reason: string;
      /** Sample rows and events held in memory, not yet stored. */
      pending: number;
    };

/** Sample rows held while the database refuses writes; past this the oldest are dropped (and counted). */
export const MAX_PENDING_SAMPLES = 50_000;
/** Sample rows written in one call of the store (idempotent upserts: a batch cut short is whole once written again). */
const WRITE_BATCH = 5_000;
/** Events written in one call: one statement (the store's chunk), so a failed write leaves none of them to repeat. */
const EVENT_BATCH = 1_000;
const RETRY_MS = { first: 500, max: 30_000 };

type Item =
  | { kind: 'samples'; rows: SampleRow[] }
  | { kind: 'events'; rows: ClusterEventRow[] }
  // Work on the stored history that must not interleave with the writes (the rollup): run in the queue's order.
  | { kind: 'task'; rows: []; run: () => Promise<unknown>; settle: (err: unknown) => void };

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

export class HistoryRecorder {
  /** What is recorded and not yet stored, oldest first; a write in progress is not in it (see `writing`). */
  private readonly queue: Item[] = [];
  /** The batch being written: put back at the head of the queue when the write fails. */
  private writing: Item | null = null;
  /** Sample rows in `queue` and `writing`. */
  private sampleCount = 0;
  private eventCount = 0;
  private dropped = 0;
  private draining = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MS.first;
  private failure: { since: number; reason: string } | null = null;
  private waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private readonly maxPendingSamples: number;

  constructor(
    readonly samples: SampleStore,
    readonly events: EventStore,
    opts: { maxPendingSamples?: number } = {},
  ) {
    this.maxPendingSamples = opts.maxPendingSamples ?? MAX_PENDING_SAMPLES;
  }

  recordPoll(clusterId: string, obs: Observation, at: number): void {
    const rows: SampleRow[] = [];
    for (const m of obs.members) {
      if (!m.id) continue;
      const base = { clusterId, memberId: m.id, memberName: m.name, at };
      if (m.probeMs !== null) rows.push({ ...base, series: 'probe_ms', value: m.probeMs });
      if (m.status) {
        rows.push({ ...base, series: 'db_size_bytes', value: m.status.dbSize });
        rows.push({ ...base, series: 'db_in_use_bytes', value: m.status.dbSizeInUse });
        rows.push({ ...base, series: 'raft_index', value: m.status.raftIndex });
        if (m.status.revision !== undefined) rows.push({ ...base, series: 'revision', value: m.status.revision });
      }
    }
    this.recordSamples(rows);
  }

  recordMetrics(clusterId: string, member: { id: string; name: string }, sample: EtcdMetricsSample, at: number): void {
    const base = { clusterId, memberId: member.id, memberName: member.name, at };
    const rows: SampleRow[] = [];
    const add = (series: SampleRow['series'], value: number | null) => {
      if (value !== null && Number.isFinite(value)) rows.push({ ...base, series, value });
    };
    add('wal_fsync_p99_ms', sample.walFsyncP99Ms);
    add('backend_commit_p99_ms', sample.backendCommitP99Ms);
    add('peer_rtt_p99_ms', sample.worstPeerRttP99Ms);
    add('leader_changes', sample.leaderChanges);
    add('proposals_failed', sample.proposalsFailed);
    add('proposals_pending', sample.proposalsPending);
    this.recordSamples(rows);
  }

  /** Events are few and are never dropped; one whose time is not a time is refused here (RangeError), not queued. */
  recordEvents(clusterId: string, events: ClusterEvent[]): void {
    if (events.length === 0) return;
    for (const event of events) eventRow(clusterId, event);
    this.enqueue({ kind: 'events', rows: events.map((event) => ({ clusterId, event })) });
  }

  private recordSamples(rows: SampleRow[]): void {
    if (rows.length === 0) return;
    this.enqueue({ kind: 'samples', rows });
    this.dropOldestSamples();
  }

  private enqueue(item: Item): void {
    const last = this.queue.at(-1);
    // Consecutive items of a kind go out as one write, up to a batch.
    const batch = item.kind === 'events' ? EVENT_BATCH : WRITE_BATCH;
    if (item.kind !== 'task' && last && last.kind === item.kind && last.rows.length + item.rows.length <= batch) {
      (last.rows as unknown[]).push(...item.rows);
    } else {
      this.queue.push(item);
    }
    if (item.kind === 'samples') this.sampleCount += item.rows.length;
    else if (item.kind === 'events') this.eventCount += item.rows.length;
    this.drainSoon();
  }

  /**
   * Runs `task` between the writes queued before it and those queued after, never beside one: the rollup, so that a
   * sample written while it runs cannot fall between its reading of a minute and its moving the watermark past it.
   * A failed task is not retried here (the next housekeeping run asks again).
   */
  serialize<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let result: T;
      this.enqueue({
        kind: 'task',
        rows: [],
        run: async () => {
          result = await task();
        },
        settle: (err) => (err === null ? resolve(result) : reject(err)),
      });
    });
  }

  /** Past the bound, the oldest queued sample rows go (a batch being written stays until its write settles). */
  private dropOldestSamples(): void {
    let excess = this.sampleCount - this.maxPendingSamples;
    for (let i = 0; excess > 0 && i < this.queue.length;) {
      const item = this.queue[i]!;
      if (item.kind !== 'samples') {
        i++;
        continue;
      }
      const n = Math.min(excess, item.rows.length);
      item.rows.splice(0, n);
      this.sampleCount -= n;
      this.dropped += n;
      excess -= n;
      if (item.rows.length === 0) this.queue.splice(i, 1);
    }
  }

  private drainSoon(): void {
    if (this.draining || this.retryTimer) return;
    this.draining = true;
    queueMicrotask(() => void this.drain());
  }

  /** Writes what is queued, in order, batch by batch; on a refusal keeps it and tries again later. */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        const item = this.queue.shift();
        if (!item) break;
        this.writing = item;
        if (item.kind === 'task') {
          this.writing = null;
          await item.run().then(
            () => item.settle(null),
            (err: unknown) => item.settle(err),
          );
          continue;
        }
        try {
          if (item.kind === 'samples') await this.samples.insert(item.rows);
          else await this.events.insertMany(item.rows);
        } catch (err) {
          // Rows the database refuses as such would be refused forever and hold up everything behind them.
          if (!refusedForGood(err)) throw err;
          this.writing = null;
          if (item.rows.length > 1) {
            // One bad row must not take the others with it: each is written alone, and only the bad one goes.
            const singles = (item.rows as Array<SampleRow | ClusterEventRow>).map(
              (row) => ({ kind: item.kind, rows: [row] }) as Item,
            );
            this.queue.unshift(...singles);
            continue;
          }
          console.error(
            `history: ${item.kind === 'samples' ? 'a sample row' : 'an event'} refused for good and dropped: ${firstLine(err)}`,
          );
        }
        this.writing = null;
        this.forget(item);
        if (this.failure) {
          console.error(
            `history: writing again after ${Math.round((Date.now() - this.failure.since) / 1000)} s` +
              (this.dropped > 0 ? `; ${this.dropped} sample rows dropped so far while it was refused` : ''),
          );
          this.failure = null;
          this.retryMs = RETRY_MS.first;
        }
      }
      this.settle(null);
    } catch (err) {
      if (this.writing) {
        this.queue.unshift(this.writing);
        this.writing = null;
        this.dropOldestSamples();
      }
      if (!this.failure) {
        this.failure = { since: Date.now(), reason: firstLine(err) };
        console.error(
          `history: cannot write to the database (${this.failure.reason}); ${this.pendingCount} rows held in memory and retried`,
        );
      }
      this.settle(err);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.drainSoon();
      }, this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MS.max);
    } finally {
      this.draining = false;
    }
  }

  private forget(item: Item): void {
    if (item.kind === 'samples') this.sampleCount -= item.rows.length;
    else if (item.kind === 'events') this.eventCount -= item.rows.length;
  }

  private settle(err: unknown): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (err === null) w.resolve();
      else w.reject(err);
    }
  }

  /** Resolves once everything recorded so far is stored; rejects with the database's error if a write fails. */
  flush(): Promise<void> {
    if (this.queue.length === 0 && !this.writing && !this.draining) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (this.retryTimer) {
        // A flush does not wait out the back-off: it tries now, and hears the answer.
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
      }
      this.drainSoon();
    });
  }

  /** Sample rows and events recorded and not yet stored. */
  get pendingCount(): number {
    return this.sampleCount + this.eventCount;
  }

  /** Sample rows dropped since the start because more than the bound waited for the database. */
  get droppedSamples(): number {
    return this.dropped;
  }

  /** Whether the history is being written: what a page says when it is not. */
  get historyAvailable(): HistoryAvailability {
    return this.failure ? { ok: false, ...this.failure, pending: this.pendingCount } : { ok: true };
  }
}
