// The SHA-256 trailer of a snapshot: the check `etcdctl snapshot restore` makes, on a file or on a stream as it is written.
import 'server-only';
import { GcPacer } from '@/lib/memory/gc-pacer';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';

export type TrailerCheck = { ok: true; sha256: string; dbBytes: number } | { ok: false; reason: string };

const TRAILER = 32;
// bbolt pages are multiples of 512 bytes, so a database is too; etcdctl restore treats size % 512 == 32 as "has a hash".
const SECTOR = 512;

function noTrailer(bytes: number): TrailerCheck {
  return {
    ok: false,
    reason:
      `no SHA-256 trailer: ${bytes} bytes is not a multiple of 512 plus 32 ` +
      `(${bytes % SECTOR === 0 ? 'a bare database such as member/snap/db, or a snapshot cut short' : 'truncated or not a snapshot'})`,
  };
}

/**
 * Feed a snapshot stream's chunks in order with `update`, then `finish()`: the last 32 bytes must be the SHA-256 of all
 * the bytes before them. Holds back only the latest 32 bytes, so the file never has to be read again.
 */
export class Sha256TrailerChecker {
  private readonly hash: Hash = createHash('sha256');
  private readonly tail = Buffer.alloc(TRAILER);
  private tailLength = 0;
  private total = 0;
  private result: TrailerCheck | null = null;

  update(chunk: Uint8Array): void {
    if (this.result) throw new Error('Sha256TrailerChecker: update after finish');
    const n = chunk.length;
    this.total += n;
    if (n >= TRAILER) {
      this.hash.update(this.tail.subarray(0, this.tailLength));
      this.hash.update(chunk.subarray(0, n - TRAILER));
      this.tail.set(chunk.subarray(n - TRAILER));
      this.tailLength = TRAILER;
      return;
    }
    const spill = this.tailLength + n - TRAILER;
    if (spill > 0) {
      this.hash.update(this.tail.subarray(0, spill));
      this.tail.copyWithin(0, spill, this.tailLength);
      this.tailLength -= spill;
    }
    this.tail.set(chunk, this.tailLength);
    this.tailLength += n;
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.total;
  }

  finish(): TrailerCheck {
    if (this.result) return this.result;
    const digest = this.hash.digest();
    if (this.total % SECTOR !== TRAILER) {
      this.result = noTrailer(this.total);
    } else if (!digest.equals(this.tail)) {
      this.result = {
        ok: false,
        reason:
          `SHA-256 mismatch: the database hashes to ${digest.toString('hex')} ` +
          `but the trailer says ${this.tail.toString('hex')} (the file is corrupted)`,
      };
    } else {
      this.result = { ok: true, sha256: digest.toString('hex'), dbBytes: this.total - TRAILER };
    }
    return this.result;
  }
}

/** Reads `file` once, streaming, and checks its trailer. Never throws: an unreadable file is a failed check. */
export async function verifySha256Trailer(file: string): Promise<TrailerCheck> {
  try {
    const { size } = await stat(file);
    if (size % SECTOR !== TRAILER) return noTrailer(size);
    const checker = new Sha256TrailerChecker();
    const pacer = new GcPacer();
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      checker.update(chunk as Buffer);
      pacer.add((chunk as Buffer).length);
    }
    if (checker.bytes !== size)
      return { ok: false, reason: `the file changed size while being read (${size} → ${checker.bytes})` };
    return checker.finish();
  } catch (err) {
    return { ok: false, reason: `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * Passes a snapshot file through as it is read, holding back its last 32 bytes (the SHA-256 trailer) until everything
 * before them hashes to `sha256` and the length is `bytes`: a file changed since it was verified never reaches the
 * reader whole (a restore checks that trailer), and the stream ends in an error instead.
 */
export function verifyingStream(expected: { sha256: string; bytes: number }): Transform {
  const checker = new Sha256TrailerChecker();
  let held = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      checker.update(chunk);
      if (chunk.length >= TRAILER) {
        // The large chunks of a file pass without a copy; only the held-back tail is copied.
        if (held.length > 0) this.push(held);
        held = Buffer.from(chunk.subarray(chunk.length - TRAILER));
        return done(null, chunk.subarray(0, chunk.length - TRAILER));
      }
      const all = Buffer.concat([held, chunk]);
      const cut = Math.max(0, all.length - TRAILER);
      held = all.subarray(cut);
      done(null, cut > 0 ? all.subarray(0, cut) : undefined);
    },
    flush(done) {
      const check = checker.finish();
      if (!check.ok) return done(new Error(`the file no longer verifies: ${check.reason}`));
      if (checker.bytes !== expected.bytes)
        return done(new Error(`the file is ${checker.bytes} bytes, not the ${expected.bytes} that were verified`));
      if (check.sha256 !== expected.sha256)
        return done(new Error(`the file hashes to ${check.sha256}, not the verified ${expected.sha256}`));
      done(null, held);
    },
  });
}
