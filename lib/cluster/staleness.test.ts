import { describe, expect, it } from 'vitest';
import { isStale, staleAfterMs } from './staleness';

describe('staleAfterMs', () => {
  it('is three missed polls with the default 1 s poll and 800 ms probe timeout', () => {
    expect(staleAfterMs(1000, 800)).toBe(3000);
  });

  it('waits for a slow poll to finish when probes time out late', () => {
    // A poll whose calls all run to a 2 s deadline ends 5 s after the previous observation: not yet stale.
    expect(staleAfterMs(1000, 2000)).toBe(5000);
  });

  it('grows with the poll interval', () => {
    expect(staleAfterMs(10_000, 800)).toBe(30_000);
  });
});

describe('isStale', () => {
  const observedAt = '2025-03-01T12:00:00.000Z';
  const at = Date.parse(observedAt);

  it('is stale before any observation', () => {
    expect(isStale(null, at, 3000)).toBe(true);
  });

  it('treats an unreadable time as stale rather than fresh', () => {
    expect(isStale('not a time', at, 3000)).toBe(true);
    expect(isStale('', at, 3000)).toBe(true);
  });

  it('is fresh up to the threshold and stale just after it', () => {
    expect(isStale(observedAt, at, 3000)).toBe(false);
    expect(isStale(observedAt, at + 2999, 3000)).toBe(false);
    expect(isStale(observedAt, at + 3000, 3000)).toBe(false);
    expect(isStale(observedAt, at + 3001, 3000)).toBe(true);
  });

  it('is stale long after the last poll', () => {
    expect(isStale(observedAt, at + 60_000, staleAfterMs(1000, 800))).toBe(true);
  });
});
