// Random bearer secrets (session cookies, API tokens) and the digest under which they are stored instead.
import 'server-only';
import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes, base64url: 256 bits, so a digest without salt or stretching is enough to store it. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
