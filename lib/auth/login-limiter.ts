// Slows password guessing: counts failed sign-ins per username and per client address in the store, so every
// replica on the same database counts the same failures.
import 'server-only';
import { sql, type Kysely } from 'kysely';
import type { StoreSchema } from '@/lib/db/schema';

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
 * refused until that window ends, and further failures neither lift nor extend it. The counts are rows of the store's
 * login_failures table ('user:alice', 'address:10.0.0.1'), each failure one statement on both engines.
 *
 * Attempts allowed but not yet recorded are held as pending, in this process's memory, so a burst of parallel sign-ins
 * cannot all pass the check while their slow password checks run.
 */
class FailureCounter {
  /** Start times (epoch ms) of allowed attempts per key, oldest first. */
  private readonly pending = new Map<string, number[]>();
  private readonly windowMs: number;

  constructor(
    private readonly db: Kysely<StoreSchema>,
    /** The rows' key prefix: 'user' or 'address'. */
    private readonly kind: string,
    private readonly policy: LimitPolicy,
  ) {
    if (!Number.isInteger(policy.failures) || policy.failures < 1) {
      throw new RangeError(`login limit failures must be a whole number ≥ 1, not ${policy.failures}`);
    }
    if (!Number.isInteger(policy.windowSeconds) || policy.windowSeconds < 1) {
      throw new RangeError(`login limit windowSeconds must be a whole number ≥ 1, not ${policy.windowSeconds}`);
    }
    this.windowMs = policy.windowSeconds * 1000;
  }

  private row(key: string): string {
    return `${this.kind}:${key}`;
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
    const now = Date.now();
    const res = await this.db
      .selectFrom('login_failures')
      .select(['window_start', 'failures'])
      .where('key', '=', this.row(key))
      .executeTakeFirst();
    // A window that has ended stays as a row until it is pruned or a new failure opens the next one.
    const msLeft = res ? res.window_start + this.windowMs - now : 0;
    const failures = res && msLeft > 0 ? res.failures : 0;
    if (failures + pendingBefore < this.policy.failures) return 0;
    // Only pending attempts stand in the way: they settle within seconds.
    if (failures < this.policy.failures) return 1;
    return Math.ceil(msLeft / 1000);
  }

  /** Counts a failure in one statement, so two replicas counting at once both count. */
  async recordFailure(key: string): Promise<void> {
    const now = Date.now();
    const ended = now - this.windowMs;
    await this.db
      .insertInto('login_failures')
      .values({ key: this.row(key), window_start: now, failures: 1 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql<number>`CASE WHEN login_failures.window_start <= ${ended} THEN 1 ELSE login_failures.failures + 1 END`,
          window_start: sql<number>`CASE WHEN login_failures.window_start <= ${ended} THEN ${now} ELSE login_failures.window_start END`,
        }),
      )
      .execute();
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('key', '=', this.row(key)).execute();
  }

  /** Drops this kind's rows whose window ended before `now`; returns how many. */
  async prune(now: number): Promise<number> {
    const result = await this.db
      .deleteFrom('login_failures')
      .where('key', 'like', `${this.kind}:%`)
      .where('window_start', '<=', now - this.windowMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/**
 * Call `check` before verifying a password and, when allowed, then exactly one of `recordFailure` or `recordSuccess`.
 * A null source (address unknown) is limited per username only. The counts are in the store: they survive a restart
 * and are shared by every process on the same database. A store that refuses makes the call reject (the sign-in is
 * answered with an error, never let through uncounted).
 */
export class LoginLimiter {
  private readonly users: FailureCounter;
  private readonly addresses: FailureCounter;

  constructor(db: Kysely<StoreSchema>, limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {
    this.users = new FailureCounter(db, 'user', limits.perUser);
    this.addresses = new FailureCounter(db, 'address', limits.perAddress);
  }

  /** Whether this sign-in may be tried; when not, the longer of the two waits and which limit caused it. */
  async check(username: string, source: string | null): Promise<LoginCheck> {
    const userAhead = this.users.hold(username);
    const addressAhead = source === null ? 0 : this.addresses.hold(source);
    let user: number;
    let address: number;
    try {
      [user, address] = await Promise.all([
        this.users.retryAfterSeconds(username, userAhead),
        source === null ? 0 : this.addresses.retryAfterSeconds(source, addressAhead),
      ]);
    } catch (err) {
      this.settle(username, source);
      throw err;
    }
    if (user === 0 && address === 0) return { allowed: true };
    this.settle(username, source);
    return user >= address
      ? { allowed: false, retryAfterSeconds: user, reason: 'user' }
      : { allowed: false, retryAfterSeconds: address, reason: 'address' };
  }

  async recordFailure(username: string, source: string | null): Promise<void> {
    // Counted before the place is released, so the attempt is never in neither.
    try {
      await Promise.all([
        this.users.recordFailure(username),
        source === null ? undefined : this.addresses.recordFailure(source),
      ]);
    } finally {
      this.settle(username, source);
    }
  }

  /** Clears the username's count; the address keeps its count, so one good account cannot shield guessing at others. */
  async recordSuccess(username: string, source: string | null): Promise<void> {
    try {
      await this.users.clear(username);
    } finally {
      this.settle(username, source);
    }
  }

  /** Drops the counts whose window has ended (housekeeping); returns how many. */
  async prune(now = Date.now()): Promise<number> {
    return (await this.users.prune(now)) + (await this.addresses.prune(now));
  }

  private settle(username: string, source: string | null): void {
    this.users.release(username);
    if (source !== null) this.addresses.release(source);
  }
}
