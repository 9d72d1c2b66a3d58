import { describe, expect, it } from 'vitest';
import { KeyspaceBreakdown, keyPrefix, MAX_PREFIXES, OTHER_PREFIXES } from './keyspace-breakdown';

const put = (main: number, key: string, value: string) =>
  [
    { main, sub: 0, tombstone: false },
    { key: Buffer.from(key), value: Buffer.from(value) },
  ] as const;
const del = (main: number, key: string) =>
  [
    { main, sub: 0, tombstone: true },
    { key: Buffer.from(key), value: Buffer.alloc(0) },
  ] as const;

describe('keyPrefix', () => {
  it('takes the first two path segments of a key starting with "/"', () => {
    expect(keyPrefix(Buffer.from('/registry/pods/default/web-0'))).toBe('/registry/pods');
    expect(keyPrefix(Buffer.from('/registry/pods'))).toBe('/registry/pods');
    expect(keyPrefix(Buffer.from('/registry'))).toBe('/registry');
    expect(keyPrefix(Buffer.from('/'))).toBe('/');
  });

  it('takes the first segment of any other key', () => {
    expect(keyPrefix(Buffer.from('health'))).toBe('health');
    expect(keyPrefix(Buffer.from('app/config/x'))).toBe('app');
    expect(keyPrefix(Buffer.from(''))).toBe('');
  });

  it('cuts very long prefixes so huge keys cannot bloat the table', () => {
    expect(keyPrefix(Buffer.from(`/${'a'.repeat(5000)}/b`))).toHaveLength(256);
  });
});

describe('KeyspaceBreakdown', () => {
  it('counts live keys and their latest bytes, and every stored revision, per prefix', () => {
    const b = new KeyspaceBreakdown();
    b.add(...put(2, '/registry/pods/a/p1', 'x'.repeat(100)));
    b.add(...put(3, '/registry/pods/a/p2', 'y'.repeat(10)));
    b.add(...put(4, '/registry/pods/a/p1', 'z'.repeat(50))); // overwrite: the latest size counts
    b.add(...put(5, '/registry/events/a/e1', 'e'));
    b.add(...del(6, '/registry/events/a/e1')); // deleted: not live, but its revisions are stored
    b.add(...put(7, '/registry/secrets/a/s1', 's'));
    b.add(...del(8, '/registry/secrets/a/s1'));
    b.add(...put(9, '/registry/secrets/a/s1', 'back')); // re-created after a delete: live again
    b.add(...put(10, 'flat', 'v'));
    expect(b.result()).toEqual([
      { prefix: '/registry/pods', liveKeys: 2, bytes: 19 + 50 + 19 + 10, revisions: 3 },
      { prefix: '/registry/secrets', liveKeys: 1, bytes: 22 + 4, revisions: 3 },
      { prefix: 'flat', liveKeys: 1, bytes: 5, revisions: 1 },
      { prefix: '/registry/events', liveKeys: 0, bytes: 0, revisions: 2 },
    ]);
  });

  it('keeps the per-key state of many keys exact as its table grows', () => {
    const b = new KeyspaceBreakdown();
    let main = 1;
    for (let i = 0; i < 50_000; i++) b.add(...put(main++, `/k/${i % 3}/key-${i}`, 'v'.repeat(i % 7)));
    for (let i = 0; i < 50_000; i += 2) b.add(...del(main++, `/k/${i % 3}/key-${i}`));
    const rows = b.result();
    const expected = [0, 1, 2].map((p) => {
      let liveKeys = 0;
      let bytes = 0;
      let revisions = 0;
      for (let i = p; i < 50_000; i += 3) {
        revisions += i % 2 === 0 ? 2 : 1;
        if (i % 2 === 1) {
          liveKeys++;
          bytes += `/k/${p}/key-${i}`.length + (i % 7);
        }
      }
      return { prefix: `/k/${p}`, liveKeys, bytes, revisions };
    });
    expect([...rows].sort((a, b) => a.prefix.localeCompare(b.prefix))).toEqual(expected);
  });

  it(`lumps keys beyond ${MAX_PREFIXES} distinct prefixes into one row`, () => {
    const b = new KeyspaceBreakdown();
    for (let i = 0; i < MAX_PREFIXES + 5; i++) b.add(...put(i + 1, `flat-${i}`, 'v'));
    const rows = b.result();
    expect(rows).toHaveLength(MAX_PREFIXES + 1);
    expect(rows.find((r) => r.prefix === OTHER_PREFIXES)).toEqual({
      prefix: OTHER_PREFIXES,
      liveKeys: 5,
      bytes: 5 * ('flat-10000'.length + 1),
      revisions: 5,
    });
  });
});

describe('KeyspaceBreakdown.addSpan', () => {
  it('counts a key inside a larger buffer as add counts the same key on its own', () => {
    const keys = [
      '/registry/pods/a',
      '/registry/pods/b',
      '/registry/secrets/x',
      'flat',
      '',
      '/',
      '/a',
      'é/x',
      '\xff/y',
    ];
    const byAdd = new KeyspaceBreakdown();
    const bySpan = new KeyspaceBreakdown();
    keys.forEach((key, i) => {
      const tombstone = i % 3 === 2;
      const value = tombstone ? '' : 'v'.repeat(i);
      if (tombstone) byAdd.add(...del(i + 1, key));
      else byAdd.add(...put(i + 1, key, value));
      const k = Buffer.from(key);
      const buf = Buffer.concat([Buffer.from('before'), k, Buffer.from('after')]);
      bySpan.addSpan(tombstone, buf, 6, 6 + k.length, value.length);
    });
    expect(bySpan.result()).toEqual(byAdd.result());
  });

  it('tells apart prefixes whose bytes differ but which decode to the same text, as keyPrefix does', () => {
    const byAdd = new KeyspaceBreakdown();
    const bySpan = new KeyspaceBreakdown();
    for (const [i, key] of [Buffer.from([0xff, 0x2f, 0x61]), Buffer.from([0xfe, 0x2f, 0x62])].entries()) {
      byAdd.add({ main: i + 1, sub: 0, tombstone: false }, { key, value: Buffer.from('v') });
      bySpan.addSpan(false, key, 0, key.length, 1);
    }
    expect(bySpan.result()).toEqual(byAdd.result());
    expect(bySpan.result()).toEqual([{ prefix: '\ufffd', liveKeys: 2, bytes: 8, revisions: 2 }]);
  });
});
