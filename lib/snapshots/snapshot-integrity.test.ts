import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { Sha256TrailerChecker, verifySha256Trailer, verifyingStream } from './snapshot-integrity';
import { seededRandom } from '@/test/support/snapshot-test-cluster';
import { ensureEtcd, selectedEtcdLine } from '@/scripts/lib/etcd-versions';

// Saved by etcdctl 3.4.23 from a 1-member cluster: 24 576 database bytes + the 32-byte trailer.
const FIXTURE = path.join(__dirname, 'fixtures', 'etcd-3.4.23-small.db');
const FIXTURE_SHA256 = '0bc156cad1f7279ae5064e7317b03d386aeb48fe95c0dffa51be781c70fd23e7';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'snapshot-integrity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function variant(name: string, edit: (bytes: Buffer) => Buffer): string {
  const file = path.join(tmp, name);
  writeFileSync(file, edit(Buffer.from(readFileSync(FIXTURE))));
  return file;
}

/** What the real `snapshot restore` (which checks the trailer) of the etcd under test makes of the file. */
function etcdctlRestores(file: string): boolean {
  const dataDir = path.join(tmp, `restore-${path.basename(file)}`);
  const etcd = ensureEtcd(selectedEtcdLine());
  const run = spawnSync(etcd.etcdutl ?? etcd.etcdctl, ['snapshot', 'restore', file, '--data-dir', dataDir], {
    env: { ...process.env, ETCDCTL_API: '3' },
    encoding: 'utf8',
  });
  rmSync(dataDir, { recursive: true, force: true });
  return run.status === 0;
}

describe('verifySha256Trailer', () => {
  it('accepts an etcdctl snapshot, giving the SHA-256 of the database part and its size', async () => {
    expect(await verifySha256Trailer(FIXTURE)).toEqual({ ok: true, sha256: FIXTURE_SHA256, dbBytes: 24_576 });
    expect(createHash('sha256').update(readFileSync(FIXTURE).subarray(0, 24_576)).digest('hex')).toBe(FIXTURE_SHA256);
    expect(etcdctlRestores(FIXTURE)).toBe(true);
  });

  it('rejects a snapshot with one byte flipped in the middle, as etcdctl restore does', async () => {
    const file = variant('flipped.db', (b) => {
      b[12_000] = b[12_000]! ^ 0x01;
      return b;
    });
    const check = await verifySha256Trailer(file);
    expect(check).toEqual({
      ok: false,
      reason: expect.stringMatching(/^SHA-256 mismatch: .* \(the file is corrupted\)$/),
    });
    expect(etcdctlRestores(file)).toBe(false);
  });

  it('rejects a damaged trailer', async () => {
    const file = variant('bad-trailer.db', (b) => {
      b[b.length - 1] = b[b.length - 1]! ^ 0x80;
      return b;
    });
    expect(await verifySha256Trailer(file)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/SHA-256 mismatch/),
    });
  });

  it('says why a truncated file has no trailer', async () => {
    const cut1 = variant('cut-1.db', (b) => b.subarray(0, b.length - 1));
    expect(await verifySha256Trailer(cut1)).toEqual({
      ok: false,
      reason: 'no SHA-256 trailer: 24607 bytes is not a multiple of 512 plus 32 (truncated or not a snapshot)',
    });
    // Cut by whole pages the size still looks like database + trailer, but the hash cannot match.
    const cutPages = variant('cut-pages.db', (b) => b.subarray(0, b.length - 4096));
    expect(await verifySha256Trailer(cutPages)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/SHA-256 mismatch/),
    });
    expect(etcdctlRestores(cutPages)).toBe(false);
  });

  it('says a bare database (member/snap/db, no trailer) has none', async () => {
    const bare = variant('bare.db', (b) => b.subarray(0, b.length - 32));
    expect(await verifySha256Trailer(bare)).toEqual({
      ok: false,
      reason:
        'no SHA-256 trailer: 24576 bytes is not a multiple of 512 plus 32 (a bare database such as member/snap/db, or a snapshot cut short)',
    });
  });

  it('turns a missing or empty file into a failed check, not an exception', async () => {
    expect(await verifySha256Trailer(path.join(tmp, 'nope.db'))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^cannot read .*nope\.db: ENOENT/),
    });
    expect(await verifySha256Trailer(variant('empty.db', () => Buffer.alloc(0)))).toMatchObject({ ok: false });
  });
});

describe('Sha256TrailerChecker', () => {
  const bytes = readFileSync(FIXTURE);

  it('gives the file check’s answer for a stream cut into chunks of any size', async () => {
    const expected = await verifySha256Trailer(FIXTURE);
    const random = seededRandom(7);
    for (const maxChunk of [1, 5, 31, 32, 33, 100, 4096, 40_000]) {
      const checker = new Sha256TrailerChecker();
      for (let at = 0; at < bytes.length;) {
        const n = 1 + Math.floor(random() * maxChunk);
        checker.update(bytes.subarray(at, at + n));
        at += n;
      }
      expect(checker.bytes).toBe(bytes.length);
      expect(checker.finish()).toEqual(expected);
    }
  });

  it('does not keep references to chunks, so a writer may reuse its buffer', () => {
    const checker = new Sha256TrailerChecker();
    const reused = Buffer.alloc(1000);
    for (let at = 0; at < bytes.length; at += reused.length) {
      const n = bytes.copy(reused, 0, at, at + reused.length);
      checker.update(reused.subarray(0, n));
      reused.fill(0xee);
    }
    expect(checker.finish()).toEqual({ ok: true, sha256: FIXTURE_SHA256, dbBytes: 24_576 });
  });

  it('notices corruption anywhere in the stream, and a stream that stops early', () => {
    const flipped = Buffer.from(bytes);
    flipped[100] = flipped[100]! ^ 0xff;
    const a = new Sha256TrailerChecker();
    a.update(flipped);
    expect(a.finish()).toMatchObject({ ok: false, reason: expect.stringMatching(/SHA-256 mismatch/) });

    const b = new Sha256TrailerChecker();
    b.update(bytes.subarray(0, 20_001));
    expect(b.finish()).toMatchObject({ ok: false, reason: expect.stringMatching(/^no SHA-256 trailer: 20001 bytes/) });
  });

  it('answers finish() the same way twice and refuses data after it', () => {
    const checker = new Sha256TrailerChecker();
    checker.update(bytes);
    const first = checker.finish();
    expect(checker.finish()).toBe(first);
    expect(() => checker.update(Buffer.from('x'))).toThrow(/after finish/);
  });
});

describe('verifyingStream: what a download passes through', () => {
  /** The bytes in chunks of 1–99 bytes (below and above the 32-byte trailer), through the stream. */
  async function through(bytes: Buffer, expected: { sha256: string; bytes: number }) {
    const random = seededRandom(20);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length;) {
      const n = 1 + Math.floor(random() * 99);
      chunks.push(bytes.subarray(at, at + n));
      at += n;
    }
    const out: Buffer[] = [];
    try {
      for await (const c of Readable.from(chunks).pipe(verifyingStream(expected))) out.push(c as Buffer);
      return { bytes: Buffer.concat(out), error: null };
    } catch (err) {
      return { bytes: Buffer.concat(out), error: (err as Error).message };
    }
  }
  const fixture = readFileSync(FIXTURE);

  it('passes the verified file through unchanged, however it is chunked', async () => {
    const got = await through(fixture, { sha256: FIXTURE_SHA256, bytes: fixture.length });
    expect(got.error).toBeNull();
    expect(got.bytes.equals(fixture)).toBe(true);
  });

  it.each([
    [
      'a changed byte',
      variantBytes((b) => (b[100] = b[100]! ^ 1)),
      FIXTURE_SHA256,
      /^the file no longer verifies: SHA-256 mismatch/,
    ],
    [
      'another valid snapshot than the one verified',
      fixture,
      'ab'.repeat(32),
      /^the file hashes to 0bc156ca.*, not the verified abab/,
    ],
  ])('ends in an error before the last 32 bytes for %s', async (_, bytes, sha256, message) => {
    const got = await through(bytes, { sha256, bytes: bytes.length });
    expect(got.error).toMatch(message);
    expect(got.bytes.length).toBe(bytes.length - 32);
  });
});

function variantBytes(edit: (b: Buffer) => void): Buffer {
  const b = Buffer.from(readFileSync(FIXTURE));
  edit(b);
  return b;
}
