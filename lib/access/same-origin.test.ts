import { describe, expect, it } from 'vitest';
import { parseTrustedProxies } from '@/lib/auth/address';
import { contextOf, PEER_HEADER } from './request-context';
import { crossOriginRefusal } from './same-origin';

const TRUSTED = parseTrustedProxies('10.0.0.5');
const PROXY = '10.0.0.5';
const ANYONE = '203.0.113.9';

/** A cookie-carrying POST from `peer` with these headers, as server/server.mjs hands it on. */
function post(peer: string, headers: Record<string, string>) {
  return contextOf('POST', new Headers({ ...headers, [PEER_HEADER]: peer }));
}

describe('crossOriginRefusal: a state-changing request riding a cookie must come from the dashboard itself', () => {
  it('lets Sec-Fetch-Site same-origin and none through, and refuses cross-site', () => {
    expect(crossOriginRefusal(post(ANYONE, { 'Sec-Fetch-Site': 'same-origin' }), TRUSTED)).toBeNull();
    expect(crossOriginRefusal(post(ANYONE, { 'Sec-Fetch-Site': 'none' }), TRUSTED)).toBeNull();
    expect(crossOriginRefusal(post(ANYONE, { 'Sec-Fetch-Site': 'cross-site' }), TRUSTED)).toMatch(/cross-site/);
  });

  it('without Sec-Fetch-Site, compares Origin with Host', () => {
    const host = 'dashboard.example:3000';
    expect(crossOriginRefusal(post(ANYONE, { Origin: `http://${host}`, Host: host }), TRUSTED)).toBeNull();
    expect(crossOriginRefusal(post(ANYONE, { Origin: 'https://evil.example', Host: host }), TRUSTED)).toBe(
      'cross-site request refused (Origin https://evil.example is not this dashboard)',
    );
    expect(crossOriginRefusal(post(ANYONE, { Host: host }), TRUSTED)).toBeNull();
  });

  it("believes X-Forwarded-Host from a trusted proxy: the browser asked for the proxy's host", () => {
    const headers = {
      Origin: 'https://etcd.example.com',
      Host: '10.0.0.20:3000',
      'X-Forwarded-Host': 'etcd.example.com',
    };
    expect(crossOriginRefusal(post(PROXY, headers), TRUSTED)).toBeNull();
  });

  // The security review: any client could name its own Origin as the host and pass.
  it('ignores X-Forwarded-Host from anyone else, and compares Origin with Host', () => {
    const headers = {
      Origin: 'https://evil.example',
      Host: 'dashboard.example:3000',
      'X-Forwarded-Host': 'evil.example',
    };
    expect(crossOriginRefusal(post(ANYONE, headers), TRUSTED)).toBe(
      'cross-site request refused (Origin https://evil.example is not this dashboard)',
    );
    expect(crossOriginRefusal(post(ANYONE, headers), parseTrustedProxies(''))).not.toBeNull();
  });
});
