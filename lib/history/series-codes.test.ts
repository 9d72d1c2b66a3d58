import { describe, expect, it } from 'vitest';
import { SERIES_NAMES } from './series';
import { SERIES_CODES } from './series-codes';

describe('SERIES_CODES', () => {
  it('gives every series its own positive integer code', () => {
    const codes = SERIES_NAMES.map((name) => SERIES_CODES[name]);
    expect(codes.every((c) => Number.isInteger(c) && c > 0)).toBe(true);
    expect(new Set(codes).size).toBe(SERIES_NAMES.length);
  });

  it('keeps the codes already written to databases', () => {
    // Stored rows carry these numbers: changing one would relabel history.
    expect(SERIES_CODES).toMatchObject({ probe_ms: 1, db_size_bytes: 2, raft_index: 8, proposals_pending: 10 });
  });
});
