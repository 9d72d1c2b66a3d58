// Runs the off-site copy against s3rver, a real S3-protocol server, on loopback ports 24870–24879.
import { randomFillSync, createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copySnapshotToS3,
  deleteSnapshotFromS3,
  type CopySnapshotResult,
  type DeleteSnapshotResult,
  type S3Target,
} from './s3-target';

const S3_PORT = 24870; // s3rver, behind a small front that adds AbortMultipartUpload
const CORRUPTING_PORT = 24871; // flips a byte of every object it serves
const SILENT_PORT = 24872; // accepts connections and never answers
const DEAD_PORT = 24879; // nothing listens
const BUCKET = 'etcd-offsite';
const MiB = 1024 * 1024;
// s3rver knows one access key id, S3RVER; it checks that the id exists but does not verify SigV4 signatures, so any
// secret passes here and a wrong one goes unnoticed (real S3 answers SignatureDoesNotMatch, see s3-error.test.ts).
const SECRET = 'offsite-test-secret/Kx9+bPxRfiCYEXAMPLE';

const target = (over: Partial<S3Target> = {}): S3Target => ({
  endpoint: `http://127.0.0.1:${S3_PORT}`,
  region: 'us-east-1',
  bucket: BUCKET,
  prefix: 'etcd/prod/',
  accessKeyId: 'S3RVER',
  secretAccessKey: SECRET,
  forcePathStyle: true,
  ...over,
});

let dir: string;
let s3Dir: string;
let front: http.Server;
let corrupting: http.Server;
let silent: net.Server;
const silentSockets = new Set<net.Socket>();
let s3: S3Client;
// What the front saw, to tell a multipart upload from a single PUT and to see the abort arrive.
const requests: { method: string; url: string }[] = [];
let abortSupported = true;

function listen(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function writeRandomFile(name: string, bytes: number): string {
  const file = path.join(dir, name);
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(MiB);
  for (let left = bytes; left > 0; left -= chunk.length) {
    const n = Math.min(left, chunk.length);
    writeSync(fd, randomFillSync(chunk), 0, n);
  }
  closeSync(fd);
  return file;
}

// Every failure is one line without the secret key.
function reasonOf(result: CopySnapshotResult | DeleteSnapshotResult): string {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  expect(result.reason).not.toContain(SECRET);
  expect(result.reason).not.toContain('\n');
  return result.reason;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

// s3rver keeps each unfinished multipart upload as a folder of parts.
function pendingUploads(): string[] {
  const uploads = path.join(s3Dir, BUCKET, '._S3rver_uploads');
  return existsSync(uploads) ? readdirSync(uploads) : [];
}

async function objectExists(Key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
    return true;
  } catch {
    return false;
  }
}

// s3rver 3.7.1 answers AbortMultipartUpload with 405 MethodNotAllowed; this does what S3 does on its file store.
function abortUpload(pathname: string, uploadId: string, res: http.ServerResponse): void {
  const bucket = pathname.split('/')[1] ?? '';
  const uploadDir = path.join(s3Dir, bucket, '._S3rver_uploads', path.basename(uploadId));
  if (!existsSync(uploadDir)) {
    res.writeHead(404, { 'content-type': 'application/xml' });
    res.end(
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>no such upload</Message></Error>',
    );
    return;
  }
  rmSync(uploadDir, { recursive: true, force: true });
  res.writeHead(204).end();
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'offsite-s3-'));
  s3Dir = path.join(dir, 's3rver');
  const server = new S3rver({ silent: true, directory: s3Dir, configureBuckets: [{ name: BUCKET, configs: [] }] });
  await server.configureBuckets();
  const handle = server.callback();
  front = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    const url = new URL(req.url ?? '/', 'http://s3');
    const uploadId = url.searchParams.get('uploadId');
    if (req.method === 'DELETE' && uploadId && abortSupported) abortUpload(url.pathname, uploadId, res);
    else handle(req, res);
  });
  await listen(front, S3_PORT);

  corrupting = http.createServer((req, res) => {
    const upstream = http.request(
      { host: '127.0.0.1', port: S3_PORT, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        let flipped = req.method !== 'GET';
        const flip = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            if (!flipped && chunk.length > 0) {
              chunk[0] = (chunk[0] ?? 0) ^ 0xff;
              flipped = true;
            }
            done(null, chunk);
          },
        });
        answer.pipe(flip).pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await listen(corrupting, CORRUPTING_PORT);

  silent = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on('close', () => silentSockets.delete(socket));
  });
  await listen(silent, SILENT_PORT);

  s3 = new S3Client({
    endpoint: `http://127.0.0.1:${S3_PORT}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: SECRET },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

afterAll(async () => {
  s3?.destroy();
  for (const socket of silentSockets) socket.destroy();
  await Promise.all([front, corrupting, silent].filter(Boolean).map(close));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('copySnapshotToS3', () => {
  it('copies a 40 MB snapshot in 5 MiB parts, with its sha256 in the metadata, and the copy has the same bytes', async () => {
    const file = writeRandomFile('snap-40.db', 40 * MiB + 123);
    const progress: [number, number][] = [];
    requests.length = 0;

    const result = await copySnapshotToS3(file, '2025-03-01T120000Z.db', target(), {
      partSizeBytes: 5 * MiB,
      onProgress: (sent, total) => progress.push([sent, total]),
    });

    expect(result).toMatchObject({
      ok: true,
      location: `s3://${BUCKET}/etcd/prod/2025-03-01T120000Z.db`,
      sha256: sha256(file),
      bytes: 40 * MiB + 123,
    });
    if (!result.ok) return;
    expect(result.etag).toBeTruthy();
    // Nine parts: eight of 5 MiB and the rest.
    expect(requests.filter((r) => r.method === 'PUT' && r.url.includes('partNumber=')).length).toBe(9);
    expect(progress.at(-1)).toEqual([40 * MiB + 123, 40 * MiB + 123]);
    expect(progress.map(([sent]) => sent)).toEqual([...progress.map(([sent]) => sent)].sort((a, b) => a - b));

    const Key = 'etcd/prod/2025-03-01T120000Z.db';
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
    expect(head.Metadata?.sha256).toBe(result.sha256);
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    const copy = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    expect(copy.equals(readFileSync(file))).toBe(true);
    expect(pendingUploads()).toEqual([]);
  });

  it('copies a snapshot smaller than one part with a single PUT', async () => {
    const file = writeRandomFile('snap-small.db', 200_000);
    const result = await copySnapshotToS3(file, 'small.db', target({ prefix: '' }));
    expect(result).toMatchObject({ ok: true, location: `s3://${BUCKET}/small.db`, bytes: 200_000 });
    expect(await objectExists('small.db')).toBe(true);
  });

  it('reports a missing bucket by name', async () => {
    const file = writeRandomFile('snap-nobucket.db', 12 * MiB);
    const result = await copySnapshotToS3(file, 'x.db', target({ bucket: 'no-such-bucket' }), {
      partSizeBytes: 5 * MiB,
    });
    const reason = reasonOf(result);
    expect(reason).toBe(
      'upload to s3://no-such-bucket/etcd/prod/x.db failed: bucket "no-such-bucket" does not exist (NoSuchBucket, HTTP 404)',
    );
  });

  it('reports credentials the object store does not know, without the secret key', async () => {
    const file = writeRandomFile('snap-creds.db', 100_000);
    const wrongSecret = 'not-the-secret/+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const result = await copySnapshotToS3(
      file,
      'x.db',
      target({ accessKeyId: 'AKIAUNKNOWN', secretAccessKey: wrongSecret }),
    );
    const reason = reasonOf(result);
    expect(reason).toMatch(/does not know this access key id \(InvalidAccessKeyId, HTTP 403\)$/);
    expect(reason).not.toContain(wrongSecret);
    expect(await objectExists('etcd/prod/x.db')).toBe(false);
  });

  /** Why copying a small snapshot to an endpoint on `port` failed; it must fail within `withinMs`. */
  async function failureAgainst(port: number, name: string, opts: { idleTimeoutMs: number; withinMs: number }) {
    const file = writeRandomFile(name, 100_000);
    const started = Date.now();
    const result = await copySnapshotToS3(file, 'x.db', target({ endpoint: `http://127.0.0.1:${port}` }), {
      idleTimeoutMs: opts.idleTimeoutMs,
    });
    expect(Date.now() - started).toBeLessThan(opts.withinMs);
    return reasonOf(result);
  }

  it('fails within seconds when nothing listens at the endpoint', async () => {
    const reason = await failureAgainst(DEAD_PORT, 'snap-dead.db', { idleTimeoutMs: 2_000, withinMs: 5_000 });
    expect(reason).toMatch(/connection refused: nothing listens at the endpoint \(.*ECONNREFUSED/);
  });

  it('times out against an endpoint that accepts the connection and never answers', async () => {
    const reason = await failureAgainst(SILENT_PORT, 'snap-silent.db', { idleTimeoutMs: 300, withinMs: 10_000 });
    expect(reason).toMatch(/failed: timed out: .*300 ms/);
  });

  it('deletes a copy that reads back different, naming both hashes', async () => {
    const file = writeRandomFile('snap-corrupt.db', 11 * MiB);
    const local = sha256(file);
    const result = await copySnapshotToS3(
      file,
      'corrupt.db',
      target({ endpoint: `http://127.0.0.1:${CORRUPTING_PORT}` }),
      { partSizeBytes: 5 * MiB },
    );
    const reason = reasonOf(result);
    expect(reason).toMatch(
      new RegExp(
        `^the copy at s3://${BUCKET}/etcd/prod/corrupt.db does not match the snapshot: local sha256 ${local} ` +
          `\\(11534336 bytes\\), remote sha256 (?!${local})[0-9a-f]{64} \\(11534336 bytes\\); the copy was deleted$`,
      ),
    );
    expect(await objectExists('etcd/prod/corrupt.db')).toBe(false);
  });

  it('aborting mid-upload aborts the multipart upload on the server and leaves no object', async () => {
    const file = writeRandomFile('snap-abort.db', 40 * MiB);
    const controller = new AbortController();
    requests.length = 0;
    const result = await copySnapshotToS3(file, 'aborted.db', target(), {
      partSizeBytes: 5 * MiB,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    expect(result).toEqual({ ok: false, reason: `upload to s3://${BUCKET}/etcd/prod/aborted.db failed: aborted` });
    expect(requests.some((r) => r.method === 'DELETE' && r.url.includes('uploadId='))).toBe(true);
    expect(requests.some((r) => r.method === 'POST' && r.url.includes('uploadId='))).toBe(false);
    expect(pendingUploads()).toEqual([]);
    expect(await objectExists('etcd/prod/aborted.db')).toBe(false);
  });

  it('does not keep a snapshot that changed while it was copied', async () => {
    const file = writeRandomFile('snap-changing.db', 40 * MiB);
    let changed = false;
    const result = await copySnapshotToS3(file, 'changing.db', target(), {
      partSizeBytes: 5 * MiB,
      onProgress: () => {
        if (changed) return;
        changed = true;
        // The tail is still unread when the first part lands: four 5 MiB parts in flight at most.
        const fd = openSync(file, 'r+');
        writeSync(fd, Buffer.from('changed'), 0, 7, 40 * MiB - 7);
        closeSync(fd);
      },
    });
    const reason = reasonOf(result);
    expect(reason).toMatch(/failed: the snapshot changed while it was copied \(sha256 [0-9a-f]{64}, then/);
    expect(pendingUploads()).toEqual([]);
    expect(await objectExists('etcd/prod/changing.db')).toBe(false);
  });

  it('says so when the server cannot abort a failed multipart upload', async () => {
    const file = writeRandomFile('snap-orphan.db', 40 * MiB);
    const controller = new AbortController();
    abortSupported = false;
    try {
      const result = await copySnapshotToS3(file, 'orphan.db', target(), {
        partSizeBytes: 5 * MiB,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      });
      const reason = reasonOf(result);
      expect(reason).toMatch(
        /failed: aborted; its parts remain on the server \(abort failed: .*MethodNotAllowed, HTTP 405\)\)$/,
      );
      expect(pendingUploads()).toHaveLength(1);
    } finally {
      abortSupported = true;
      rmSync(path.join(s3Dir, BUCKET, '._S3rver_uploads'), { recursive: true, force: true });
    }
  });

  it('reports a missing file without touching the object store', async () => {
    requests.length = 0;
    const result = await copySnapshotToS3(path.join(dir, 'missing.db'), 'x.db', target());
    const reason = reasonOf(result);
    expect(reason).toMatch(/^cannot read the snapshot: ENOENT: no such file or directory/);
    expect(requests).toEqual([]);
  });

  it('measures RSS growth while copying a 200 MB snapshot (printed, not asserted)', async () => {
    const file = writeRandomFile('snap-200.db', 200 * MiB);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = Date.now();
    const result = await copySnapshotToS3(file, 'big.db', target());
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(result.ok).toBe(true);
    const mib = (n: number) => (n / MiB).toFixed(0);
    console.log(
      `200 MiB copy (16 MiB parts, s3rver in the same process): RSS ${mib(before)} MiB before, ` +
        `peak ${mib(peak)} MiB, growth ${mib(peak - before)} MiB, ${Date.now() - started} ms`,
    );
  }, 180_000);
});

describe('deleteSnapshotFromS3', () => {
  it('deletes a copy by its location', async () => {
    const file = writeRandomFile('snap-retention.db', 50_000);
    const copy = await copySnapshotToS3(file, 'old.db', target());
    expect(copy.ok).toBe(true);
    if (!copy.ok) return;
    expect(await objectExists('etcd/prod/old.db')).toBe(true);
    expect(await deleteSnapshotFromS3(copy.location, target())).toEqual({ ok: true });
    expect(await objectExists('etcd/prod/old.db')).toBe(false);
  });

  it('refuses locations outside the target bucket or prefix', async () => {
    expect(await deleteSnapshotFromS3(`s3://other-bucket/etcd/prod/a.db`, target())).toEqual({
      ok: false,
      reason: 's3://other-bucket/etcd/prod/a.db is not in the target bucket "etcd-offsite"',
    });
    expect(await deleteSnapshotFromS3(`s3://${BUCKET}/etcd/staging/a.db`, target())).toEqual({
      ok: false,
      reason: `s3://${BUCKET}/etcd/staging/a.db is outside the target prefix "etcd/prod/"`,
    });
    expect(await deleteSnapshotFromS3('/var/lib/etcd/a.db', target())).toMatchObject({ ok: false });
  });

  it('reports failures in the same words as the copy', async () => {
    const result = await deleteSnapshotFromS3(
      `s3://no-such-bucket/etcd/prod/a.db`,
      target({ bucket: 'no-such-bucket' }),
    );
    expect(result).toEqual({
      ok: false,
      reason:
        'deleting s3://no-such-bucket/etcd/prod/a.db failed: bucket "no-such-bucket" does not exist (NoSuchBucket, HTTP 404)',
    });
  });
});
