import { afterEach, expect, it, vi } from 'vitest';
import { deadlines, FIRST_CALL_EXTRA_MS } from './member-client';

afterEach(() => vi.useRealTimers());

it('gives a client’s first call room to open the connection, and every later call the plain deadline', () => {
  vi.useFakeTimers({ now: 1_000_000 });
  const next = deadlines(800);
  expect(next()).toBe(1_000_000 + 800 + FIRST_CALL_EXTRA_MS);
  vi.advanceTimersByTime(5000);
  expect(next()).toBe(1_005_000 + 800);
  expect(next()).toBe(1_005_000 + 800);
  // Each client counts its own first call.
  expect(deadlines(800)()).toBe(1_005_000 + 800 + FIRST_CALL_EXTRA_MS);
});
