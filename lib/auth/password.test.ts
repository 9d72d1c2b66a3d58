import { describe, expect, it } from 'vitest';
import { hashPassword, isPasswordHash, verifyPassword } from './password';

const GOOD = 'correct horse battery staple';

describe('hashPassword / verifyPassword', () => {
  it('hashes into a self-describing scrypt string that verifies the same password only', async () => {
    const stored = await hashPassword(GOOD);
    expect(stored).toMatch(/^scrypt\$N=32768,r=8,p=1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{86}==$/);
    expect(Buffer.from(stored.split('$')[2] ?? '', 'base64')).toHaveLength(16);
    expect(Buffer.from(stored.split('$')[3] ?? '', 'base64')).toHaveLength(64);
    expect(isPasswordHash(stored)).toBe(true);
    expect(await verifyPassword(GOOD, stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
    expect(await verifyPassword(`${GOOD} `, stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts each hash, so the same password never gives the same string', async () => {
    const [a, b] = await Promise.all([hashPassword(GOOD), hashPassword(GOOD)]);
    expect(a).not.toBe(b);
    expect(await verifyPassword(GOOD, b ?? '')).toBe(true);
  });

  it('treats the same password typed in another Unicode form as the same', async () => {
    const stored = await hashPassword('caf\u00e9 au lait, bitte');
    expect(await verifyPassword('cafe\u0301 au lait, bitte', stored)).toBe(true);
  });

  it('refuses passwords shorter than 12 or longer than 1024 characters, saying so', async () => {
    await expect(hashPassword('elevenchars')).rejects.toThrow(/12–1024 characters.*has 11/);
    await expect(hashPassword('x'.repeat(1025))).rejects.toThrow(/12–1024 characters.*has 1025/);
    // Counted in characters: twelve emoji are twelve, though 24 UTF-16 units.
    await expect(hashPassword('🔑'.repeat(11))).rejects.toThrow(/has 11/);
    expect(isPasswordHash(await hashPassword('🔑'.repeat(12)))).toBe(true);
    expect(isPasswordHash(await hashPassword('x'.repeat(1024)))).toBe(true);
  });

  it('answers false, without throwing, for stored strings that are not a usable hash', async () => {
    const stored = await hashPassword(GOOD);
    const [, params, salt, key] = stored.split('$');
    const flipped = Buffer.from(key ?? '', 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const malformed = [
      '',
      GOOD,
      'scrypt$',
      `bcrypt$${params}$${salt}$${key}`,
      `scrypt$N=32768,r=8$${salt}$${key}`,
      `scrypt$${params}$${salt}`,
      `scrypt$${params}$${salt}$${key}$extra`,
      `scrypt$${params}$${salt}$${key}`.replace('$', '$ '),
      `scrypt$${params}$${salt}$${key?.slice(0, -4)}!!==`,
      // Not a power of two, too weak to be worth checking, or too costly to check.
      `scrypt$N=30000,r=8,p=1$${salt}$${key}`,
      `scrypt$N=2,r=8,p=1$${salt}$${key}`,
      `scrypt$N=1048576,r=32,p=1$${salt}$${key}`,
      `scrypt$${params}$${Buffer.alloc(4).toString('base64')}$${key}`,
    ];
    for (const m of malformed) {
      expect(isPasswordHash(m), m).toBe(false);
      expect(await verifyPassword(GOOD, m), m).toBe(false);
    }
    expect(isPasswordHash(`scrypt$${params}$${salt}$${flipped.toString('base64')}`)).toBe(true);
    expect(await verifyPassword(GOOD, `scrypt$${params}$${salt}$${flipped.toString('base64')}`)).toBe(false);
  });

  it('verifies a hash made with other accepted parameters, as written in the string', async () => {
    const { scryptSync } = await import('node:crypto');
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync(GOOD, salt, 32, { N: 16384, r: 8, p: 2, maxmem: 64 * 1024 * 1024 });
    const stored = `scrypt$N=16384,r=8,p=2$${salt.toString('base64')}$${key.toString('base64')}`;
    expect(await verifyPassword(GOOD, stored)).toBe(true);
    expect(await verifyPassword(GOOD, stored.replace('p=2', 'p=1'))).toBe(false);
  });

  it('answers false for an absurdly long password without hashing it', async () => {
    const stored = await hashPassword(GOOD);
    expect(await verifyPassword('x'.repeat(100_000), stored)).toBe(false);
  });
});
