import { describe, expect, it } from 'vitest';
import { safeNext } from './sign-in-next';

describe('safeNext: where the browser goes after signing in', () => {
  it('keeps a path on this dashboard, with its query and fragment', () => {
    expect(safeNext('/clusters/prod')).toBe('/clusters/prod');
    expect(safeNext('/clusters/prod/snapshots?from=-7d#latest')).toBe('/clusters/prod/snapshots?from=-7d#latest');
    expect(safeNext('/a/../audit')).toBe('/audit');
  });

  it('sends nothing, a full URL, or a protocol-relative one to the overview', () => {
    expect(safeNext(null)).toBe('/');
    expect(safeNext('')).toBe('/');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext('/\\evil.example/')).toBe('/');
    expect(safeNext('/\t/evil.example/')).toBe('/');
  });

  // The security review's open redirect: each cleaned to "//127.0.0.1:3999/pwned", which a browser reads as another
  // origin.
  it.each([
    '/.//127.0.0.1:3999/pwned',
    '/..//127.0.0.1:3999/pwned',
    '/%2e//127.0.0.1:3999/pwned',
    '/a/..//127.0.0.1:3999/pwned',
    '/%2E%2E//127.0.0.1:3999/pwned',
    '/././/127.0.0.1:3999/pwned',
  ])('%s goes to the overview, never to another origin', (next) => {
    expect(safeNext(next)).toBe('/');
  });

  it('whatever it returns, a browser resolves it on this dashboard', () => {
    const here = 'https://dashboard.example:8443';
    for (const next of ['/x', '/.//h/x', '/%2e%2e//h', '/./%2e//h', '///h', '/a/b/../../..//h', '/?next=//h']) {
      expect(new URL(safeNext(next), here).origin).toBe(here);
    }
  });
});
