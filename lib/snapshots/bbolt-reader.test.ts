import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoltReader, type BoltBucket, type BoltReaderOptions } from './bbolt-reader';
import { decodeKeyValue, parseRevisionKey } from './mvcc-key-value';
import { SnapshotFormatError } from './snapshot-format-error';
import { SnapshotTestCluster, seededRandom, valueOf } from '@/test/support/snapshot-test-cluster';

const BASE_PORT = 24846;
const ETCD_BUCKETS = [
  'alarm',
  'auth',
  'authRoles',
  'authUsers',
  'cluster',
  'key',
  'lease',
  'members',
  'members_removed',
  'meta',
];

interface EtcdctlKv {
  key: string;
  value?: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease?: number;
}

let cluster: SnapshotTestCluster;
let snapshot: string;
let bytes: Buffer;
let live: EtcdctlKv[];
let leaseHex: string;

beforeAll(async () => {
  cluster = await SnapshotTestCluster.start(BASE_PORT, 'bbolt-reader');
  const random = seededRandom(42);
  // Values from 10 B to 20 KiB: small ones share leaf pages, big ones need overflow pages.
  const sizes = [10, 300, 1500, 5000, 20_000];
  await cluster.write(
    Array.from({ length: 400 }, (_, i) => ({
      put: `/registry/configmaps/ns${i % 4}/cm-${i}`,
      value: valueOf(sizes[i % sizes.length]!, random),
    })),
  );
  await cluster.write(Array.from({ length: 40 }, (_, i) => ({ del: `/registry/configmaps/ns${i % 4}/cm-${i}` })));
  leaseHex = /lease ([0-9a-f]+) granted/.exec(await cluster.etcdctl(['lease', 'grant', '3600']))![1]!;
  await cluster.etcdctl(['put', `--lease=${leaseHex}`, '/registry/leases/kube-system/holder', 'me']);
  snapshot = await cluster.save('reader.db');
  bytes = readFileSync(snapshot);
  // The member's own view of the live keys, to compare with what the reader finds in the file.
  const got = JSON.parse(await cluster.etcdctl(['get', '', '--from-key', '-w', 'json'])) as { kvs: EtcdctlKv[] };
  live = got.kvs;
});

afterAll(async () => {
  await cluster?.stop();
});

/** Writes an edited copy of the snapshot (edited in place, or the Buffer `edit` returns) and returns its path. */
function variant(name: string, edit: (b: Buffer) => unknown): string {
  const copy = Buffer.from(bytes);
  const file = path.join(cluster.dir, name);
  const edited = edit(copy);
  writeFileSync(file, Buffer.isBuffer(edited) ? edited : copy);
  return file;
}

async function readAll(file: string, options?: BoltReaderOptions) {
  const reader = await BoltReader.open(file, options);
  try {
    const out = new Map<string, { key: Buffer; value: Buffer | null }[]>();
    for (const bucket of await reader.buckets()) {
      const entries: { key: Buffer; value: Buffer | null }[] = [];
      await reader.forEachEntry(bucket, (key, value) =>
        entries.push({ key: Buffer.from(key), value: value && Buffer.from(value) }),
      );
      out.set(bucket.name.toString(), entries);
    }
    return { meta: reader.meta, stats: reader.stats, buckets: out, dbBytes: reader.dbBytes };
  } finally {
    await reader.close();
  }
}

/** Per bucket: entry count and a SHA-256 over every key and value (deep-equal on megabytes of Buffers is slow). */
function fingerprint(buckets: Map<string, { key: Buffer; value: Buffer | null }[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, entries] of buckets) {
    const h = createHash('sha256');
    for (const { key, value } of entries)
      h.update(`${key.length}:${value?.length ?? -1}:`)
        .update(key)
        .update(value ?? '');
    out[name] = `${entries.length} ${h.digest('hex')}`;
  }
  return out;
}

async function keyBucketRoot(file: string): Promise<BoltBucket & { pageSize: number }> {
  const reader = await BoltReader.open(file);
  try {
    const key = (await reader.buckets()).find((b) => b.name.toString() === 'key');
    if (!key) throw new Error('no key bucket');
    return { ...key, pageSize: reader.meta.pageSize };
  } finally {
    await reader.close();
  }
}

describe('BoltReader on a real etcd snapshot', () => {
  it('picks meta page 0 (etcd writes meta 1 with txid - 1) and sizes the database as etcdctl does', async () => {
    const { meta, dbBytes } = await readAll(snapshot);
    expect(meta).toMatchObject({ page: 0, pageSize: 4096, freelist: null });
    expect(dbBytes).toBe(bytes.length - 32);
    expect(meta.pgid * meta.pageSize).toBe(dbBytes);
  });

  it('lists etcd’s buckets in key order and meets branch, leaf, overflow pages and inline buckets', async () => {
    const { buckets, stats } = await readAll(snapshot);
    expect([...buckets.keys()]).toEqual(ETCD_BUCKETS);
    expect(stats.branchPages).toBeGreaterThan(0);
    expect(stats.leafPages).toBeGreaterThan(stats.branchPages);
    expect(stats.overflowPages).toBeGreaterThan(400 / 5); // every 20 KiB value spans several pages
    expect(stats.inlineBuckets).toBeGreaterThan(0);
  });

  it('gives the "key" bucket in revision order, and its latest revisions are exactly the keys etcd serves', async () => {
    const { buckets } = await readAll(snapshot);
    const entries = buckets.get('key')!;
    const revisions = entries.map((e) => parseRevisionKey(e.key));
    for (let i = 1; i < revisions.length; i++) {
      const [a, b] = [revisions[i - 1]!, revisions[i]!];
      expect(a.main < b.main || (a.main === b.main && a.sub < b.sub)).toBe(true);
    }
    expect(entries).toHaveLength(400 + 40 + 1); // puts, delete tombstones, the leased key

    const latest = new Map<string, { tombstone: boolean; kv: ReturnType<typeof decodeKeyValue> }>();
    entries.forEach((e, i) => {
      const kv = decodeKeyValue(e.value!);
      latest.set(kv.key.toString(), { tombstone: revisions[i]!.tombstone, kv });
    });
    const fromFile = [...latest.values()]
      .filter((l) => !l.tombstone)
      .map(({ kv }) => ({
        key: kv.key.toString('base64'),
        value: kv.value.toString('base64'),
        create_revision: kv.createRevision,
        mod_revision: kv.modRevision,
        version: kv.version,
        lease: kv.lease === 0n ? '0' : kv.lease.toString(16).padStart(16, '0'),
      }))
      .sort((a, b) => Buffer.compare(Buffer.from(a.key, 'base64'), Buffer.from(b.key, 'base64')));
    expect(fromFile).toHaveLength(361);
    expect(fromFile).toEqual(
      live.map((kv) => ({
        key: kv.key,
        value: kv.value ?? '',
        create_revision: kv.create_revision,
        mod_revision: kv.mod_revision,
        version: kv.version,
        // etcdctl's JSON lease is a float64 that cannot hold every 64-bit id: compare with the hex it granted.
        // etcdctl prints the id zero-padded to 16 digits (%016x).
        lease: kv.lease === undefined ? '0' : leaseHex.padStart(16, '0'),
      })),
    );
    const leaseKeys = buckets.get('lease')!.map((e) => e.key.toString('hex'));
    expect(leaseKeys).toEqual([leaseHex.padStart(16, '0')]);
  });

  it('keeps a leaf page’s views valid until onLeafEnd, which comes once per leaf page', async () => {
    for (const options of [{}, { blockBytes: 4096, cachedBlocks: 1 }] as BoltReaderOptions[]) {
      const reader = await BoltReader.open(snapshot, options);
      try {
        const bucket = (await reader.buckets()).find((b) => b.name.toString() === 'key')!;
        let pending: { key: Buffer; copy: Buffer }[] = [];
        const leavesBefore = reader.stats.leafPages; // the stats count every walk, listing the buckets too
        let leaves = 0;
        let checked = 0;
        await reader.forEachEntry(
          bucket,
          (key, value) => pending.push({ key, copy: Buffer.from(Buffer.concat([key, value ?? Buffer.alloc(0)])) }),
          () => {
            leaves++;
            for (const { key, copy } of pending) {
              // The key and its value are back to back in the page, as bbolt writes them.
              expect(Buffer.from(key.buffer, key.byteOffset, copy.length).equals(copy)).toBe(true);
              checked++;
            }
            pending = [];
          },
        );
        expect(pending).toEqual([]);
        expect(checked).toBeGreaterThan(400);
        expect(leaves).toBe(reader.stats.leafPages - leavesBefore);
      } finally {
        await reader.close();
      }
    }
  });

  it('reads the same with a one-page cache, where every large value crosses a block edge', async () => {
    const normal = await readAll(snapshot);
    const tiny = await readAll(snapshot, { blockBytes: 4096, cachedBlocks: 1 });
    expect(fingerprint(tiny.buckets)).toEqual(fingerprint(normal.buckets));
  });
});

describe('BoltReader on damaged files', () => {
  const fails = async (file: string, message: RegExp) => {
    const error = await readAll(file).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(SnapshotFormatError);
    expect((error as Error).message).toMatch(message);
  };

  it('refuses a file that is not a bbolt database', async () => {
    await fails(
      variant('text.db', () => Buffer.from('hello\n'.repeat(2000))),
      /^not a bbolt database: meta page 0 has magic 0x[0-9a-f]{8}, not 0xed0cdaed; meta page 1 has magic/,
    );
    await fails(
      variant('tiny.db', () => Buffer.from('hi')),
      /^too small for a bbolt database: 2 bytes/,
    );
    await fails(
      variant('no-magic.db', (b) => {
        b.writeUInt32LE(0, 16);
        b.writeUInt32LE(0, 4096 + 16);
      }),
      /^not a bbolt database: meta page 0 has magic 0x00000000, not 0xed0cdaed; meta page 1 has magic 0x00000000/,
    );
  });

  it('falls back to meta page 1 when meta page 0 is damaged, even when page 0 is all zeros', async () => {
    const expected = fingerprint((await readAll(snapshot)).buckets);
    const badChecksum = variant('meta0-checksum.db', (b) => b.writeUInt32LE(b.readUInt32LE(16 + 48) ^ 1, 16 + 48));
    const a = await readAll(badChecksum);
    expect(a.meta.page).toBe(1);
    expect(fingerprint(a.buckets)).toEqual(expected);
    const zeroed = variant('meta0-zero.db', (b) => b.fill(0, 0, 4096));
    expect((await readAll(zeroed)).meta.page).toBe(1);
    await fails(
      variant('both-checksums.db', (b) => {
        b[16 + 60] = b[16 + 60]! ^ 1;
        b[4096 + 16 + 60] = b[4096 + 16 + 60]! ^ 1;
      }),
      /^no valid meta page: meta page 0 checksum mismatch .*; meta page 1 checksum mismatch/,
    );
  });

  it('refuses a truncated file', async () => {
    await fails(
      variant('half.db', (b) => b.subarray(0, 40 * 4096)),
      /^truncated: the database needs \d+ bytes \(\d+ pages of 4096\) but the file has 163840/,
    );
  });

  it('names a branch pointer beyond the high-water mark', async () => {
    const root = await keyBucketRoot(snapshot);
    const at = root.root * root.pageSize;
    expect(bytes.readUInt16LE(at + 8)).toBe(0x01); // the key bucket's root is a branch page
    const file = variant('beyond-hwm.db', (b) => b.writeUInt32LE(999_999, at + 16 + 16 + 8));
    await fails(
      file,
      new RegExp(`^bucket "key": branch page ${root.root} points to page 999999, beyond the high-water mark \\d+`),
    );
  });

  it('names a page of an unexpected type', async () => {
    const root = await keyBucketRoot(snapshot);
    const at = root.root * root.pageSize;
    const child = bytes.readUInt32LE(at + 16 + 8);
    const file = variant('bad-type.db', (b) => b.writeUInt16LE(0x10, child * root.pageSize + 8));
    await fails(
      file,
      new RegExp(`unexpected page type at page ${child} \\(from branch page ${root.root}\\): freelist`),
    );
  });

  it('names a page referenced twice and a page whose header has another id', async () => {
    const root = await keyBucketRoot(snapshot);
    const at = root.root * root.pageSize;
    const first = bytes.readUInt32LE(at + 16 + 8);
    await fails(
      variant('twice.db', (b) => b.writeUInt32LE(first, at + 16 + 16 + 8)),
      new RegExp(`page ${first} is referenced twice`),
    );
    await fails(
      variant('wrong-id.db', (b) => b.writeUInt32LE(first + 1, first * 4096)),
      new RegExp(`page ${first}: its header says it is page ${first + 1}`),
    );
  });

  it('names a damaged overflow count, and will not read a page larger than maxPageBytes', async () => {
    const root = await keyBucketRoot(snapshot);
    // Down the key bucket's tree by hand to a leaf page with several overflow pages (a 20 KiB value).
    const header = (id: number) => ({
      flags: bytes.readUInt16LE(id * root.pageSize + 8),
      count: bytes.readUInt16LE(id * root.pageSize + 10),
      overflow: bytes.readUInt32LE(id * root.pageSize + 12),
    });
    const queue = [root.root];
    let big: number | undefined;
    while (big === undefined && queue.length > 0) {
      const id = queue.shift()!;
      const { flags, count, overflow } = header(id);
      if (flags === 0x02 && overflow > 1) big = id;
      if (flags === 0x01) {
        for (let i = 0; i < count; i++) queue.push(bytes.readUInt32LE(id * root.pageSize + 16 + i * 16 + 8));
      }
    }
    if (big === undefined) throw new Error('no leaf page with overflow in the key bucket');
    const overflow = bytes.readUInt32LE(big * root.pageSize + 12);
    for (const wrong of [overflow - 1, overflow + 1]) {
      await fails(
        variant(`overflow-${wrong}.db`, (b) => b.writeUInt32LE(wrong, big * root.pageSize + 12)),
        new RegExp(`page ${big}: claims ${wrong} overflow pages but its data ends at byte \\d+`),
      );
    }
    const error = await readAll(snapshot, { maxPageBytes: 8192 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SnapshotFormatError);
    expect((error as Error).message).toMatch(/spans \d+ bytes, more than the 8192 this reader allows/);
  });

  it('never crashes on random damage: every failure is a SnapshotFormatError', async () => {
    const random = seededRandom(2024);
    const pages = bytes.length >> 12;
    let failed = 0;
    for (let round = 0; round < 300; round++) {
      const file = variant('fuzz.db', (b) => {
        for (let n = 0; n < 1 + Math.floor(random() * 4); n++) {
          // Mostly page headers and element tables, where damage changes the structure.
          const page = Math.floor(random() * pages);
          const offset = page * 4096 + Math.floor(random() * (random() < 0.8 ? 96 : 4096));
          b[offset] = Math.floor(random() * 256);
        }
      });
      try {
        await readAll(file);
      } catch (err) {
        if (!(err instanceof SnapshotFormatError)) throw err;
        failed++;
      }
    }
    expect(failed).toBeGreaterThan(0);
  });
});
