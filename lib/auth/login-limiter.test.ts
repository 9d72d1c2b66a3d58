import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { describeOnEachEngine } from '@/test/support/store-engines';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter, type LoginLimits } from './login-limiter';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);

/** This file's PostgreSQL server. */
const PG_PORT = 25921;

/** A wrong password: the check, then the failure, as a sign-in route does it. */
async function failOnce(limiter: LoginLimiter, username: string, source: string | null) {
  const verdict = await limiter.check(username, source);
  if (verdict.allowed) await limiter.recordFailure(username, source);
  return verdict;
}

const SMALL: LoginLimits = {
  perUser: { failures: 3, windowSeconds: 60 },
  perAddress: { failures: 5, windowSeconds: 120 },
};

describeOnEachEngine('LoginLimiter', PG_PORT, (engine) => {
  const small = () => new LoginLimiter(engine.db, SMALL);

  // Only the clock is faked: the database clients keep their own timers.
  beforeEach(() => {
    vi.useFakeTimers({ now: T0, toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('defaults to 5 failures per username and 20 per address in 15 minutes', () => {
    expect(DEFAULT_LOGIN_LIMITS).toEqual({
      perUser: { failures: 5, windowSeconds: 900 },
      perAddress: { failures: 20, windowSeconds: 900 },
    });
  });

  it('refuses a username after its failures until the window that counted them ends', async () => {
    const limiter = small();
    for (let i = 0; i < 3; i++) expect(await failOnce(limiter, 'alice', '10.0.0.1')).toEqual({ allowed: true });
    vi.advanceTimersByTime(20_000);

    expect(await limiter.check('alice', '10.0.0.1')).toEqual({ allowed: false, retryAfterSeconds: 40, reason: 'user' });
    // From another address too: the limit is on the account.
    expect(await limiter.check('alice', '10.0.0.2')).toMatchObject({ allowed: false, reason: 'user' });
    expect(await limiter.check('bob', '10.0.0.1')).toEqual({ allowed: true });

    vi.advanceTimersByTime(39_000);
    expect(await limiter.check('alice', '10.0.0.1')).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    vi.advanceTimersByTime(1_000);
    expect(await limiter.check('alice', '10.0.0.1')).toEqual({ allowed: true });
  });

  it('does not extend a block when more failures are recorded during it', async () => {
    const limiter = small();
    for (let i = 0; i < 3; i++) await failOnce(limiter, 'alice', '10.0.0.1');
    vi.advanceTimersByTime(30_000);
    await limiter.recordFailure('alice', '10.0.0.1');
    expect(await limiter.check('alice', '10.0.0.1')).toMatchObject({ allowed: false, retryAfterSeconds: 30 });
    vi.advanceTimersByTime(30_000);
    expect(await limiter.check('alice', '10.0.0.1')).toEqual({ allowed: true });
  });

  it('clears the username on success, but not the address', async () => {
    const limiter = small();
    await failOnce(limiter, 'alice', '10.0.0.1');
    await failOnce(limiter, 'alice', '10.0.0.1');
    expect(await limiter.check('alice', '10.0.0.1')).toEqual({ allowed: true });
    await limiter.recordSuccess('alice', '10.0.0.1');
    // Two more failures would have blocked alice had the success not cleared her count.
    await failOnce(limiter, 'alice', '10.0.0.1');
    await failOnce(limiter, 'alice', '10.0.0.1');
    expect(await limiter.check('alice', '10.0.0.1')).toEqual({ allowed: true });
    await limiter.recordSuccess('alice', '10.0.0.1');

    // The address has 4 failures: one more and it is refused, for any username.
    await failOnce(limiter, 'carol', '10.0.0.1');
    expect(await limiter.check('dave', '10.0.0.1')).toEqual({
      allowed: false,
      retryAfterSeconds: 120,
      reason: 'address',
    });
    expect(await limiter.check('dave', '10.0.0.2')).toEqual({ allowed: true });
  });

  it('refuses an address that tries many usernames', async () => {
    const limiter = small();
    for (const user of ['a', 'b', 'c', 'd', 'e'])
      expect((await failOnce(limiter, user, '2001:db8::1')).allowed).toBe(true);
    expect(await failOnce(limiter, 'f', '2001:db8::1')).toMatchObject({ allowed: false, reason: 'address' });
  });

  it('reports the longer wait when both limits refuse', async () => {
    const limiter = new LoginLimiter(engine.db, {
      perUser: { failures: 1, windowSeconds: 600 },
      perAddress: { failures: 1, windowSeconds: 60 },
    });
    await failOnce(limiter, 'alice', '10.0.0.1');
    expect(await limiter.check('alice', '10.0.0.1')).toEqual({
      allowed: false,
      retryAfterSeconds: 600,
      reason: 'user',
    });
  });

  it('limits by username alone when the address is unknown', async () => {
    const limiter = small();
    for (let i = 0; i < 3; i++) await failOnce(limiter, 'alice', null);
    expect(await limiter.check('alice', null)).toMatchObject({ allowed: false, reason: 'user' });
    expect(await limiter.check('bob', null)).toEqual({ allowed: true });
  });

  it('lets no more parallel attempts through than the limit allows while their checks are running', async () => {
    const limiter = small();
    const verdicts = await Promise.all(Array.from({ length: 10 }, () => limiter.check('alice', '10.0.0.1')));
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(3);
    expect(verdicts.find((v) => !v.allowed)).toEqual({ allowed: false, retryAfterSeconds: 1, reason: 'user' });

    // Once the three are known to have failed, alice waits out the window.
    await Promise.all([1, 2, 3].map(() => limiter.recordFailure('alice', '10.0.0.1')));
    expect(await limiter.check('alice', '10.0.0.1')).toMatchObject({ allowed: false, retryAfterSeconds: 60 });
  });

  it('frees the place of an attempt that was never recorded after a minute', async () => {
    const limiter = small();
    for (let i = 0; i < 3; i++) expect((await limiter.check('alice', '10.0.0.1')).allowed).toBe(true);
    expect((await limiter.check('alice', '10.0.0.1')).allowed).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(await limiter.check('alice', '10.0.0.1')).toEqual({ allowed: true });
  });

  it('refuses a policy that could never allow or count anything', () => {
    expect(
      () => new LoginLimiter(engine.db, { ...DEFAULT_LOGIN_LIMITS, perUser: { failures: 0, windowSeconds: 60 } }),
    ).toThrow(/failures/);
    expect(
      () => new LoginLimiter(engine.db, { ...DEFAULT_LOGIN_LIMITS, perAddress: { failures: 5, windowSeconds: 0.5 } }),
    ).toThrow(/windowSeconds/);
  });

  it('two replicas on the same database share the counts: failures through one refuse the other', async () => {
    const a = small();
    const b = new LoginLimiter(await engine.connect(), SMALL);
    await failOnce(a, 'alice', '10.0.0.1');
    await failOnce(b, 'alice', '10.0.0.2');
    expect(await a.check('alice', '10.0.0.3')).toEqual({ allowed: true });
    await a.recordFailure('alice', '10.0.0.3');
    vi.advanceTimersByTime(20_000);
    expect(await b.check('alice', '10.0.0.4')).toEqual({ allowed: false, retryAfterSeconds: 40, reason: 'user' });

    // Failures counted at the same moment through both are all counted (one statement each).
    await Promise.all([1, 2, 3, 4].map((i) => (i % 2 ? a : b).recordFailure(`u${i}`, '10.0.0.9')));
    expect(await a.check('z', '10.0.0.9')).toEqual({ allowed: true });
    await b.recordFailure('z', '10.0.0.9');
    expect(await a.check('y', '10.0.0.9')).toMatchObject({ allowed: false, reason: 'address' });

    // A success through one clears the username for both.
    await b.recordSuccess('alice', '10.0.0.4');
    expect(await a.check('alice', '10.0.0.5')).toEqual({ allowed: true });
  });

  it('the counts survive a restart; ended windows are pruned', async () => {
    for (let i = 0; i < 3; i++) await failOnce(small(), 'alice', '10.0.0.1');
    const restarted = new LoginLimiter(await engine.reopen(), SMALL);
    expect(await restarted.check('alice', '10.0.0.1')).toMatchObject({ allowed: false, reason: 'user' });
    expect(await restarted.prune(), 'nothing has ended').toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(await restarted.prune(), "the username's window ended, the address's not").toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(await restarted.prune()).toBe(1);
    expect(await restarted.check('alice', '10.0.0.1')).toEqual({ allowed: true });
  });
});
