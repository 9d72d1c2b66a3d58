// How late this process's event loop ran: a poll whose calls missed their deadline while the loop was held up (the
// dashboard itself starved of CPU, a long GC pause, a replica taking over a hundred clusters at once) says nothing
// about etcd, and is not shown as members down.
import 'server-only';

/** How long samples are kept: longer than any poll (its deadline, and a new client's 2 s more). */
export const LAG_KEPT_MS = 30_000;

/** Samples every `everyMs` how late its timer fired, and keeps the last `keepMs` of samples. */
export class EventLoopLag {
  private readonly samples: Array<{ at: number; lagMs: number }> = [];
  private last = performance.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly everyMs = 100,
    private readonly keepMs = LAG_KEPT_MS,
  ) {}

  start(): this {
    if (this.timer) return this;
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.samples.push({ at: now, lagMs: Math.max(0, now - this.last - this.everyMs) });
      this.last = now;
      while (this.samples.length > 0 && (this.samples[0]?.at ?? now) < now - this.keepMs) this.samples.shift();
    }, this.everyMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * The longest the loop was held up between `from` and `to` (performance.now() ms): the samples taken then, and the
   * delay under way now (the timer not having fired yet is a delay too).
   */
  maxBetween(from: number, to: number): number {
    let max = 0;
    for (const s of this.samples) if (s.at >= from && s.at - s.lagMs <= to) max = Math.max(max, s.lagMs);
    if (this.timer) max = Math.max(max, performance.now() - this.last - this.everyMs);
    return Math.round(max);
  }
}

let shared: EventLoopLag | null = null;

/** The process's one sampler, started on first use. */
export function eventLoopLag(): EventLoopLag {
  shared ??= new EventLoopLag().start();
  return shared;
}
