import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WriteQueue, type WriteQueueOptions } from './write-queue';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);

/** A store whose writes are taken, refused (`down`), or held open until `release()`. */
function fakeStore<T>() {
  const store = {
    written: [] as T[][],
    attempts: 0,
    down: null as Error | null,
    held: null as (() => void) | null,
    hold: false,
    async write(batch: T[]): Promise<void> {
      store.attempts++;
      if (store.hold) await new Promise<void>((resolve) => (store.held = resolve));
      if (store.down) throw store.down;
      store.written.push([...batch]);
    },
    release() {
      store.hold = false;
      store.held?.();
      store.held = null;
    },
  };
  return store;
}

function queueOver<T>(store: ReturnType<typeof fakeStore<T>>, opts: Partial<WriteQueueOptions<T>> = {}) {
  return new WriteQueue<T>({
    name: 'test',
    unit: 'items',
    write: (batch) => store.write(batch),
    batchSize: (waiting) => Math.min(waiting.length, 2),
    ...opts,
  });
}

/** Lets the queue's microtasks and settled writes run, without moving the clock. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('WriteQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('writes what is queued in order, batch by batch, a moment later and without the caller waiting', async () => {
    const store = fakeStore<number>();
    const queue = queueOver(store);
    for (let i = 1; i <= 5; i++) queue.enqueue(i);
    expect(store.written).toEqual([]);
    expect(queue.size).toBe(5);
    await queue.flush();
    expect(store.written).toEqual([[1, 2], [3, 4], [5]]);
    expect(queue.size).toBe(0);
    expect(queue.availability).toEqual({ ok: true });
  });

  it('holds what the database refuses, says since when and why, and retries with a doubling back-off', async () => {
    const store = fakeStore<number>();
    const queue = queueOver(store, { retryMs: { first: 500, max: 2000 } });
    store.down = new Error('connection refused\nat somewhere');
    queue.enqueue(1);
    await settle();
    expect(store.attempts).toBe(1);
    expect(queue.availability).toEqual({ ok: false, since: T0, reason: 'connection refused' });

    // 500 ms, then 1 s, then 2 s, and 2 s again: never sooner.
    for (const wait of [500, 1000, 2000, 2000]) {
      const before = store.attempts;
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(store.attempts, `no retry before ${wait} ms`).toBe(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(store.attempts, `a retry at ${wait} ms`).toBe(before + 1);
    }
    queue.enqueue(2);
    expect(queue.size).toBe(2);

    store.down = null;
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.written).toEqual([[1, 2]]);
    expect(queue.availability).toEqual({ ok: true });
    expect(queue.size).toBe(0);

    // Once taken again, the back-off starts over from its first wait.
    store.down = new Error('down again');
    queue.enqueue(3);
    await settle();
    const before = store.attempts;
    await vi.advanceTimersByTimeAsync(500);
    expect(store.attempts).toBe(before + 1);
  });

  it('a flush does not wait out the back-off: it tries now and rejects with the database error', async () => {
    const store = fakeStore<number>();
    const queue = queueOver(store, { retryMs: { first: 60_000, max: 60_000 } });
    const refusal = new Error('the database refuses');
    store.down = refusal;
    queue.enqueue(1);
    await settle();
    expect(store.attempts).toBe(1);

    await expect(queue.flush()).rejects.toBe(refusal);
    expect(store.attempts).toBe(2);
    expect(queue.size).toBe(1);

    store.down = null;
    await queue.flush();
    expect(store.attempts).toBe(3);
    expect(store.written).toEqual([[1]]);
  });

  it('past a bound that drops the newest, queues a notice of how many went once there is room', async () => {
    const store = fakeStore<string>();
    const queue = queueOver(store, {
      batchSize: (waiting) => waiting.length,
      bound: { max: 3, drop: 'newest', notice: (n) => `lost ${n}` },
    });
    store.down = new Error('down');
    for (let i = 0; i < 5; i++) queue.enqueue(`e${i}`);
    expect(queue.size).toBe(3);
    expect(queue.dropped).toBe(2);
    await expect(queue.flush()).rejects.toThrow('down');

    store.down = null;
    await queue.flush();
    expect(store.written).toEqual([['e0', 'e1', 'e2'], ['lost 2']]);
  });

  it('past a bound that drops the oldest, drops only the counted items, never the batch in a write', async () => {
    const store = fakeStore<string>();
    const queue = queueOver(store, {
      batchSize: () => 1,
      bound: { max: 2, drop: 'oldest', counts: (item) => item.startsWith('s') },
    });
    store.hold = true;
    queue.enqueue('s1');
    await settle();
    // s1 is being written: it stays whatever comes after it.
    for (const item of ['e1', 's2', 's3', 'e2', 's4']) queue.enqueue(item);
    expect(queue.dropped).toBe(2);
    expect(queue.size).toBe(4);

    store.release();
    await queue.flush();
    expect(store.written.flat()).toEqual(['s1', 'e1', 'e2', 's4']);
  });

  it('runs a task between the writes queued before it and those after; a failed task rejects only itself', async () => {
    const store = fakeStore<number>();
    const queue = queueOver(store);
    queue.enqueue(1);
    queue.enqueue(2);
    queue.enqueue(3);
    const seen = queue.runInOrder(() => Promise.resolve(store.written.flat()));
    const failed = queue.runInOrder(() => Promise.reject(new Error('task failed')));
    queue.enqueue(4);
    expect(await seen).toEqual([1, 2, 3]);
    await expect(failed).rejects.toThrow('task failed');
    await queue.flush();
    expect(store.written).toEqual([[1, 2], [3], [4]]);
  });

  it('a task waits while the writes before it are refused', async () => {
    const store = fakeStore<number>();
    const queue = queueOver(store);
    store.down = new Error('down');
    queue.enqueue(1);
    let ran = false;
    const task = queue.runInOrder(async () => {
      ran = true;
      return store.written.flat();
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ran).toBe(false);
    store.down = null;
    await queue.flush();
    expect(await task).toEqual([1]);
  });

  it('a write done with only part of its batch leaves the rest first in line', async () => {
    const store = fakeStore<number>();
    const done: number[][] = [];
    const queue = queueOver(store, {
      batchSize: (waiting) => waiting.length,
      // Takes the first item of each batch only.
      write: (batch) => {
        done.push([...batch]);
        return Promise.resolve(1);
      },
    });
    for (const i of [1, 2, 3]) queue.enqueue(i);
    await queue.flush();
    expect(done).toEqual([[1, 2, 3], [2, 3], [3]]);
    expect(queue.size).toBe(0);
  });
});
