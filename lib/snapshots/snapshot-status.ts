// What `snapshot status` (etcdctl 3.4, etcdutl from 3.5) reports for a snapshot file, plus who uses the keyspace, in one pass.
import 'server-only';
import { BoltReader, type BoltReaderOptions } from './bbolt-reader';
import { Crc32c } from './crc32c';
import { KeyspaceBreakdown } from './keyspace-breakdown';
import { decodeKeyValueSpan, parseRevisionKey, type KeyValueSpan } from './mvcc-key-value';
import { SnapshotFormatError } from './snapshot-format-error';
import type { KeyspacePrefix } from './snapshot-types';

export interface SnapshotFileStatus {
  /** CRC-32C over every bucket name, key and value in order; `etcdctl snapshot status -w json` prints it in decimal. */
  hash: number;
  /** The hash as etcdctl's table prints it: Go's %x, lower-case hex without leading zeros. */
  hashHex: string;
  /** Main revision of the last key in the "key" bucket; 0 when it is empty. */
  revision: number;
  /**
   * "total keys" as the snapshot's own etcd version prints it: from 3.6 (a snapshot that carries a storage version)
   * the live user keys, before that every entry of every bucket.
   */
  totalKey: number;
  /** Entries in all buckets together: etcdctl 3.4's and etcdutl 3.5's "total keys". */
  entries: number;
  /** User keys whose latest revision is not a deletion: etcdutl 3.6's and later's "total keys". */
  liveKeys: number;
  /** The storage version etcd 3.6 and later record in the meta bucket ("3.6.0"); null before 3.6. */
  storageVersion: string | null;
  /** The database's bytes without the 32-byte trailer: high-water mark × page size. */
  totalSize: number;
  /** Per key prefix of the "key" bucket, largest live bytes first. */
  keyspace: KeyspacePrefix[];
}

const KEY_BUCKET = 'key';
const META_BUCKET = 'meta';
const STORAGE_VERSION_KEY = 'storageVersion';
/** What etcd's semver parse accepts of the stored version; anything else reads as absent, as in etcdutl. */
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Mirrors etcdctl/snapshot/v3_snapshot.go Status: walks the root's buckets in key order, hashing the bucket name and then
 * each key and value. Throws SnapshotFormatError, naming the file, when it is damaged: the structural faults bbolt's
 * tx.Check (which etcdctl runs first) reports, and "key" bucket entries etcd cannot have written (etcdctl does not
 * decode values, so it may still print a status for such a file). I/O errors are thrown as they come.
 */
export async function snapshotStatus(file: string, options?: BoltReaderOptions): Promise<SnapshotFileStatus> {
  let reader: BoltReader | null = null;
  try {
    reader = await BoltReader.open(file, options);
    const crc = new Crc32c();
    const breakdown = new KeyspaceBreakdown();
    let revision = 0;
    let entries = 0;
    let storageVersion: string | null = null;
    // No GcPacer here: the reader reuses its block buffers, so no stream of fresh Buffers piles up for one to sweep
    // (a scavenge forced every 4 MiB would only cost time).
    // bbolt writes a leaf page's keys and values back to back in element order, so the bytes hashed for one page are
    // mostly one run of memory: hash runs, not each key and value (a native call each, or a copy into a staging buffer).
    // A run is hashed at the latest when its leaf page ends, before the reader may reuse the page's buffer.
    let run: ArrayBufferLike | null = null;
    let runStart = 0;
    let runEnd = 0;
    const flush = (): void => {
      if (run === null) return;
      crc.update(new Uint8Array(run, runStart, runEnd - runStart));
      run = null;
    };
    const hash = (bytes: Buffer): void => {
      if (bytes.length === 0) return;
      if (bytes.buffer === run && bytes.byteOffset === runEnd) {
        runEnd += bytes.length;
        return;
      }
      flush();
      run = bytes.buffer;
      runStart = bytes.byteOffset;
      runEnd = runStart + bytes.length;
    };
    const span: KeyValueSpan = { keyStart: 0, keyEnd: 0, valueLength: 0 };
    for (const bucket of await reader.buckets()) {
      crc.update(bucket.name);
      const isKeyBucket = bucket.name.toString('latin1') === KEY_BUCKET;
      const isMetaBucket = bucket.name.toString('latin1') === META_BUCKET;
      const visit = (key: Buffer, value: Buffer | null): void => {
        hash(key);
        // A nested bucket has a nil value in bbolt's ForEach, so Go's h.Write(nil) adds nothing.
        if (value) hash(value);
        entries++;
        if (isMetaBucket && value && key.toString('latin1') === STORAGE_VERSION_KEY) {
          const v = value.toString('latin1');
          storageVersion = SEMVER.test(v) ? v : null;
        }
        if (isKeyBucket) {
          if (!value) throw new SnapshotFormatError(`the "key" bucket holds a nested bucket ${key.toString('hex')}`);
          const rev = parseRevisionKey(key);
          revision = rev.main; // keys come in revision order: the last one is the snapshot's revision
          decodeKeyValueSpan(value, span);
          breakdown.addSpan(rev.tombstone, value, span.keyStart, span.keyEnd, span.valueLength);
        }
      };
      await reader.forEachEntry(bucket, visit, flush);
      flush();
    }
    const digest = crc.digest();
    const keyspace = breakdown.result();
    const liveKeys = keyspace.reduce((n, row) => n + row.liveKeys, 0);
    return {
      hash: digest,
      hashHex: digest.toString(16),
      revision,
      totalKey: storageVersion === null ? entries : liveKeys,
      entries,
      liveKeys,
      storageVersion,
      totalSize: reader.dbBytes,
      keyspace,
    };
  } catch (err) {
    if (err instanceof SnapshotFormatError) throw new SnapshotFormatError(`${file}: ${err.message}`, { cause: err });
    throw err;
  } finally {
    await reader?.close();
  }
}
