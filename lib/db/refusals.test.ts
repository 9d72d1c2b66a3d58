import { describe, expect, it } from 'vitest';
import { databaseUnreachable, refusedForGood } from './refusals';

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

describe('databaseUnreachable', () => {
  it('names a database out of reach by its code or its first line, never a URL', () => {
    expect(
      databaseUnreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
    ).toBe('ECONNREFUSED');
    expect(databaseUnreachable(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(
      'SQLSTATE 57P01',
    );
    expect(databaseUnreachable(Object.assign(new Error('no connection'), { code: '08006' }))).toBe('SQLSTATE 08006');
    expect(databaseUnreachable(new Error('Connection terminated unexpectedly\nat …'))).toBe(
      'Connection terminated unexpectedly',
    );
  });

  it('not a request the database refuses, nor any other error', () => {
    expect(databaseUnreachable(Object.assign(new Error('check'), { code: '23514' }))).toBeNull();
    expect(databaseUnreachable(new Error('something else'))).toBeNull();
    expect(databaseUnreachable('a string')).toBeNull();
  });
});
