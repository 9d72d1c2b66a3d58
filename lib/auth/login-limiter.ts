// Slows password guessing: counts failed sign-ins per username and per client address, in this process's memory.
import 'server-only';
import { RateLimiterMemory } from 'rate-limiter-flexible';

export interface LimitPolicy {
  /** Failures allowed in a window; the next attempt is refused until the window ends. */
  failures: number;
  windowSeconds: number;
}

export interface LoginLimits {
  perUser: LimitPolicy;
  perAddress: LimitPolicy;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perUser: { failures: 5, windowSeconds: 15 * 60 },
  // Higher than per user: several people may sign in from behind one NAT or proxy.
  perAddress: { failures: 20, windowSeconds: 15 * 60 },
};

export type LoginCheck = { allowed: true } | { allowed: false; retryAfterSeconds: number; reason: 'user' | 'address' };

/** An allowed attempt never followed by recordFailure/recordSuccess (the caller threw) stops holding a place after this. */
const PENDING_TTL_MS = 60_000;
/** Above this many keys with pending attempts, keys whose attempts are all stale are swept. */
const MAX_PENDING_KEYS = 10_000;

/**
 * Failures per key in a fixed window that opens at the key's first failure: once `failures` are counted the key is
 * refused until that window ends, and further failures neither lift nor extend it.
 *
 * Attempts allowed but not yet recorded are held as pending, so a burst of parallel sign-ins cannot all pass the check
 * while their slow password checks run.
 */
class FailureCounter {
  private readonly limiter: RateLimiterMemory;
  /** Start times (epoch ms) of allowed attempts per key, oldest first. */
  private readonly pending = new Map<string, number[]>();

  constructor(private readonly policy: LimitPolicy) {
    if (!Number.isInteger(policy.failures) || policy.failures < 1) {
      throw new RangeError(`login limit failures must be a whole number ≥ 1, not ${policy.failures}`);
    }
    if (!Number.isInteger(policy.windowSeconds) || policy.windowSeconds < 1) {
      throw new RangeError(`login limit windowSeconds must be a whole number ≥ 1, not ${policy.windowSeconds}`);
    }
    this.limiter = new RateLimiterMemory({ points: policy.failures, duration: policy.windowSeconds });
  }

  /**
   * Holds a place for an attempt and returns how many were pending before it. Synchronous, so every caller gets a
   * distinct place; the failures read afterwards can only count one of those twice, never miss it.
   */
  hold(key: string): number {
    const now = Date.now();
    if (this.pending.size > MAX_PENDING_KEYS) this.dropStale(now);
    const live = (this.pending.get(key) ?? []).filter((t) => now - t < PENDING_TTL_MS);
    const before = live.length;
    this.pending.set(key, [...live, now]);
    return before;
  }

  private dropStale(now: number): void {
    for (const [key, times] of this.pending) {
      if (times.every((t) => now - t >= PENDING_TTL_MS)) this.pending.delete(key);
    }
  }

  release(key: string): void {
    const live = this.pending.get(key);
    live?.shift();
    if (live?.length === 0) this.pending.delete(key);
  }

  /** Seconds until an attempt with `pendingBefore` others ahead of it may go ahead, or 0 if it may now. */
  async retryAfterSeconds(key: string, pendingBefore: number): Promise<number> {
    const res = await this.limiter.get(key);
    // A window that has ended may linger until the library's timer removes it.
    const failures = res && res.msBeforeNext > 0 ? res.consumedPoints : 0;
    if (failures + pendingBefore < this.policy.failures) return 0;
    // Only pending attempts stand in the way: they settle within seconds.
    if (!res || failures < this.policy.failures) return 1;
    return Math.ceil(res.msBeforeNext / 1000);
  }

  async recordFailure(key: string): Promise<void> {
    // penalty() only counts; consume() would reject past the limit, which here is not an error.
    await this.limiter.penalty(key);
  }

  async clear(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

/**
 * Call `check` before verifying a password and, when allowed, then exactly one of `recordFailure` or `recordSuccess`.
 * A null source (address unknown) is limited per username only. Counts live in memory: a restart forgets them, and
 * each process counts its own.
 */
export class LoginLimiter {
  private readonly users: FailureCounter;
  private readonly addresses: FailureCounter;

  constructor(limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {
    this.users = new FailureCounter(limits.perUser);
    this.addresses = new FailureCounter(limits.perAddress);
  }

  /** Whether this sign-in may be tried; when not, the longer of the two waits and which limit caused it. */
  async check(username: string, source: string | null): Promise<LoginCheck> {
    const userAhead = this.users.hold(username);
    const addressAhead = source === null ? 0 : this.addresses.hold(source);
    const [user, address] = await Promise.all([
      this.users.retryAfterSeconds(username, userAhead),
      source === null ? 0 : this.addresses.retryAfterSeconds(source, addressAhead),
    ]);
    if (user === 0 && address === 0) return { allowed: true };
    this.settle(username, source);
    return user >= address
      ? { allowed: false, retryAfterSeconds: user, reason: 'user' }
      : { allowed: false, retryAfterSeconds: address, reason: 'address' };
  }

  async recordFailure(username: string, source: string | null): Promise<void> {
    // Counted before the place is released, so the attempt is never in neither.
    await Promise.all([
      this.users.recordFailure(username),
      source === null ? undefined : this.addresses.recordFailure(source),
    ]);
    this.settle(username, source);
  }

  /** Clears the username's count; the address keeps its count, so one good account cannot shield guessing at others. */
  async recordSuccess(username: string, source: string | null): Promise<void> {
    await this.users.clear(username);
    this.settle(username, source);
  }

  private settle(username: string, source: string | null): void {
    this.users.release(username);
    if (source !== null) this.addresses.release(source);
  }
}
