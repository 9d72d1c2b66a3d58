// Keeps one lease renewed and says, at any moment, whether this replica may act as its holder.
import 'server-only';
import type { Acquired, LeaseStore } from './lease-store';

/*
 *   const leader = new LeaseKeeper({ store: leases, name: 'leader', holder: replicaId, ttlMs: 10_000,
 *     onGained: (generation) => …start the leader's work, its writes fenced by generation…,
 *     onLost: () => …stop it… });
 *   leader.start();  …  leader.isLeader(), leader.generation()  …  await leader.stop();
 *
 * Why it cannot hold too long: it counts its tenure from when it SENT the last renewal that succeeded, on this
 * process's monotonic clock, and stops holding ttl after that, whether or not the database answers meanwhile. The
 * database counts the same ttl from when it ran that statement, which is later, so another replica can take over
 * only after this one has stopped (clock rates aside, which differ by parts per million).
 */

export interface LeaseKeeperOptions {
  store: Pick<LeaseStore, 'tryAcquire' | 'tryAcquireIfFree' | 'release'>;
  name: string;
  holder: string;
  ttlMs: number;
  /** How often it asks; a third of the ttl unless set, so two answers can be lost before it steps down. */
  renewEveryMs?: number;
  onGained?: (generation: number) => void;
  /** `reason`: 'taken' (another holds it), 'expired' (no renewal succeeded within the ttl), 'stopped'. */
  onLost?: (generation: number, reason: 'taken' | 'expired' | 'stopped') => void;
  /** Monotonic ms; performance.now unless a test moves it. */
  monotonic?: () => number;
}

export class LeaseKeeper {
  private readonly renewEveryMs: number;
  private readonly monotonic: () => number;
  private held: { generation: number; until: number } | null = null;
  private renewTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | null = null;
  private running = false;

  constructor(private readonly opts: LeaseKeeperOptions) {
    this.renewEveryMs = opts.renewEveryMs ?? Math.max(1, Math.floor(opts.ttlMs / 3));
    this.monotonic = opts.monotonic ?? (() => performance.now());
  }

  /** Asks at once, then every renewEveryMs until stop(); resolves once the first answer (or failure) is in. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.tick();
    return this.attempt ?? Promise.resolve();
  }

  /** Whether it holds the lease now: false from ttl after the last renewal that succeeded, even between timers. */
  isLeader(): boolean {
    this.checkExpiry();
    return this.held !== null;
  }

  /** The generation held now (the fencing token for its writes), or null. */
  generation(): number | null {
    this.checkExpiry();
    return this.held?.generation ?? null;
  }

  /**
   * Stops asking and releases the lease if held, so another replica takes it at its next try; it does not wait for
   * an attempt the database has not answered (that one releases what it gets).
   */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.renewTimer);
    const held = this.held;
    if (!held) return;
    this.lose('stopped');
    try {
      await this.opts.store.release(this.opts.name, this.opts.holder, held.generation);
    } catch {
      // It expires by itself; a release only saves the others the wait.
    }
  }

  private tick(): void {
    // One attempt at a time: one the database has not answered yet is not joined by more (they would only wait on
    // it, each holding a connection); the expiry timer steps down meanwhile.
    if (this.running && !this.attempt) {
      this.attempt = this.renew().finally(() => {
        this.attempt = null;
      });
    }
    if (this.running) {
      this.renewTimer = setTimeout(() => this.tick(), this.renewEveryMs);
      this.renewTimer.unref();
    }
  }

  private async renew(): Promise<void> {
    const sentAt = this.monotonic();
    let answer: Acquired;
    try {
      // Held: renewed in one statement. Not held: asked only when it is free (see tryAcquireIfFree).
      answer = this.held
        ? await this.opts.store.tryAcquire(this.opts.name, this.opts.holder, this.opts.ttlMs)
        : await this.opts.store.tryAcquireIfFree(this.opts.name, this.opts.holder, this.opts.ttlMs);
    } catch {
      return; // the database did not answer: keep what is held until it expires
    }
    if (!this.running) {
      // stop() came meanwhile and released what it found held; what this answer took is let go here.
      if (answer.held) {
        await this.opts.store.release(this.opts.name, this.opts.holder, answer.generation).catch(() => undefined);
      }
      return;
    }
    if (!answer.held) {
      if (this.held) this.lose('taken');
      return;
    }
    const until = sentAt + this.opts.ttlMs;
    if (this.held && this.held.generation !== answer.generation) this.lose('expired');
    if (until <= this.monotonic()) return; // answered too late to be held any longer; the next try renews it
    const gained = !this.held;
    this.held = { generation: answer.generation, until };
    this.armExpiry();
    if (gained) this.notify(() => this.opts.onGained?.(answer.generation));
  }

  /** Steps down at the deadline even if nothing asks isLeader() (onLost is how the leader's work learns it). */
  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    if (!this.held) return;
    // Timers may fire a millisecond early on the monotonic clock: check, and wait again for what is left.
    this.expiryTimer = setTimeout(
      () => {
        this.checkExpiry();
        this.armExpiry();
      },
      Math.max(1, this.held.until - this.monotonic()),
    );
    this.expiryTimer.unref();
  }

  private checkExpiry(): void {
    if (this.held && this.monotonic() >= this.held.until) this.lose('expired');
  }

  private lose(reason: 'taken' | 'expired' | 'stopped'): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    clearTimeout(this.expiryTimer);
    this.notify(() => this.opts.onLost?.(held.generation, reason));
  }

  /** A callback that throws must not stop the renewals. */
  private notify(callback: () => void): void {
    try {
      callback();
    } catch (err) {
      console.error(`etcd-dashboard: lease ${this.opts.name}: a callback failed: ${String(err)}`);
    }
  }
}
