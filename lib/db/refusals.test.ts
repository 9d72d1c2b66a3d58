import { describe, expect, it } from 'vitest';
import { refusedForGood } from './refusals';

describe('refusedForGood', () => {
  it('names what the database will refuse again: our checks, constraints, data errors', () => {
    expect(refusedForGood(new RangeError('at: not a time'))).toBe(true);
    expect(refusedForGood(Object.assign(new Error('UNIQUE'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }))).toBe(true);
    expect(refusedForGood(Object.assign(new Error('NUL'), { code: '22P05' }))).toBe(true);
    expect(refusedForGood(Object.assign(new Error('check'), { code: '23514' }))).toBe(true);
  });

  it('not a database that is down, busy or gone', () => {
    expect(refusedForGood(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(refusedForGood(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' }))).toBe(false);
    expect(refusedForGood(Object.assign(new Error('shutting down'), { code: '57P01' }))).toBe(false);
    expect(refusedForGood(new Error('Connection terminated unexpectedly'))).toBe(false);
  });
});
