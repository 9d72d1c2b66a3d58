// The in-memory queue in front of a store for writes that must not be lost and must not hold up their caller:
// written in order a moment later, batch by batch; held and retried with back-off while the database refuses them.
import 'server-only';

export interface WriteQueueOptions<T> {
  /** What the queue's log lines start with ("audit log", "history"). */
  name: string;
  /** What its items are called in its log lines ("entries", "rows"). */
  unit: string;
  /**
   * Writes a batch of the oldest items; a rejection (the database refuses it) keeps the batch, in place, for the
   * retry. Resolves with how many of the batch, from its head, it is done with when not all of them (at least 1): the
   * rest are written next, at once.
   */
  write: (batch: T[]) => Promise<number | void>;
  /** How many of the oldest waiting items (never none, never past a task) go in the next write: at least 1. */
  batchSize: (waiting: readonly T[]) => number;
  /** Items held at most; past it some are dropped (and counted). None: held however many there are. */
  bound?: WriteBound<T>;
  /** The wait before the first retry, doubled on each refusal up to `max`. */
  retryMs?: { first: number; max: number };
}

export interface WriteBound<T> {
  max: number;
  /** Which items count toward `max`, and may be dropped: all by default. */
  counts?: (item: T) => boolean;
  /** 'newest': an item queued past the bound is not kept. 'oldest': the oldest waiting go (never a batch in a write). */
  drop: 'newest' | 'oldest';
  /** An item saying how many were dropped, queued once there is room again. */
  notice?: (dropped: number) => T;
}

/** Whether the queue's writes are taken; when not, since when (epoch ms) and why (the error's first line). */
export type WriteAvailability = { ok: true } | { ok: false; since: number; reason: string };

const DEFAULT_RETRY_MS = { first: 500, max: 30_000 } as const;

/** Items queued one after another, then (perhaps) a task that must not interleave with the writes: run after them. */
interface Segment<T> {
  items: T[];
  task: (() => Promise<void>) | null;
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

export class WriteQueue<T> {
  private readonly segments: Array<Segment<T>> = [];
  /** The batch in a write: put back at the head when the write fails. */
  private writing: T[] = [];
  private waitingCount = 0;
  /** Items counted toward the bound, waiting or in a write. */
  private counted = 0;
  private droppedTotal = 0;
  /** Dropped and not yet told by a notice item. */
  private unnoticed = 0;
  private draining = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private failure: { since: number; reason: string } | null = null;
  private waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private readonly retry: { first: number; max: number };

  constructor(private readonly opts: WriteQueueOptions<T>) {
    this.retry = opts.retryMs ?? DEFAULT_RETRY_MS;
    this.retryMs = this.retry.first;
  }

  /** Queues the item after every one queued before it; it is written a moment later. Never throws, never waits. */
  enqueue(item: T): void {
    const bound = this.opts.bound;
    const counts = this.counts(item);
    if (bound?.drop === 'newest' && counts && this.counted >= bound.max) {
      this.countDropped(1);
    } else {
      this.push(item, counts);
      this.dropOldest();
    }
    this.drainSoon();
  }

  /**
   * Runs `task` after the writes queued before it and before those queued after, never beside one. A task that
   * fails rejects its own promise, not the queue; it waits while the database refuses the writes before it.
   */
  runInOrder<R>(task: () => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const run = async () => {
        try {
          resolve(await task());
        } catch (err) {
          reject(err);
        }
      };
      const last = this.segments.at(-1);
      if (last && last.task === null) last.task = run;
      else this.segments.push({ items: [], task: run });
      this.drainSoon();
    });
  }

  /**
   * Resolves once everything queued so far is written (and every task run); rejects with the database's error when
   * a write fails. It does not wait out the back-off: it tries now, and hears the answer.
   */
  flush(): Promise<void> {
    const idle = this.segments.length === 0 && this.writing.length === 0 && this.unnoticed === 0;
    if (idle && !this.draining) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
      }
      this.drainSoon();
    });
  }

  /** Items queued and not yet written (tasks are not counted). */
  get size(): number {
    return this.waitingCount + this.writing.length;
  }

  /** Items dropped at the bound since the start. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Whether the last write was taken; when not, since the first refusal of this outage, and why. */
  get availability(): WriteAvailability {
    return this.failure ? { ok: false, ...this.failure } : { ok: true };
  }

  private counts(item: T): boolean {
    return this.opts.bound ? (this.opts.bound.counts?.(item) ?? true) : false;
  }

  private push(item: T, counts: boolean): void {
    const last = this.segments.at(-1);
    if (last && last.task === null) last.items.push(item);
    else this.segments.push({ items: [item], task: null });
    this.waitingCount++;
    if (counts) this.counted++;
  }

  private countDropped(n: number): void {
    this.droppedTotal += n;
    if (this.opts.bound?.notice) this.unnoticed += n;
  }

  /** Past a bound that drops the oldest, the oldest counted items waiting go (a batch in a write stays). */
  private dropOldest(): void {
    const bound = this.opts.bound;
    if (bound?.drop !== 'oldest' || this.counted <= bound.max) return;
    const excess = this.counted - bound.max;
    let n = 0;
    for (const segment of this.segments) {
      const items = segment.items;
      // Runs of counted items are cut out whole: usually one run at the head.
      for (let i = 0; n < excess && i < items.length;) {
        let end = i;
        while (end < items.length && n + (end - i) < excess && this.counts(items[end]!)) end++;
        if (end === i) {
          i++;
          continue;
        }
        items.splice(i, end - i);
        n += end - i;
      }
      if (n === excess) break;
    }
    this.waitingCount -= n;
    this.counted -= n;
    this.countDropped(n);
  }

  /** The notice of what was dropped, once it fits. */
  private queueNotice(): void {
    const notice = this.opts.bound?.notice;
    if (!notice || this.unnoticed === 0 || this.counted >= (this.opts.bound?.max ?? 0)) return;
    const item = notice(this.unnoticed);
    this.unnoticed = 0;
    this.push(item, this.counts(item));
  }

  private drainSoon(): void {
    if (this.draining || this.retryTimer) return;
    this.draining = true;
    queueMicrotask(() => void this.drain());
  }

  /** Writes what is queued, in order, batch by batch, running each task in its turn; on a refusal tries again later. */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        this.queueNotice();
        const head = this.segments[0];
        if (!head) break;
        if (head.items.length === 0) {
          this.segments.shift();
          if (head.task) await head.task();
          continue;
        }
        const n = Math.max(1, Math.min(head.items.length, this.opts.batchSize(head.items)));
        this.writing = head.items.splice(0, n);
        this.waitingCount -= n;
        const done = Math.min(n, (await this.opts.write(this.writing)) ?? n);
        const written = this.writing.splice(0, done);
        this.counted -= written.filter((item) => this.counts(item)).length;
        this.putBack();
        if (this.failure) {
          const dropped = this.droppedTotal > 0 ? `; ${this.droppedTotal} ${this.opts.unit} dropped so far` : '';
          console.error(
            `${this.opts.name}: writing again after ${Math.round((Date.now() - this.failure.since) / 1000)} s${dropped}`,
          );
          this.failure = null;
          this.retryMs = this.retry.first;
        }
      }
      this.settle(null);
    } catch (err) {
      this.putBack();
      this.dropOldest();
      if (!this.failure) {
        this.failure = { since: Date.now(), reason: firstLine(err) };
        console.error(
          `${this.opts.name}: cannot write to the database (${this.failure.reason}); ${this.size} ${this.opts.unit} held in memory and retried`,
        );
      }
      this.settle(err);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.drainSoon();
      }, this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, this.retry.max);
    } finally {
      this.draining = false;
    }
  }

  /** What is left of the batch in a write goes back to the head of the queue, to be written first. */
  private putBack(): void {
    if (this.writing.length === 0) return;
    const head = this.segments[0];
    if (head) head.items.unshift(...this.writing);
    else this.segments.push({ items: this.writing, task: null });
    this.waitingCount += this.writing.length;
    this.writing = [];
  }

  private settle(err: unknown): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (err === null) w.resolve();
      else w.reject(err);
    }
  }
}
