import { describe, expect, it } from 'vitest';
import { Crc32c } from './crc32c';

const crc = (data: Uint8Array) => new Crc32c().update(data).digest();

describe('Crc32c', () => {
  it('gives the published CRC-32C check values', () => {
    expect(crc(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc(new Uint8Array(0))).toBe(0);
    // RFC 3720 (iSCSI) appendix B.4
    expect(crc(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('gives the same sum at any alignment in memory (whole words are read where they can be)', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 40503) >>> 3);
    const whole = crc(data);
    for (let shift = 1; shift < 8; shift++) {
      const shifted = new Uint8Array(data.length + shift);
      shifted.set(data, shift);
      expect(crc(shifted.subarray(shift))).toBe(whole);
    }
  });

  it('gives the same sum however the input is split, as a bucket walk feeds it key by key', () => {
    const data = Uint8Array.from({ length: 10_007 }, (_, i) => (i * 2654435761) >>> 24);
    const whole = crc(data);
    for (const step of [1, 3, 7, 8, 9, 17, 63, 64, 65, 4096]) {
      const c = new Crc32c();
      for (let at = 0; at < data.length; at += step) c.update(data.subarray(at, at + step));
      expect(c.digest()).toBe(whole);
    }
  });
});
