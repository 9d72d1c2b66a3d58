// CRC-32 Castagnoli, the checksum `etcdctl snapshot status` reports; Node's crypto and zlib have no CRC-32C, so slicing-by-8 here.

const POLY = 0x82f63b78; // Castagnoli, reflected

// TABLE[k * 256 + b]: the CRC of byte b followed by k zero bytes, so eight bytes fold in one step.
const TABLE = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

// Whole 32-bit words are read through an Int32Array view, which is in the machine's byte order; CRC-32C wants little-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const WORDS_FROM = 64; // below this many bytes a typed-array view costs more than it saves

/** Incremental CRC-32C: `update` in order, then `digest()` (an unsigned 32-bit number, as Go's Sum32). */
export class Crc32c {
  private crc = ~0;

  update(data: Uint8Array): this {
    const t = TABLE;
    const n = data.length;
    let crc = this.crc;
    let i = 0;
    if (LITTLE_ENDIAN && n >= WORDS_FROM) {
      for (const head = (4 - (data.byteOffset & 3)) & 3; i < head; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
      const words = new Int32Array(data.buffer, data.byteOffset + i, ((n - i) >>> 3) * 2);
      for (let w = 0; w < words.length; w += 2) {
        const lo = crc ^ words[w]!;
        const hi = words[w + 1]!;
        crc =
          t[1792 + (lo & 0xff)]! ^
          t[1536 + ((lo >>> 8) & 0xff)]! ^
          t[1280 + ((lo >>> 16) & 0xff)]! ^
          t[1024 + (lo >>> 24)]! ^
          t[768 + (hi & 0xff)]! ^
          t[512 + ((hi >>> 8) & 0xff)]! ^
          t[256 + ((hi >>> 16) & 0xff)]! ^
          t[hi >>> 24]!;
      }
      i += words.length * 4;
    } else {
      for (const end8 = n - 8; i <= end8; i += 8) {
        const lo = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
        crc =
          t[1792 + (lo & 0xff)]! ^
          t[1536 + ((lo >>> 8) & 0xff)]! ^
          t[1280 + ((lo >>> 16) & 0xff)]! ^
          t[1024 + (lo >>> 24)]! ^
          t[768 + data[i + 4]!]! ^
          t[512 + data[i + 5]!]! ^
          t[256 + data[i + 6]!]! ^
          t[data[i + 7]!]!;
      }
    }
    for (; i < n; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
    this.crc = crc;
    return this;
  }

  digest(): number {
    return ~this.crc >>> 0;
  }
}
