// Writes what the collector sees into the history store: per-poll samples, metric-derived samples, events. The
// collector records on every poll and never waits on the database: rows are queued and written in order a moment
// later, held in memory while the database refuses writes (PostgreSQL down) and written when it answers again.
import 'server-only';
import type { Observation } from '@/lib/cluster/status-types';
import { refusedForGood } from '@/lib/db/refusals';
import { WriteQueue } from '@/lib/db/write-queue';
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

type HistoryRow = SampleRow | ClusterEventRow;
const isSample = (row: HistoryRow): row is SampleRow => 'series' in row;

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

export class HistoryRecorder {
  /** What is recorded and not yet stored, in order; the rollup runs in its turn between the writes. */
  private readonly queue: WriteQueue<HistoryRow>;

  constructor(
    readonly samples: SampleStore,
    readonly events: EventStore,
    opts: { maxPendingSamples?: number } = {},
  ) {
    this.queue = new WriteQueue({
      name: 'history',
      unit: 'rows',
      write: (batch) => this.write(batch),
      batchSize: batchOfOneKind,
      // Events are few and never dropped; past the bound the oldest sample rows go (and are counted).
      bound: { max: opts.maxPendingSamples ?? MAX_PENDING_SAMPLES, drop: 'oldest', counts: isSample },
    });
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
    for (const event of events) this.queue.enqueue({ clusterId, event });
  }

  private recordSamples(rows: SampleRow[]): void {
    for (const row of rows) this.queue.enqueue(row);
  }

  /**
   * Runs `task` between the writes queued before it and those queued after, never beside one: the rollup, so that a
   * sample written while it runs cannot fall between its reading of a minute and its moving the watermark past it.
   * A failed task is not retried here (the next housekeeping run asks again).
   */
  serialize<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.runInOrder(task);
  }

  /** Writes a batch of one kind; says how many of it are done when a database that went away cut a split short. */
  private async write(batch: HistoryRow[]): Promise<number | void> {
    try {
      await this.insert(batch);
    } catch (err) {
      // Rows the database refuses as such would be refused forever and hold up everything behind them.
      if (!refusedForGood(err)) throw err;
      if (batch.length === 1) return this.refusedForGood(batch[0]!, err);
      // One bad row must not take the others with it: each is written alone, and only the bad one goes.
      for (const [i, row] of batch.entries()) {
        try {
          await this.insert([row]);
        } catch (rowErr) {
          if (refusedForGood(rowErr)) this.refusedForGood(row, rowErr);
          else if (i === 0) throw rowErr;
          else return i;
        }
      }
    }
  }

  private insert(batch: HistoryRow[]): Promise<void> {
    return isSample(batch[0]!)
      ? this.samples.insert(batch as SampleRow[])
      : this.events.insertMany(batch as ClusterEventRow[]);
  }

  private refusedForGood(row: HistoryRow, err: unknown): void {
    console.error(
      `history: ${isSample(row) ? 'a sample row' : 'an event'} refused for good and dropped: ${firstLine(err)}`,
    );
  }

  /** Resolves once everything recorded so far is stored; rejects with the database's error if a write fails. */
  flush(): Promise<void> {
    // A flush does not wait out the back-off: it tries now, and hears the answer.
    return this.queue.flush();
  }

  /** Sample rows and events recorded and not yet stored. */
  get pendingCount(): number {
    return this.queue.size;
  }

  /** Sample rows dropped since the start because more than the bound waited for the database. */
  get droppedSamples(): number {
    return this.queue.dropped;
  }

  /** Whether the history is being written: what a page says when it is not. */
  get historyAvailable(): HistoryAvailability {
    const state = this.queue.availability;
    return state.ok ? state : { ...state, pending: this.pendingCount };
  }
}

/** The oldest rows of one kind (samples or events), as many as one write of that kind takes. */
function batchOfOneKind(waiting: readonly HistoryRow[]): number {
  const sample = isSample(waiting[0]!);
  const max = Math.min(waiting.length, sample ? WRITE_BATCH : EVENT_BATCH);
  let n = 1;
  while (n < max && isSample(waiting[n]!) === sample) n++;
  return n;
}
