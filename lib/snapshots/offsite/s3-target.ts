// Copies a snapshot file to S3-compatible object storage and proves the copy by reading it back.
import 'server-only';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline, Readable, Transform } from 'node:stream';
import { AbortMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { SnapshotSettings } from '@/lib/config/load-config';
import { describeS3Error } from './s3-error';

export interface S3Target {
  /** Unset for AWS S3; `https://host:port` for any other S3-compatible store. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Folder-like start of every object name; leading and trailing slashes do not matter. */
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`; most self-hosted stores need it. */
  forcePathStyle?: boolean;
}

export interface CopySnapshotOptions {
  onProgress?: (sentBytes: number, totalBytes: number) => void;
  signal?: AbortSignal;
  /** At least 5 MiB (the S3 minimum); at most 10,000 parts per object. */
  partSizeBytes?: number;
  /** A request that sends or receives nothing for this long fails (and so does a connect that takes longer). */
  idleTimeoutMs?: number;
}

export type CopySnapshotResult =
  | { ok: true; location: string; sha256: string; bytes: number; etag: string | undefined }
  | { ok: false; reason: string };

export type DeleteSnapshotResult = { ok: true } | { ok: false; reason: string };

const MiB = 1024 * 1024;
const DEFAULT_PART_SIZE = 16 * MiB;
// Parts in flight at once: memory is about this many parts (twice over, while lib-storage slices them).
const PARTS_IN_FLIGHT = 4;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const METADATA_SHA256 = 'sha256';

interface FileDigest {
  sha256: string;
  bytes: number;
}

function objectKey(prefix: string, key: string): string {
  const folder = prefix.replace(/^\/+|\/+$/g, '');
  const name = key.replace(/^\/+/, '');
  return folder ? `${folder}/${name}` : name;
}

function createClient(target: S3Target, idleTimeoutMs: number): S3Client {
  return new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: target.forcePathStyle,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    requestHandler: { connectionTimeout: idleTimeoutMs, socketTimeout: idleTimeoutMs },
    // The SDK's default CRC32 checksums are refused by many S3-compatible stores; the read-back below checks
    // the whole object with SHA-256 instead, and SigV4 already signs each part's SHA-256.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function abortError(): Error {
  return Object.assign(new Error('aborted'), { name: 'AbortError' });
}

async function digestStream(stream: AsyncIterable<Buffer>): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

// The metadata must be set when the upload starts, so the file is hashed once before it is sent.
async function digestFile(file: string, signal: AbortSignal | undefined): Promise<FileDigest> {
  const stream = createReadStream(file, { signal });
  try {
    return await digestStream(stream);
  } finally {
    stream.destroy();
  }
}

interface UploadRun {
  client: S3Client;
  file: string;
  target: S3Target;
  Key: string;
  local: FileDigest;
  opts: CopySnapshotOptions;
}

type UploadOutcome = { ok: true; etag: string | undefined } | { ok: false; reason: string };

// Streams the file through a hashing tap into lib-storage; a multipart upload that fails is aborted on the server.
async function uploadFile({ client, file, target, Key, local, opts }: UploadRun): Promise<UploadOutcome> {
  const Bucket = target.bucket;
  const source = createReadStream(file);
  const hash = createHash('sha256');
  let sentBytes = 0;
  // Hashes the very bytes handed to the uploader, and refuses to end if they are not the file that was hashed.
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      sentBytes += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      const sent = hash.digest('hex');
      if (sent === local.sha256 && sentBytes === local.bytes) return done();
      done(new Error(`the snapshot changed while it was copied (sha256 ${local.sha256}, then ${sent})`));
    },
  });
  // The uploader sees any error on `tap`; pipeline destroys both streams, so its callback has nothing to do.
  pipeline(source, tap, () => {});
  const stopReading = () => tap.destroy(abortError());
  opts.signal?.addEventListener('abort', stopReading, { once: true });
  if (opts.signal?.aborted) stopReading();
  // One failed request (after its retries) stops the other parts at once, instead of sending the rest of the file.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (!tap.destroyed) tap.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
    },
    { step: 'initialize', name: 'stopReadingOnFailure' },
  );

  let upload: Upload | undefined;
  try {
    upload = new Upload({
      client,
      params: {
        Bucket,
        Key,
        Body: tap,
        ContentType: 'application/octet-stream',
        Metadata: { [METADATA_SHA256]: local.sha256 },
      },
      partSize: opts.partSizeBytes ?? DEFAULT_PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
      // Aborted below rather than inside lib-storage, so a failed abort cannot hide why the upload failed.
      leavePartsOnError: true,
    });
    const { onProgress } = opts;
    if (onProgress) upload.on('httpUploadProgress', (p) => onProgress(p.loaded ?? 0, local.bytes));
    return { ok: true, etag: (await upload.done()).ETag };
  } catch (err) {
    const reason = describeS3Error(err, target);
    const UploadId = upload?.uploadId;
    if (!UploadId) return { ok: false, reason };
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
      return { ok: false, reason };
    } catch (abortErr) {
      const why = describeS3Error(abortErr, target);
      return { ok: false, reason: `${reason}; its parts remain on the server (abort failed: ${why})` };
    }
  } finally {
    opts.signal?.removeEventListener('abort', stopReading);
    tap.destroy();
  }
}

async function readBack(client: S3Client, Bucket: string, Key: string, signal: AbortSignal | undefined) {
  if (signal?.aborted) throw abortError();
  const object = await client.send(new GetObjectCommand({ Bucket, Key }), { abortSignal: signal });
  if (!(object.Body instanceof Readable)) throw new Error('the object store sent no body');
  const digest = await digestStream(object.Body);
  return { ...digest, metadataSha256: object.Metadata?.[METADATA_SHA256] };
}

/**
 * Streams `file` to `s3://bucket/prefix/key` as a multipart upload, then reads the object back and compares its
 * size and SHA-256 with the bytes that were sent. Never throws; on failure no object or parts are left behind
 * (or the reason says what could not be removed).
 */
export async function copySnapshotToS3(
  file: string,
  key: string,
  target: S3Target,
  opts: CopySnapshotOptions = {},
): Promise<CopySnapshotResult> {
  const Bucket = target.bucket;
  const Key = objectKey(target.prefix, key);
  const location = `s3://${Bucket}/${Key}`;
  const describe = (err: unknown) => describeS3Error(err, target);
  const { signal } = opts;
  if (!key.replace(/^\/+/, '')) return { ok: false, reason: 'the object name is empty' };
  if (signal?.aborted) return { ok: false, reason: `copy to ${location} aborted before it started` };

  let local: FileDigest;
  try {
    local = await digestFile(file, signal);
  } catch (err) {
    if (signal?.aborted) return { ok: false, reason: `copy to ${location} aborted while hashing the snapshot` };
    return { ok: false, reason: `cannot read the snapshot: ${describe(err)}` };
  }

  let client: S3Client | undefined;
  try {
    client = createClient(target, opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    const uploaded = await uploadFile({ client, file, target, Key, local, opts });
    if (!uploaded.ok) return { ok: false, reason: `upload to ${location} failed: ${uploaded.reason}` };

    const s3 = client;
    const deleteCopy = async (): Promise<string> => {
      try {
        await s3.send(new DeleteObjectCommand({ Bucket, Key }));
        return 'the copy was deleted';
      } catch (err) {
        return `the copy could not be deleted: ${describe(err)}`;
      }
    };
    let remote: Awaited<ReturnType<typeof readBack>>;
    try {
      remote = await readBack(client, Bucket, Key, signal);
    } catch (err) {
      return { ok: false, reason: `reading back ${location} failed: ${describe(err)}; ${await deleteCopy()}` };
    }
    if (remote.sha256 !== local.sha256 || remote.bytes !== local.bytes) {
      const reason =
        `the copy at ${location} does not match the snapshot: local sha256 ${local.sha256} (${local.bytes} bytes), ` +
        `remote sha256 ${remote.sha256} (${remote.bytes} bytes); ${await deleteCopy()}`;
      return { ok: false, reason };
    }
    if (remote.metadataSha256 !== local.sha256) {
      const reason =
        `the copy at ${location} lost its metadata: x-amz-meta-sha256 is ${remote.metadataSha256 ?? 'missing'}, ` +
        `expected ${local.sha256}; ${await deleteCopy()}`;
      return { ok: false, reason };
    }
    return { ok: true, location, sha256: local.sha256, bytes: local.bytes, etag: uploaded.etag };
  } catch (err) {
    // Nothing above should throw; this keeps the promise from rejecting if something does.
    return { ok: false, reason: `copy to ${location} failed: ${describe(err)}` };
  } finally {
    client?.destroy();
  }
}

/** Deletes a copy made by copySnapshotToS3 (retention); refuses locations outside the target's bucket and prefix. */
export async function deleteSnapshotFromS3(location: string, target: S3Target): Promise<DeleteSnapshotResult> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  const [, bucket, Key] = match ?? [];
  if (!bucket || !Key) return { ok: false, reason: `not an s3://bucket/key location: ${location.slice(0, 200)}` };
  if (bucket !== target.bucket) {
    return { ok: false, reason: `${location} is not in the target bucket "${target.bucket}"` };
  }
  const folder = objectKey(target.prefix, '');
  if (folder && !Key.startsWith(folder)) {
    return { ok: false, reason: `${location} is outside the target prefix "${folder}"` };
  }
  let client: S3Client | undefined;
  try {
    client = createClient(target, DEFAULT_IDLE_TIMEOUT_MS);
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `deleting ${location} failed: ${describeS3Error(err, target)}` };
  } finally {
    client?.destroy();
  }
}

export type DownloadSnapshotResult = { ok: true; sha256: string; bytes: number } | { ok: false; reason: string };

/**
 * Streams the copy at `location` (made by copySnapshotToS3) into `file` (created with mode 0600) and hashes it on
 * the way; refuses locations outside the target's bucket. Never throws; on failure the partial file is left for the
 * caller's folder cleanup.
 */
export async function downloadSnapshotFromS3(
  location: string,
  target: S3Target,
  file: string,
  opts: { signal?: AbortSignal; idleTimeoutMs?: number } = {},
): Promise<DownloadSnapshotResult> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  const [, bucket, Key] = match ?? [];
  if (!bucket || !Key) return { ok: false, reason: `not an s3://bucket/key location: ${location.slice(0, 200)}` };
  if (bucket !== target.bucket) {
    return { ok: false, reason: `${location} is not in the configured bucket ${target.bucket}` };
  }
  let client: S3Client | undefined;
  try {
    client = createClient(target, opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key }), { abortSignal: opts.signal });
    if (!(object.Body instanceof Readable)) return { ok: false, reason: `${location}: the object store sent no body` };
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    await new Promise<void>((resolve, reject) =>
      pipeline(object.Body as Readable, tap, createWriteStream(file, { mode: 0o600 }), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    return { ok: true, sha256: hash.digest('hex'), bytes };
  } catch (err) {
    return { ok: false, reason: `reading ${location} failed: ${describeS3Error(err, target)}` };
  } finally {
    client?.destroy();
  }
}

/** The target of a cluster's `snapshots.offsite` settings. */
export function s3TargetOf(settings: NonNullable<SnapshotSettings['offsite']>): S3Target {
  return {
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    region: settings.region,
    bucket: settings.bucket,
    prefix: settings.prefix,
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
    ...(settings.forcePathStyle !== undefined ? { forcePathStyle: settings.forcePathStyle } : {}),
  };
}
