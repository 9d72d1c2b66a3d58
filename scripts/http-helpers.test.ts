import { METHODS } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  acceptsGzip,
  declaresOversizedApiBody,
  MAX_API_BODY_BYTES,
  methodFetchRefuses,
  undecodableSegment,
} from './http-helpers.mjs';
import { MAX_BODY_BYTES } from '@/lib/api/parse-body';

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

describe('declaresOversizedApiBody: API requests refused by their Content-Length before a byte is read', () => {
  it('is the limit the API routes read bodies to (lib/api/parse-body.ts)', () => {
    expect(MAX_API_BODY_BYTES).toBe(MAX_BODY_BYTES);
  });

  it('refuses an API request declaring more than 64 KiB, as the 300 MB sign-in of the security review', () => {
    expect(declaresOversizedApiBody('/api/auth/login', '314572800')).toBe(true);
    expect(declaresOversizedApiBody('/api/tokens?x=1', String(64 * 1024 + 1))).toBe(true);
    expect(declaresOversizedApiBody('/api/auth/login', ' 70000 ')).toBe(true);
  });

  it('lets through a body within the limit, none at all, and other paths (Next.js reads page requests)', () => {
    expect(declaresOversizedApiBody('/api/auth/login', String(64 * 1024))).toBe(false);
    expect(declaresOversizedApiBody('/api/auth/login', '0')).toBe(false);
    expect(declaresOversizedApiBody('/api/auth/login', undefined)).toBe(false);
    expect(declaresOversizedApiBody('/login', '314572800')).toBe(false);
    expect(declaresOversizedApiBody('/apix', '314572800')).toBe(false);
    expect(declaresOversizedApiBody(undefined, '314572800')).toBe(false);
  });

  it('leaves a malformed length to Node.js, which refuses it before any handler runs', () => {
    expect(declaresOversizedApiBody('/api/auth/login', '1e9')).toBe(false);
    expect(declaresOversizedApiBody('/api/auth/login', '-1')).toBe(false);
  });
});

describe('methodFetchRefuses: methods Next.js cannot turn into a Request (a 500 with a stack trace in the log)', () => {
  const fetchRefuses = (method: string) => {
    try {
      new Request('http://dashboard.test/', { method });
      return false;
    } catch {
      return true;
    }
  };

  it('refuses TRACE, as the security review sent it, and TRACK and CONNECT', () => {
    expect(fetchRefuses('TRACE')).toBe(true);
    for (const method of ['TRACE', 'TRACK', 'CONNECT', 'trace']) expect(methodFetchRefuses(method)).toBe(true);
  });

  it('agrees with Request on every method Node.js parses, in either case', () => {
    for (const method of [...METHODS, ...METHODS.map((m) => m.toLowerCase())]) {
      expect([method, methodFetchRefuses(method)]).toEqual([method, fetchRefuses(method)]);
    }
  });

  it("lets the dashboard's own methods through", () => {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      expect(methodFetchRefuses(method)).toBe(false);
    }
    expect(methodFetchRefuses(undefined)).toBe(false);
  });
});
