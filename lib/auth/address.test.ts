import { describe, expect, it } from 'vitest';
import { parseTrustedProxies } from './address';

describe('parseTrustedProxies', () => {
  it('trusts the listed addresses and ranges, IPv4 and IPv6, and nothing else', () => {
    const proxies = parseTrustedProxies('127.0.0.1, 10.0.0.0/8  ::1,fd00::/8\n192.168.1.0/24');
    expect(proxies.entries).toEqual(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', '192.168.1.0/24']);
    for (const ip of ['127.0.0.1', '10.0.0.1', '10.255.255.255', '::1', 'fd12:3456::1', '192.168.1.200']) {
      expect(proxies.isTrusted(ip), ip).toBe(true);
    }
    for (const ip of ['127.0.0.2', '11.0.0.1', '192.168.2.1', '::2', 'fe80::1', '2001:db8::1']) {
      expect(proxies.isTrusted(ip), ip).toBe(false);
    }
  });

  it('answers the same when asked again, past its memo of 1024 addresses and for long junk', () => {
    const proxies = parseTrustedProxies('10.0.0.0/8');
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 1500; i++) {
        expect(proxies.isTrusted(`10.0.${i >> 8}.${i & 255}`)).toBe(true);
        expect(proxies.isTrusted(`11.0.${i >> 8}.${i & 255}`)).toBe(false);
      }
      expect(proxies.isTrusted('x'.repeat(10_000))).toBe(false);
      expect(proxies.isTrusted('')).toBe(false);
    }
  });

  it('reads an IPv4-mapped IPv6 address as the IPv4 address, in either place', () => {
    const proxies = parseTrustedProxies('127.0.0.1, 10.0.0.0/8');
    expect(proxies.isTrusted('::ffff:127.0.0.1')).toBe(true);
    expect(proxies.isTrusted('::FFFF:10.1.2.3')).toBe(true);
    expect(proxies.isTrusted('::ffff:11.1.2.3')).toBe(false);

    const mapped = parseTrustedProxies('::ffff:192.168.0.10, ::ffff:172.16.0.0/108');
    expect(mapped.isTrusted('192.168.0.10')).toBe(true);
    expect(mapped.isTrusted('::ffff:192.168.0.10')).toBe(true);
    expect(mapped.isTrusted('172.31.255.1')).toBe(true);
    expect(mapped.isTrusted('172.32.0.1')).toBe(false);
    // Read as IPv6, ::ffff:10.0.0.0/8 would be ::/8 and trust every IPv4 address; as IPv4 it has no sense.
    expect(() => parseTrustedProxies('::ffff:10.0.0.0/8')).toThrow('trusted proxy "::ffff:10.0.0.0/8" is not');
  });

  it('trusts no one for an empty list, and nothing that is not an address', () => {
    const none = parseTrustedProxies('  ');
    expect(none.entries).toEqual([]);
    expect(none.isTrusted('127.0.0.1')).toBe(false);
    const proxies = parseTrustedProxies('0.0.0.0/0');
    expect(proxies.isTrusted('8.8.8.8')).toBe(true);
    for (const bad of ['', 'localhost', '127.0.0.1:3000', '10.0.0.1, 10.0.0.2', 'not an ip']) {
      expect(proxies.isTrusted(bad), bad).toBe(false);
    }
  });

  it('accepts a bracketed or zoned IPv6 address from a socket', () => {
    const proxies = parseTrustedProxies('fe80::/10');
    expect(proxies.isTrusted('[fe80::1]')).toBe(true);
    expect(proxies.isTrusted('fe80::1%eth0')).toBe(true);
  });

  it('throws naming the first entry that is neither an address nor a CIDR range', () => {
    for (const bad of ['localhost', '10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/-1', '256.0.0.1']) {
      expect(() => parseTrustedProxies(`127.0.0.1, ${bad}, also-bad`), bad).toThrow(
        `trusted proxy ${JSON.stringify(bad)} is not`,
      );
    }
  });
});
