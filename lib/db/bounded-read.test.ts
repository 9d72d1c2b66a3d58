import { describe, expect, it } from 'vitest';
import { boundedRead } from './bounded-read';

describe('boundedRead', () => {
  it('gives the answer when it comes in time', async () => {
    expect(await boundedRead(Promise.resolve(7), 0, 50)).toBe(7);
  });

  it('gives the fallback when the read fails, and when it is too slow', async () => {
    expect(await boundedRead(Promise.reject(new Error('connection refused')), 0, 50)).toBe(0);
    const slow = new Promise<number>((resolve) => setTimeout(() => resolve(7), 500));
    const started = Date.now();
    expect(await boundedRead(slow, 0, 50)).toBe(0);
    expect(Date.now() - started).toBeLessThan(400);
  });
});
