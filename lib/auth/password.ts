// Password hashing with scrypt into a self-describing string, and checking a password against one.
import 'server-only';
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

const PARAMS: ScryptParams = { N: 32768, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 64;

// Bounds for hashes read back (they may come from a config file): weak enough to guess fast, or so costly that one
// sign-in could exhaust memory, is refused rather than checked.
const MIN_N = 2 ** 14;
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY = 256 * 1024 * 1024;

const HASH_PATTERN = /^scrypt\$N=(\d{1,8}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

/** Decodes standard base64 only when it is canonical (padded or not), so a stray character cannot be ignored. */
function decodeBase64(s: string): Buffer | null {
  const bytes = Buffer.from(s, 'base64');
  const canonical = bytes.toString('base64');
  return canonical === s || canonical.replace(/=+$/, '') === s ? bytes : null;
}

/** The scrypt working memory for these parameters (OpenSSL's own estimate). */
const memoryFor = ({ N, r, p }: ScryptParams) => 128 * r * (N + p + 2);

function parseHash(stored: string): ParsedHash | null {
  const m = HASH_PATTERN.exec(stored);
  if (!m) return null;
  const [, n, r, p, salt64, key64] = m;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const powerOfTwo = (params.N & (params.N - 1)) === 0;
  if (!powerOfTwo || params.N < MIN_N || params.N > MAX_N) return null;
  if (params.r < 1 || params.r > MAX_R || params.p < 1 || params.p > MAX_P) return null;
  if (memoryFor(params) > MAX_MEMORY) return null;
  const salt = decodeBase64(salt64 ?? '');
  const key = decodeBase64(key64 ?? '');
  if (!salt || !key || salt.length < 16 || salt.length > 64 || key.length < 32 || key.length > 128) return null;
  return { params, salt, key };
}

// NFKC (as NIST SP 800-63B suggests) so the same password typed on two keyboards gives the same bytes.
const normalize = (password: string) => password.normalize('NFKC');

function derive(password: string, salt: Buffer, keyBytes: number, params: ScryptParams): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is just too small for N=32768, r=8.
  const options = { ...params, maxmem: memoryFor(params) + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(normalize(password), salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Length in characters (code points), not UTF-16 units, so an emoji counts once. */
const lengthOf = (password: string) => Array.from(password).length;

/** Hashes a password of 12–1024 characters into `scrypt$N=…,r=…,p=…$<salt>$<key>` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const length = lengthOf(password);
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new RangeError(
      `password must be ${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters long; this one has ${length}`,
    );
  }
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, PARAMS);
  const { N, r, p } = PARAMS;
  return `scrypt$N=${N},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches `stored`; false, never a throw, when `stored` is not a hash this module accepts. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  // No hash was ever made of a longer one; the cheap UTF-16 test first bounds the work a stranger can ask for.
  if (password.length > PASSWORD_MAX_LENGTH * 2 || lengthOf(password) > PASSWORD_MAX_LENGTH) return false;
  const key = await derive(password, parsed.salt, parsed.key.length, parsed.params);
  return timingSafeEqual(key, parsed.key);
}

/** Whether `s` is a password hash `verifyPassword` can check (so a plain password is never stored as one). */
export function isPasswordHash(s: string): boolean {
  return parseHash(s) !== null;
}
