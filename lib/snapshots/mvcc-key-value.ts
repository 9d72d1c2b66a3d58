// Decodes what etcd's mvcc layer stores in the "key" bucket: revision keys and mvccpb.KeyValue values (only the fields we need).
import { SnapshotFormatError } from './snapshot-format-error';

/** A "key" bucket key: 8-byte big-endian main revision, '_', 8-byte big-endian sub revision, then 't' for a tombstone. */
export interface RevisionKey {
  main: number;
  sub: number;
  tombstone: boolean;
}

const REVISION_BYTES = 17;
const TWO_32 = 2 ** 32;

function readUint64BE(buf: Uint8Array, at: number): number {
  const hi = ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
  const lo = ((buf[at + 4]! << 24) | (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!) >>> 0;
  if (hi >= 2 ** 21) throw new SnapshotFormatError(`revision beyond 2^53 in key ${Buffer.from(buf).toString('hex')}`);
  return hi * TWO_32 + lo;
}

export function parseRevisionKey(key: Uint8Array): RevisionKey {
  const tombstone = key.length === REVISION_BYTES + 1 && key[REVISION_BYTES] === 0x74; /* 't' */
  if ((key.length !== REVISION_BYTES && !tombstone) || key[8] !== 0x5f /* '_' */) {
    throw new SnapshotFormatError(`"key" bucket key is not a revision: ${Buffer.from(key).toString('hex')}`);
  }
  return { main: readUint64BE(key, 0), sub: readUint64BE(key, 9), tombstone };
}

/** mvccpb.KeyValue. `key` and `value` are views into the decoded buffer, not copies. */
export interface MvccKeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Buffer;
  /** Lease IDs use all 64 bits, so they do not fit a number; 0n when the key has no lease. */
  lease: bigint;
}

const EMPTY = Buffer.alloc(0);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A read position in one protobuf message; every read checks the bounds and throws SnapshotFormatError. */
class Wire {
  at = 0;
  constructor(public buf: Buffer) {}

  fail(what: string): never {
    throw new SnapshotFormatError(`malformed mvccpb.KeyValue (${this.buf.length} bytes): ${what} at byte ${this.at}`);
  }

  /** Varints of up to 7 bytes (49 bits) stay exact as numbers; longer ones come back as int64 BigInts. */
  varint(): number | bigint {
    const { buf } = this;
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (this.at >= buf.length) this.fail('truncated varint');
      const b = buf[this.at++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 128;
    }
    let big = BigInt(n);
    for (let shift = 49n; shift < 70n; shift += 7n) {
      if (this.at >= buf.length) this.fail('truncated varint');
      const b = buf[this.at++]!;
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, big);
    }
    return this.fail('varint longer than 10 bytes');
  }

  int(field: string): number {
    const v = this.varint();
    if (typeof v === 'number') return v;
    if (v < 0n || v > MAX_SAFE) this.fail(`${field} out of range (${v})`);
    return Number(v);
  }

  bytes(): Buffer {
    const len = this.int('length');
    if (this.at + len > this.buf.length) this.fail(`length ${len} runs past the end`);
    this.at += len;
    return this.buf.subarray(this.at - len, this.at);
  }

  /** Like `bytes()`, without making a view: returns the field's length, leaving `at` at its end. */
  span(): number {
    const len = this.int('length');
    if (this.at + len > this.buf.length) this.fail(`length ${len} runs past the end`);
    this.at += len;
    return len;
  }

  skip(n: number): void {
    if (this.at + n > this.buf.length) this.fail('field runs past the end');
    this.at += n;
  }
}

/** Protobuf wire decoding of mvccpb.KeyValue fields 1–6; unknown fields are skipped, malformed input throws. */
export function decodeKeyValue(buf: Buffer): MvccKeyValue {
  const kv: MvccKeyValue = { key: EMPTY, createRevision: 0, modRevision: 0, version: 0, value: EMPTY, lease: 0n };
  const wire = new Wire(buf);
  while (wire.at < buf.length) {
    const tag = wire.int('tag');
    const field = Math.floor(tag / 8);
    const type = tag % 8;
    if (field === 0) wire.fail('field number 0');
    // Fields 1 and 5 are bytes (wire type 2), 2, 3, 4 and 6 are int64 (wire type 0).
    const expected = field === 1 || field === 5 ? 2 : field <= 6 ? 0 : type;
    if (type !== expected) wire.fail(`field ${field} has wire type ${type}`);
    if (field === 1) kv.key = wire.bytes();
    else if (field === 2) kv.createRevision = wire.int('create_revision');
    else if (field === 3) kv.modRevision = wire.int('mod_revision');
    else if (field === 4) kv.version = wire.int('version');
    else if (field === 5) kv.value = wire.bytes();
    else if (field === 6) kv.lease = BigInt(wire.varint());
    else if (type === 0) wire.varint();
    else if (type === 1) wire.skip(8);
    else if (type === 2) wire.bytes();
    else if (type === 5) wire.skip(4);
    else wire.fail(`unsupported wire type ${type}`);
  }
  return kv;
}

/** Where an mvccpb.KeyValue's key lies in its buffer, and its value's length: what a keyspace count needs. */
export interface KeyValueSpan {
  keyStart: number;
  keyEnd: number;
  valueLength: number;
}

const spanWire = new Wire(EMPTY);

/**
 * Checks `buf` exactly as decodeKeyValue does (the same errors for the same input), but makes no views or objects: it
 * fills `out` (reused by the caller across calls) with the key's place and the value's length.
 */
export function decodeKeyValueSpan(buf: Buffer, out: KeyValueSpan): KeyValueSpan {
  out.keyStart = 0;
  out.keyEnd = 0;
  out.valueLength = 0;
  const wire = spanWire;
  wire.buf = buf;
  wire.at = 0;
  try {
    while (wire.at < buf.length) {
      const tag = wire.int('tag');
      const field = Math.floor(tag / 8);
      const type = tag % 8;
      if (field === 0) wire.fail('field number 0');
      const expected = field === 1 || field === 5 ? 2 : field <= 6 ? 0 : type;
      if (type !== expected) wire.fail(`field ${field} has wire type ${type}`);
      if (field === 1) {
        const len = wire.span();
        out.keyStart = wire.at - len;
        out.keyEnd = wire.at;
      } else if (field === 5) out.valueLength = wire.span();
      else if (field === 2 || field === 3 || field === 4) wire.int(FIELD_NAMES[field]!);
      else if (type === 0) wire.varint();
      else if (type === 1) wire.skip(8);
      else if (type === 2) wire.span();
      else if (type === 5) wire.skip(4);
      else wire.fail(`unsupported wire type ${type}`);
    }
  } finally {
    wire.buf = EMPTY; // do not keep the caller's buffer alive
  }
  return out;
}

const FIELD_NAMES = ['', 'key', 'create_revision', 'mod_revision', 'version'];
