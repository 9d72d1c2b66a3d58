import { describe, expect, it } from 'vitest';
import { contextOf, readCookie, SESSION_COOKIE } from '@/lib/access/request-context';
import { nodeHeaderReader } from './fast-routes';

describe('nodeHeaderReader: Node.js parsed headers read as the access check reads a Fetch Headers', () => {
  const node = {
    authorization: 'Bearer etcdd_abc',
    cookie: `theme=dark; ${SESSION_COOKIE}=s%3Dx`,
    // Node.js joins most repeated headers itself; only a few (set-cookie) arrive as arrays. Both read the same.
    'x-forwarded-groups': ['sre', 'platform-admins'],
    'x-etcd-dashboard-peer': '127.0.0.1',
    'x-empty': '',
    'x-missing': undefined,
  };

  it('matches what new Headers() gives for the same request, names in any case', () => {
    const fetchHeaders = new Headers();
    fetchHeaders.set('authorization', 'Bearer etcdd_abc');
    fetchHeaders.set('cookie', node.cookie);
    fetchHeaders.append('x-forwarded-groups', 'sre');
    fetchHeaders.append('x-forwarded-groups', 'platform-admins');
    fetchHeaders.set('x-etcd-dashboard-peer', '127.0.0.1');
    fetchHeaders.set('x-empty', '');
    const reader = nodeHeaderReader(node);
    for (const name of [
      'Authorization',
      'cookie',
      'X-Forwarded-Groups',
      'x-etcd-dashboard-peer',
      'x-empty',
      'x-none',
    ]) {
      expect(reader.get(name), name).toBe(fetchHeaders.get(name));
    }
    expect(reader.get('x-forwarded-groups')).toBe('sre, platform-admins');
    expect(reader.get('x-missing')).toBeNull();
  });

  it('gives the access check the same context: method, peer and session cookie', () => {
    const ctx = contextOf('GET', nodeHeaderReader(node));
    expect(ctx).toMatchObject({ method: 'GET', peer: '127.0.0.1', sessionToken: 's=x' });
    expect(readCookie(nodeHeaderReader({}), SESSION_COOKIE)).toBeUndefined();
    expect(contextOf('get', nodeHeaderReader({})).peer).toBeNull();
  });

  it('a session cookie whose value does not decode is no cookie, not an error', () => {
    for (const value of ['%zz', '%', '%c0%ae']) {
      const ctx = contextOf('GET', nodeHeaderReader({ cookie: `${SESSION_COOKIE}=${value}` }));
      expect(ctx.sessionToken, value).toBeUndefined();
    }
    expect(readCookie(nodeHeaderReader({ cookie: `a=%zz; ${SESSION_COOKIE}=ok` }), SESSION_COOKIE)).toBe('ok');
  });
});
