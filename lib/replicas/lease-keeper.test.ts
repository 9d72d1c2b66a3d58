import { afterEach, describe, expect, it, vi } from 'vitest';
import { until } from '@/test/support/poll';
import { LeaseKeeper } from './lease-keeper';
import type { Acquired, LeaseStore } from './lease-store';

type Answer = () => Promise<Acquired>;

/** A store that answers each try with the next of `answers` (the last one repeated). */
function scriptedStore(
  answers: Answer[],
): Pick<LeaseStore, 'tryAcquire' | 'tryAcquireIfFree' | 'release'> & { tries: number } {
  const next = () => {
    const answer = answers[Math.min(store.tries, answers.length - 1)];
    store.tries++;
    return answer ? answer() : Promise.reject(new Error('no answer scripted'));
  };
  // Whether asked as the holder or not, the script answers in turn.
  const store = { tries: 0, tryAcquire: next, tryAcquireIfFree: next, release: () => Promise.resolve(true) };
  return store;
}

const held =
  (generation: number): Answer =>
  () =>
    Promise.resolve({ held: true, generation, expiresAt: 0 });
/** A database that never answers (a network partition, not a refused connection). */
const silent: Answer = () => new Promise(() => undefined);

describe('LeaseKeeper (without a database)', () => {
  let keeper: LeaseKeeper | undefined;
  afterEach(async () => {
    await keeper?.stop();
  });

  it('steps down ttl after the last renewal it sent when the database stops answering, and asks no more meanwhile', async () => {
    const events: string[] = [];
    const store = scriptedStore([held(7), silent]);
    keeper = new LeaseKeeper({
      store,
      name: 'leader',
      holder: 'a',
      ttlMs: 300,
      renewEveryMs: 50,
      onGained: (g) => events.push(`gained ${g}`),
      onLost: (g, why) => events.push(`lost ${g} (${why})`),
    });
    const sentAt = performance.now();
    keeper.start();
    expect(await until(() => keeper?.isLeader(), Boolean, 1000)).toBe(true);
    expect(keeper.generation()).toBe(7);
    expect(
      await until(
        () => events.length,
        (n) => n === 2,
        2000,
      ),
    ).toBe(2);
    const steppedDownAfter = performance.now() - sentAt;
    expect(steppedDownAfter).toBeGreaterThanOrEqual(299);
    expect(steppedDownAfter).toBeLessThan(600);
    expect(events).toEqual(['gained 7', 'lost 7 (expired)']);
    expect([keeper.isLeader(), keeper.generation()]).toEqual([false, null]);
    // The unanswered try is not joined by more, each waiting on a connection.
    expect(store.tries).toBe(2);
  });

  it('does not hold on an answer that came after the ttl it was asked for', async () => {
    const late: Answer = () =>
      new Promise((r) => setTimeout(() => r({ held: true, generation: 1, expiresAt: 0 }), 250));
    keeper = new LeaseKeeper({ store: scriptedStore([late]), name: 'leader', holder: 'a', ttlMs: 200 });
    keeper.start();
    await new Promise((r) => setTimeout(r, 600));
    expect(keeper.isLeader()).toBe(false);
  });

  it('hands over when another holds it, and keeps renewing when a callback throws', async () => {
    const events: string[] = [];
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const taken: Answer = () => Promise.resolve({ held: false, holder: 'b', expiresAt: 0 });
    const store = scriptedStore([held(1), held(1), taken, held(3)]);
    keeper = new LeaseKeeper({
      store,
      name: 'leader',
      holder: 'a',
      ttlMs: 3000,
      renewEveryMs: 30,
      onGained: (g) => {
        events.push(`gained ${g}`);
        throw new Error('a bad listener');
      },
      onLost: (g, why) => events.push(`lost ${g} (${why})`),
    });
    keeper.start();
    expect(
      await until(
        () => keeper?.generation(),
        (g) => g === 3,
        2000,
      ),
    ).toBe(3);
    expect(events).toEqual(['gained 1', 'lost 1 (taken)', 'gained 3']);
    expect(logged).toHaveBeenCalledWith('etcd-dashboard: lease leader: a callback failed: Error: a bad listener');
    logged.mockRestore();
  });
});
