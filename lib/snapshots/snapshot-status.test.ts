import { copyFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPrefix } from './keyspace-breakdown';
import { SnapshotFormatError } from './snapshot-format-error';
import { verifySha256Trailer } from './snapshot-integrity';
import { snapshotStatus } from './snapshot-status';
import {
  SnapshotTestCluster,
  seededRandom,
  valueOf,
  type EtcdctlSnapshotStatus,
} from '@/test/support/snapshot-test-cluster';
import type { KeyspacePrefix } from './snapshot-types';

const BASE_PORT = 24840;
// Saved by etcdctl 3.4.23; its `snapshot status -w table` printed the hash as "990826e" (Go's %x: no leading zero).
const FIXTURE = path.join(__dirname, 'fixtures', 'etcd-3.4.23-small.db');

type Op = { put: string; value: string } | { del: string };

/** What the keyspace should look like, kept alongside the writes: latest value size per key, revisions per prefix. */
class Model {
  private readonly latest = new Map<string, number | null>();
  private readonly revisions = new Map<string, number>();

  record(ops: Op[]): Op[] {
    for (const op of ops) {
      const key = 'put' in op ? op.put : op.del;
      // etcd writes no tombstone for a key that does not exist.
      if ('del' in op && (this.latest.get(key) ?? null) === null) continue;
      this.latest.set(key, 'put' in op ? op.value.length : null);
      const prefix = keyPrefix(Buffer.from(key));
      this.revisions.set(prefix, (this.revisions.get(prefix) ?? 0) + 1);
    }
    return ops;
  }

  /** Keys whose latest operation is a put. */
  liveKeys(): number {
    return [...this.latest.values()].filter((size) => size !== null).length;
  }

  expected(compacted: boolean): KeyspacePrefix[] {
    const rows = new Map<string, KeyspacePrefix>();
    for (const [prefix, revisions] of this.revisions) rows.set(prefix, { prefix, liveKeys: 0, bytes: 0, revisions });
    for (const [key, size] of this.latest) {
      const row = rows.get(keyPrefix(Buffer.from(key)))!;
      if (size === null) continue;
      row.liveKeys++;
      row.bytes += Buffer.byteLength(key) + size;
    }
    // Compacting at the current revision keeps exactly the latest revision of each live key.
    if (compacted) for (const row of rows.values()) row.revisions = row.liveKeys;
    return [...rows.values()].filter((r) => r.revisions > 0);
  }
}

const byPrefix = (rows: KeyspacePrefix[]) => [...rows].sort((a, b) => a.prefix.localeCompare(b.prefix));

/** Our status without the breakdown, shaped as the cluster's own `snapshot status -w json` (etcdctl 3.4, etcdutl 3.5+). */
async function asEtcdctl(file: string): Promise<EtcdctlSnapshotStatus> {
  const { hash, revision, totalKey, totalSize, storageVersion } = await snapshotStatus(file);
  // etcdutl prints the storage version from 3.6 on ("" when the file has none).
  const printsVersion = cluster.binaries.line !== '3.4' && cluster.binaries.line !== '3.5';
  return { hash, revision, totalKey, totalSize, ...(printsVersion ? { version: storageVersion ?? '' } : {}) };
}

let cluster: SnapshotTestCluster;
const model = new Model();
let beforeCompaction: string;
let afterCompaction: string;

beforeAll(async () => {
  cluster = await SnapshotTestCluster.start(BASE_PORT, 'snapshot-status');
  const random = seededRandom(1);
  const pick = <T>(list: T[], i: number) => list[i % list.length]!;
  const pods = Array.from({ length: 150 }, (_, i) => `/registry/pods/ns${i % 3}/pod-${i}`);
  const events = Array.from({ length: 100 }, (_, i) => `/registry/events/default/ev-${i}`);
  const secrets = Array.from({ length: 50 }, (_, i) => `/registry/secrets/kube-system/s-${i}`);
  const puts = (keys: string[], sizes: number[]) =>
    keys.map((put, i) => ({ put, value: valueOf(pick(sizes, i), random) }));
  await cluster.write(
    model.record([
      ...puts(pods, [120, 800, 2500, 5200, 300, 9000]),
      ...puts(events, [200, 350, 480, 610]),
      ...puts(secrets, [60, 20_000, 400, 1200, 4097]),
    ]),
  );
  await cluster.write(model.record(puts(pods.slice(0, 50), [50])));
  await cluster.write(model.record(puts(pods.slice(0, 50), [700, 3000])));
  await cluster.write(model.record([...events.slice(0, 30), ...secrets.slice(0, 5)].map((del) => ({ del }))));
  // Single operations, each its own revision: a key deleted and made again, keys outside /registry.
  for (const op of [
    { put: '/registry/pods/ns0/reborn', value: 'first' },
    { del: '/registry/pods/ns0/reborn' },
    { put: '/registry/pods/ns0/reborn', value: 'second-life' },
    { del: '/registry/pods/ns9/never-existed' },
    { put: 'config/feature/x', value: 'on' },
    { put: '/top', value: 'level' },
  ]) {
    await cluster.write(model.record([op]));
  }
  beforeCompaction = await cluster.save('before-compaction.db');
  await cluster.etcdctl(['compact', String(await cluster.revision()), '--physical']);
  afterCompaction = await cluster.save('after-compaction.db');
});

afterAll(async () => {
  await cluster?.stop();
});

describe("snapshotStatus against the etcd version's own snapshot status", () => {
  it('reports the same hash, revision, total keys and size as etcdctl/etcdutl, before and after a compaction', async () => {
    for (const file of [beforeCompaction, afterCompaction]) {
      const etcdctl = await cluster.status(file);
      expect(await asEtcdctl(file)).toEqual(etcdctl);
      expect(etcdctl.totalSize).toBe(statSync(file).size - 32);
    }
    const [before, after] = [await cluster.status(beforeCompaction), await cluster.status(afterCompaction)];
    // Compaction removed old revisions and tombstones: fewer entries (3.4, 3.5), the same live keys (3.6+).
    if (cluster.binaries.line === '3.4' || cluster.binaries.line === '3.5') {
      expect(after.totalKey).toBeLessThan(before.totalKey);
    } else {
      expect(after.totalKey).toBe(before.totalKey);
      expect(after.totalKey).toBe(model.liveKeys());
    }
    expect(after.hash).not.toBe(before.hash);
  });

  it('prints the hash as etcdctl’s table does, without leading zeros', async () => {
    const status = await snapshotStatus(FIXTURE);
    expect(status).toMatchObject({
      hash: 160465518,
      hashHex: '990826e',
      revision: 23,
      totalKey: 27,
      totalSize: 24_576,
    });
  });

  it('breaks the keyspace down per prefix: live keys, their bytes, stored revisions; deleted keys not counted', async () => {
    const before = await snapshotStatus(beforeCompaction);
    expect(byPrefix(before.keyspace)).toEqual(byPrefix(model.expected(false)));
    expect(before.keyspace.map((r) => [r.prefix, r.liveKeys])).toEqual([
      ['/registry/pods', 151],
      ['/registry/secrets', 45],
      ['/registry/events', 70],
      ['config', 1],
      ['/top', 1],
    ]);
    const pods = before.keyspace.find((r) => r.prefix === '/registry/pods')!;
    expect(pods.revisions).toBe(150 + 50 + 50 + 3);
    for (let i = 1; i < before.keyspace.length; i++) {
      expect(before.keyspace[i - 1]!.bytes).toBeGreaterThanOrEqual(before.keyspace[i]!.bytes);
    }
    // A range response counts every key in the range, whatever its limit.
    const served = JSON.parse(
      await cluster.etcdctl(['get', '', '--from-key', '--keys-only', '--limit=1', '-w', 'json']),
    ) as {
      count: number;
    };
    expect(before.keyspace.reduce((n, r) => n + r.liveKeys, 0)).toBe(served.count);

    const after = await snapshotStatus(afterCompaction);
    expect(byPrefix(after.keyspace)).toEqual(byPrefix(model.expected(true)));
  });
});

describe('snapshotStatus on damaged files', () => {
  const variant = (name: string, edit: (b: Buffer) => Buffer): string => {
    const file = path.join(cluster.dir, name);
    writeFileSync(file, edit(Buffer.from(readFileSync(beforeCompaction))));
    return file;
  };
  const failure = (file: string) =>
    snapshotStatus(file).then(
      () => null,
      (err: unknown) => err,
    );

  it('a flipped byte in a value: the trailer check fails and the hash differs, matching etcdctl on that file', async () => {
    // Copy-on-write leaves stale copies of pages in free pages, so flip every copy of a unique value: one is live.
    const marker = Buffer.from('second-life');
    const file = variant('flipped-value.db', (b) => {
      let flipped = 0;
      for (let at = b.indexOf(marker); at >= 0; at = b.indexOf(marker, at + 1), flipped++)
        b[at + 3] = b[at + 3]! ^ 0x20;
      expect(flipped).toBeGreaterThan(0);
      return b;
    });
    expect((await verifySha256Trailer(file)).ok).toBe(false);
    const ours = await asEtcdctl(file);
    expect(ours.hash).not.toBe((await cluster.status(beforeCompaction)).hash);
    expect(ours).toEqual(await cluster.status(file));
  });

  it('a flipped byte in the middle of the file: the trailer check fails; status fails clearly or agrees with etcdctl', async () => {
    for (const at of [0.5, 0.25, 0.75]) {
      const file = variant(`flipped-${at}.db`, (b) => {
        const i = Math.floor(b.length * at);
        b[i] = b[i]! ^ 0xff;
        return b;
      });
      expect((await verifySha256Trailer(file)).ok).toBe(false);
      const ours = await asEtcdctl(file).catch((err: unknown) => err);
      const theirs = await cluster.status(file).catch((err: unknown) => err);
      if (ours instanceof Error) expect(ours).toBeInstanceOf(SnapshotFormatError);
      else expect(ours).toEqual(theirs);
    }
  });

  it('a truncated file: a clear error naming the file', async () => {
    const file = path.join(cluster.dir, 'truncated.db');
    copyFileSync(beforeCompaction, file);
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const err = await failure(file);
    expect(err).toBeInstanceOf(SnapshotFormatError);
    expect((err as Error).message).toMatch(/^.*truncated\.db: truncated: the database needs \d+ bytes/);
  });

  it('a file that is not a bbolt database: a clear error', async () => {
    const file = path.join(cluster.dir, 'not-bolt.db');
    writeFileSync(file, Buffer.alloc(64 * 1024, 'etcd snapshot? no.'));
    const err = await failure(file);
    expect(err).toBeInstanceOf(SnapshotFormatError);
    expect((err as Error).message).toMatch(/not-bolt\.db: not a bbolt database: meta page 0 has magic/);
    await expect(snapshotStatus(path.join(cluster.dir, 'missing.db'))).rejects.toThrow(/ENOENT/);
  });
});

describe('snapshotStatus speed and memory on a larger snapshot', () => {
  it('reads a ~50 MB snapshot page by page (printed, not asserted: compare with etcdctl)', async () => {
    const random = seededRandom(9);
    const ops = Array.from({ length: 16_000 }, (_, i) => ({
      put: `/registry/configmaps/ns${i % 20}/cm-${i}`,
      value: valueOf(500 + Math.floor(random() * 4000), random),
    }));
    await cluster.write(ops, 3);
    const file = await cluster.save('large.db');
    const mb = statSync(file).size / 1e6;

    const time = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
      const start = performance.now();
      const out = await run();
      return [out, performance.now() - start];
    };
    const [theirs, etcdctlMs] = await time(() => cluster.status(file));
    // Peak of buffer memory while reading, sampled between page reads: the file must never be held whole.
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 2);
    const [ours, oursMs] = await time(() => snapshotStatus(file));
    clearInterval(sampler);
    const [trailer, trailerMs] = await time(() => verifySha256Trailer(file));

    expect(await asEtcdctl(file)).toEqual(theirs);
    expect(trailer.ok).toBe(true);
    expect(ours.keyspace.find((r) => r.prefix === '/registry/configmaps')?.liveKeys).toBe(16_000);
    const rate = (ms: number) => `${Math.round(ms)} ms (${Math.round(mb / (ms / 1000))} MB/s)`;
    console.log(
      `snapshot ${mb.toFixed(1)} MB: etcd ${cluster.binaries.version} snapshot status ${rate(etcdctlMs)} (process start included); ` +
        `snapshotStatus ${rate(oursMs)}, peak buffer memory +${((peak - baseline) / 1e6).toFixed(1)} MB; ` +
        `verifySha256Trailer ${rate(trailerMs)}`,
    );
  });
});
