import Module from 'node:module';
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { seededRandom } from '@/test/support/snapshot-test-cluster';
import { Crc32c } from './crc32c';

const crc = (data: Uint8Array) => new Crc32c().update(data).digest();

/**
 * The oracle: CRC-32C byte by byte from its definition (reflected polynomial 0x82F63B78), slow and obviously right.
 * Test-only; the dashboard computes CRC-32C natively and has no JavaScript fallback.
 */
const TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c >>> 0;
});
function oracle(data: Uint8Array): number {
  let c = ~0;
  for (const b of data) c = TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function randomBytes(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

describe('Crc32c', () => {
  it('gives the published CRC-32C check values', () => {
    expect(crc(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc(new Uint8Array(0))).toBe(0);
    // RFC 3720 (iSCSI) appendix B.4
    expect(crc(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    // The oracle agrees on the same vectors.
    expect(oracle(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(oracle(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('matches the byte-by-byte oracle at every length around the staging thresholds', () => {
    const random = seededRandom(32);
    for (const length of [1, 2, 7, 8, 9, 63, 64, 65, 255, 256, 257, 511, 512, 513, 4096, 65_535, 65_536, 65_537]) {
      const data = randomBytes(random, length);
      expect(crc(data), `length ${length}`).toBe(oracle(data));
    }
  });

  it('gives the same sum at any alignment in memory and for any kind of byte view', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 40503) >>> 3);
    const whole = oracle(data);
    for (let shift = 1; shift < 8; shift++) {
      const shifted = new Uint8Array(data.length + shift);
      shifted.set(data, shift);
      expect(crc(shifted.subarray(shift))).toBe(whole);
      expect(crc(Buffer.from(shifted.buffer, shift, data.length))).toBe(whole);
    }
  });

  it('incremental equals one-shot over random chunkings, as a bucket walk feeds it key by key', () => {
    const random = seededRandom(16);
    const data = randomBytes(random, 300_007);
    const whole = oracle(data);
    expect(nativeCrc32c(data)).toBe(whole);
    for (let round = 0; round < 40; round++) {
      // Mostly key- and value-sized pieces, some empty, some far larger than the staging buffer.
      const c = new Crc32c();
      let at = 0;
      while (at < data.length) {
        const r = random();
        const step =
          r < 0.05 ? 0 : r < 0.5 ? 1 + Math.floor(random() * 40) : r < 0.95 ? Math.floor(random() * 5000) : 70_000;
        c.update(data.subarray(at, at + step));
        at += step;
      }
      expect(c.digest(), `round ${round}`).toBe(whole);
    }
    for (const step of [1, 3, 7, 8, 9, 17, 63, 64, 65, 511, 512, 513, 4096, 65_536]) {
      const c = new Crc32c();
      for (let at = 0; at < data.length; at += step) c.update(data.subarray(at, at + step));
      expect(c.digest(), `step ${step}`).toBe(whole);
    }
  });

  it('carries on after digest(), and instances do not share state', () => {
    const random = seededRandom(8);
    const a = randomBytes(random, 100);
    const b = randomBytes(random, 1000);
    const both = new Uint8Array(1100);
    both.set(a);
    both.set(b, 100);
    const c = new Crc32c().update(a);
    const other = new Crc32c().update(b);
    expect(c.digest()).toBe(oracle(a));
    expect(c.update(b).digest()).toBe(oracle(both));
    expect(other.digest()).toBe(oracle(b));
  });

  it('is the native @node-rs/crc32: its crc32c chained through initialState equals one call', () => {
    const data = Buffer.from('123456789');
    expect(nativeCrc32c(data)).toBe(0xe3069283);
    expect(nativeCrc32c(data.subarray(4), nativeCrc32c(data.subarray(0, 4)))).toBe(0xe3069283);
    expect(nativeCrc32c(new Uint8Array(0), 0xe3069283)).toBe(0xe3069283);
  });
});

describe('Crc32c without its native module', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.resetModules();
  });

  it('fails with an error naming @node-rs/crc32, not a silent fallback', async () => {
    const load = (Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown })._load;
    vi.spyOn(Module as unknown as { _load: typeof load }, '_load').mockImplementation(function (
      this: unknown,
      request,
      ...rest
    ) {
      if (request === '@node-rs/crc32') throw new Error('Cannot find native binding (simulated)');
      return load.call(this, request, ...rest);
    });
    vi.resetModules();
    const fresh = await import('./crc32c');
    expect(() => new fresh.Crc32c()).toThrow(/needs the native module @node-rs\/crc32.*Cannot find native binding/s);
  });
});
