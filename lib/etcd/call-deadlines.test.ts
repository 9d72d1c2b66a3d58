import { afterEach, expect, it, vi } from 'vitest';
import { deadlines, FIRST_CALL_EXTRA_MS } from './member-client';

afterEach(() => vi.useRealTimers());

it('gives the calls of a new client room to open the connection, and later calls the plain deadline', () => {
  vi.useFakeTimers({ now: 1_000_000 });
  const next = deadlines(800);
  // The first call, and one begun beside it while the connection is being set up: both until the window's end.
  expect(next()).toBe(1_000_000 + 800 + FIRST_CALL_EXTRA_MS);
  vi.advanceTimersByTime(300);
  expect(next()).toBe(1_000_000 + 800 + FIRST_CALL_EXTRA_MS);
  // Past the window: the plain deadline.
  vi.advanceTimersByTime(FIRST_CALL_EXTRA_MS);
  expect(next()).toBe(1_000_000 + 300 + FIRST_CALL_EXTRA_MS + 800);
  vi.advanceTimersByTime(5000);
  expect(next()).toBe(Date.now() + 800);
  // Each client has its own window.
  expect(deadlines(800)()).toBe(Date.now() + 800 + FIRST_CALL_EXTRA_MS);
});
