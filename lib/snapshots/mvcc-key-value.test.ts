import { describe, expect, it } from 'vitest';
import { decodeKeyValue, decodeKeyValueSpan, parseRevisionKey } from './mvcc-key-value';
import { SnapshotFormatError } from './snapshot-format-error';

// A minimal protobuf encoder for building test values.
function varint(n: bigint): number[] {
  let v = BigInt.asUintN(64, n);
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return out;
}
const intField = (field: number, n: bigint | number) => [...varint(BigInt(field * 8)), ...varint(BigInt(n))];
const bytesField = (field: number, data: Buffer) => [
  ...varint(BigInt(field * 8 + 2)),
  ...varint(BigInt(data.length)),
  ...data,
];

function revisionKey(main: number, sub: number, tombstone = false): Buffer {
  const key = Buffer.alloc(tombstone ? 18 : 17);
  key.writeBigUInt64BE(BigInt(main), 0);
  key[8] = 0x5f;
  key.writeBigUInt64BE(BigInt(sub), 9);
  if (tombstone) key[17] = 0x74;
  return key;
}

describe('parseRevisionKey', () => {
  it('reads main and sub revisions and the tombstone mark', () => {
    expect(parseRevisionKey(revisionKey(22, 1))).toEqual({ main: 22, sub: 1, tombstone: false });
    expect(parseRevisionKey(revisionKey(2 ** 40 + 5, 0, true))).toEqual({ main: 2 ** 40 + 5, sub: 0, tombstone: true });
  });

  it('refuses keys that are not revisions', () => {
    expect(() => parseRevisionKey(Buffer.from('compact_rev_key'))).toThrow(SnapshotFormatError);
    expect(() => parseRevisionKey(Buffer.concat([revisionKey(1, 0), Buffer.from('x')]))).toThrow(/not a revision/);
    const noSeparator = revisionKey(1, 0);
    noSeparator[8] = 0;
    expect(() => parseRevisionKey(noSeparator)).toThrow(/not a revision/);
  });
});

describe('decodeKeyValue', () => {
  it('decodes every field, including a lease ID that needs all 64 bits', () => {
    const lease = 0x694d7a5bdb2a3c0dn;
    const buf = Buffer.from([
      ...bytesField(1, Buffer.from('/registry/pods/default/web-0')),
      ...intField(2, 7),
      ...intField(3, 2 ** 50 + 3),
      ...intField(4, 3),
      ...bytesField(5, Buffer.from('k8s\0value')),
      ...intField(6, lease),
    ]);
    const kv = decodeKeyValue(buf);
    expect(kv.key.toString()).toBe('/registry/pods/default/web-0');
    expect(kv).toMatchObject({ createRevision: 7, modRevision: 2 ** 50 + 3, version: 3, lease });
    expect(kv.value.toString()).toBe('k8s\0value');
  });

  it('decodes a tombstone, which carries only the key, to defaults', () => {
    const kv = decodeKeyValue(Buffer.from(bytesField(1, Buffer.from('/gone'))));
    expect(kv.key.toString()).toBe('/gone');
    expect(kv).toMatchObject({ createRevision: 0, modRevision: 0, version: 0, lease: 0n });
    expect(kv.value).toHaveLength(0);
  });

  it('skips fields it does not know', () => {
    const buf = Buffer.from([
      ...intField(9, 1),
      ...bytesField(1, Buffer.from('k')),
      ...bytesField(12, Buffer.from('ignored')),
      ...[(13 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8],
      ...[(14 << 3) | 5, 1, 2, 3, 4],
      ...bytesField(5, Buffer.from('v')),
    ]);
    const kv = decodeKeyValue(buf);
    expect([kv.key.toString(), kv.value.toString()]).toEqual(['k', 'v']);
  });

  it('refuses truncated or mistyped input with a SnapshotFormatError, never a crash', () => {
    const good = Buffer.from([
      ...bytesField(1, Buffer.from('key')),
      ...intField(2, 300),
      ...bytesField(5, Buffer.from('val')),
    ]);
    for (let cut = 1; cut < good.length; cut++) {
      try {
        decodeKeyValue(good.subarray(0, cut));
      } catch (err) {
        expect(err).toBeInstanceOf(SnapshotFormatError);
      }
    }
    expect(() => decodeKeyValue(good.subarray(0, 3))).toThrow(/runs past the end/);
    expect(() => decodeKeyValue(Buffer.from(intField(1, 5)))).toThrow(/field 1 has wire type 0/);
    expect(() => decodeKeyValue(Buffer.from([0x08 | 0x80]))).toThrow(/truncated varint/);
    expect(() => decodeKeyValue(Buffer.from([0x10, ...Array(10).fill(0xff), 1]))).toThrow(/longer than 10 bytes/);
    expect(() => decodeKeyValue(Buffer.from([0x10, ...varint(-1n)]))).toThrow(/create_revision out of range/);
    expect(() => decodeKeyValue(Buffer.from([0x03]))).toThrow(/field number 0/);
  });
});

describe('decodeKeyValueSpan', () => {
  const span = () => ({ keyStart: -1, keyEnd: -1, valueLength: -1 });
  const agrees = (buf: Buffer) => {
    let expected: unknown;
    try {
      const kv = decodeKeyValue(buf);
      expected = { key: kv.key.toString('hex'), valueLength: kv.value.length };
    } catch (err) {
      expected = (err as Error).message;
    }
    let actual: unknown;
    try {
      const s = decodeKeyValueSpan(buf, span());
      actual = { key: buf.subarray(s.keyStart, s.keyEnd).toString('hex'), valueLength: s.valueLength };
    } catch (err) {
      expect(err).toBeInstanceOf(SnapshotFormatError);
      actual = (err as Error).message;
    }
    expect(actual).toEqual(expected);
  };

  it('finds the key and the value length where decodeKeyValue does, and fails where it fails, with its message', () => {
    const good = Buffer.from([
      ...bytesField(1, Buffer.from('/registry/pods/a')),
      ...intField(2, 300),
      ...intField(3, 2n ** 40n),
      ...intField(4, 7),
      ...bytesField(5, Buffer.from('value bytes')),
      ...intField(6, -5n),
      ...bytesField(9, Buffer.from('unknown')),
    ]);
    agrees(good);
    for (let cut = 0; cut < good.length; cut++) agrees(good.subarray(0, cut));
    agrees(Buffer.from(bytesField(1, Buffer.from('k'))));
    agrees(Buffer.from([...bytesField(1, Buffer.from('first')), ...bytesField(1, Buffer.from('second'))]));
    agrees(Buffer.from(intField(1, 5)));
    agrees(Buffer.from([0x10, ...Array(10).fill(0xff), 1]));
    agrees(Buffer.from([0x10, ...varint(-1n)]));
    agrees(Buffer.from([0x03]));
    agrees(Buffer.from([0x0f]));
  });
});
