import { describe, expect, it } from 'vitest';
import { parseTimeRange, TimeRangeError } from './time-range';

const NOW = Date.UTC(2025, 2, 15, 12, 0, 0);
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

function errorOf(fn: () => unknown): TimeRangeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TimeRangeError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('parseTimeRange', () => {
  it('defaults to the last hour, or to the given default', () => {
    expect(parseTimeRange({}, NOW)).toEqual({ from: NOW - H, to: NOW });
    expect(parseTimeRange({ from: null, to: null }, NOW, '-24h')).toEqual({ from: NOW - D, to: NOW });
    expect(parseTimeRange({ from: '', to: '' }, NOW)).toEqual({ from: NOW - H, to: NOW });
  });

  it.each([
    ['-30s', 30 * S],
    ['-15m', 15 * M],
    ['-1h', H],
    ['-6h', 6 * H],
    ['-24h', D],
    ['-7d', 7 * D],
  ])('reads %s as that long before now', (from, ms) => {
    expect(parseTimeRange({ from }, NOW)).toEqual({ from: NOW - ms, to: NOW });
  });

  it('reads "now" and relative times for "to" too', () => {
    expect(parseTimeRange({ from: '-2h', to: '-1h' }, NOW)).toEqual({ from: NOW - 2 * H, to: NOW - H });
    expect(parseTimeRange({ from: '-1h', to: 'now' }, NOW)).toEqual({ from: NOW - H, to: NOW });
  });

  it('reads ISO 8601 times with Z, with an offset, with fractions, and dates', () => {
    expect(parseTimeRange({ from: '2025-03-15T10:00:00Z', to: '2025-03-15T11:30:00.250Z' }, NOW)).toEqual({
      from: Date.UTC(2025, 2, 15, 10),
      to: Date.UTC(2025, 2, 15, 11, 30, 0, 250),
    });
    expect(parseTimeRange({ from: '2025-03-15T12:00:00+02:00' }, NOW).from).toBe(Date.UTC(2025, 2, 15, 10));
    expect(parseTimeRange({ from: '2025-03-15T12:00+0200' }, NOW).from).toBe(Date.UTC(2025, 2, 15, 10));
    expect(parseTimeRange({ from: '2025-03-14' }, NOW).from).toBe(Date.UTC(2025, 2, 14));
  });

  it('reads an ISO time without an offset as UTC, the same in the browser and on the server', () => {
    expect(parseTimeRange({ from: '2025-03-15T10:00:00' }, NOW).from).toBe(Date.UTC(2025, 2, 15, 10));
  });

  it.each(['yesterday', 'March 7, 2025', '-1y', '1h', '-h', '2025-02-30T00:00:00Z', '2025-13-01', '12:00'])(
    'refuses from=%j naming the parameter and the value',
    (from) => {
      const err = errorOf(() => parseTimeRange({ from }, NOW));
      expect(err.param).toBe('from');
      expect(err.message).toBe(`from: ${JSON.stringify(from)} is not an ISO time or a relative time like -1h`);
    },
  );

  it('names "to" when that is the bad one', () => {
    const err = errorOf(() => parseTimeRange({ from: '-1h', to: 'later' }, NOW));
    expect(err.param).toBe('to');
    expect(err.message).toBe('to: "later" is not an ISO time or a relative time like -1h');
  });

  it('refuses a from that is not before to', () => {
    expect(errorOf(() => parseTimeRange({ from: '-1h', to: '-2h' }, NOW)).message).toBe(
      'from: "-1h" is not before to: "-2h"',
    );
    expect(() => parseTimeRange({ from: 'now' }, NOW)).toThrow(TimeRangeError);
  });

  it('allows 31 days and refuses more', () => {
    expect(parseTimeRange({ from: '-31d' }, NOW)).toEqual({ from: NOW - 31 * D, to: NOW });
    const err = errorOf(() => parseTimeRange({ from: '-32d' }, NOW));
    expect(err.param).toBe('from');
    expect(err.message).toBe('from: "-32d" is more than 31 days before to: "now"');
  });
});
