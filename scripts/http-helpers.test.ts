import { describe, expect, it } from 'vitest';
import { acceptsGzip, undecodableSegment } from './http-helpers.mjs';

describe('acceptsGzip: whether the status fast path may compress its answer', () => {
  it.each([
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['br;q=1.0, GZIP;q=0.5', true],
    ['*', true],
    ['identity', false],
    ['gzip;q=0', false],
    ['gzip;q=0.0, br', false],
    ['*;q=0', false],
    ['gzip;q=0, *', false],
    ['*, gzip;q=0', false],
    ['*;q=0, gzip', true],
    ['br, *;q=0.1', true],
    ['xgzip, gzipper', false],
    ['', false],
  ])('%j → %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });

  it('no header is not taken as consent; a repeated one arrives joined, as Node.js joins it', () => {
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip('identity, gzip')).toBe(true);
  });
});

describe('undecodableSegment: paths Next.js would answer with a bare 500', () => {
  it('names the first segment that does not decode, and passes good ones', () => {
    expect(undecodableSegment('/api/clusters/%zz/status')).toBe('%zz');
    expect(undecodableSegment('/api/clusters/%c0%ae/status?x=%zz')).toBe('%c0%ae');
    expect(undecodableSegment('/api/clusters/default/status?x=%zz')).toBeNull();
    expect(undecodableSegment('/api/clusters/caf%C3%A9/status')).toBeNull();
    expect(undecodableSegment(undefined)).toBeNull();
  });
});
