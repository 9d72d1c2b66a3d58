// Streams Maintenance.Snapshot from one member to a file without holding it in memory: <file>.part, fsync,
// rename, mode 0600, as etcdctl snapshot save does.
import 'server-only';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { GcPacer } from '@/lib/memory/gc-pacer';
import { createMemberClient } from './member-client';
import { describeEtcdError, isAuthRefusal } from './etcd-error';
import type { TlsCredentials } from './tls-credentials';

export interface SnapshotProgress {
  receivedBytes: number;
  /** Database plus the 32-byte SHA-256 trailer, from the first message's remaining_bytes (etcd 3.4+). */
  expectedBytes: number | null;
}

export interface StreamSnapshotOptions {
  endpoint: string;
  tls: TlsCredentials | null;
  /** The final path; the stream goes to `${file}.part` until it is complete. */
  file: string;
  /** Called for every chunk, in order: the SHA-256 trailer is checked on the way, not by reading the file again. */
  onChunk?: (chunk: Buffer) => void;
  onProgress?: (p: SnapshotProgress) => void;
  signal?: AbortSignal;
  /** A member that stops sending (frozen, partitioned) fails the snapshot after this long. */
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export class SnapshotStreamError extends Error {
  override readonly name = 'SnapshotStreamError';
}

// Chunks arrive at about 32 KiB; writing them in 1 MiB batches saves syscalls.
const WRITE_BATCH_BYTES = 1024 * 1024;
const SHA256_TRAILER_BYTES = 32;

/** Resolves with the byte count once the file is complete and renamed; rejects with a one-line reason. */
export async function streamSnapshotToFile(opts: StreamSnapshotOptions): Promise<{ bytes: number }> {
  const part = `${opts.file}.part`;
  const client = createMemberClient({
    endpoint: opts.endpoint,
    tls: opts.tls,
    timeoutMs: opts.connectTimeoutMs ?? 5000,
    flowControlWindowBytes: 8 * 1024 * 1024,
  });
  let fh: FileHandle | null = null;
  let idle: NodeJS.Timeout | null = null;
  let failReason: string | null = null;
  try {
    fh = await open(part, 'wx', 0o600);
    // At run time etcd3 hands back grpc-js's readable stream, which its own typing hides.
    const stream = (await client.maintenance.snapshot()) as unknown as ClientReadableStream<{
      blob: Buffer;
      remaining_bytes: string;
    }>;
    const fail = (reason: string) => {
      failReason ??= reason;
      stream.cancel();
    };
    const armIdle = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(
        () => fail(`no data from ${opts.endpoint} for ${(opts.idleTimeoutMs ?? 30_000) / 1000} s`),
        opts.idleTimeoutMs ?? 30_000,
      );
    };
    const onAbort = () => fail('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    armIdle();

    let received = 0;
    let expected: number | null = null;
    const pacer = new GcPacer();
    let batch: Buffer[] = [];
    let batched = 0;
    const flush = async () => {
      if (batched === 0 || !fh) return;
      const data = batch;
      batch = [];
      batched = 0;
      // writev hands the chunks to the kernel as they are: no 1 MiB copy per batch.
      await fh.writev(data);
    };
    // for await pauses the gRPC stream while the disk catches up: HTTP/2 flow control holds etcd back.
    for await (const msg of stream as AsyncIterable<{ blob: Buffer; remaining_bytes: string }>) {
      if (failReason) break;
      armIdle();
      const blob = msg.blob;
      // remaining_bytes counts the database only; etcd appends a 32-byte SHA-256 of it after the last chunk.
      if (expected === null)
        expected = received + blob.length + Number(msg.remaining_bytes ?? 0) + SHA256_TRAILER_BYTES;
      received += blob.length;
      opts.onChunk?.(blob);
      batch.push(blob);
      batched += blob.length;
      if (batched >= WRITE_BATCH_BYTES) await flush();
      pacer.add(blob.length);
      opts.onProgress?.({ receivedBytes: received, expectedBytes: expected });
    }
    opts.signal?.removeEventListener('abort', onAbort);
    if (failReason) throw new SnapshotStreamError(failReason);
    await flush();
    if (received === 0) throw new SnapshotStreamError(`${opts.endpoint} sent an empty snapshot`);
    if (expected !== null && received !== expected) {
      throw new SnapshotStreamError(`stream ended after ${received} of ${expected} bytes`);
    }
    await fh.sync();
    await fh.close();
    fh = null;
    await rename(part, opts.file);
    return { bytes: received };
  } catch (err) {
    if (fh) await fh.close().catch(() => undefined);
    await rm(part, { force: true });
    if (err instanceof SnapshotStreamError) throw err;
    if (failReason) throw new SnapshotStreamError(failReason);
    // grpc-js errors carry a numeric status code; only the file system's are strings.
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string') {
      const failure = describeEtcdError(err);
      if (isAuthRefusal(failure)) {
        throw new SnapshotStreamError(
          `${opts.endpoint} refused the snapshot: permission denied (with auth on, etcd gives snapshots only to users with the root role)`,
        );
      }
      throw new SnapshotStreamError(failure.message);
    }
    if (code === 'ENOSPC') throw new SnapshotStreamError(`disk full while writing ${part}`);
    if (code === 'EEXIST') throw new SnapshotStreamError(`${part} already exists: another snapshot is writing it`);
    throw new SnapshotStreamError(`cannot write ${part}: ${code}`);
  } finally {
    if (idle) clearTimeout(idle);
    client.close();
  }
}
