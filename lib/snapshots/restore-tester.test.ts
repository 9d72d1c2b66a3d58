// Restore tests against real etcd: a good snapshot restores and matches (HashKV equal); a damaged one fails with the
// reason and leaves nothing running or on disk; no binary of the version is a plain skip; a test a stopped dashboard
// left behind is cleared at start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import S3rver from 's3rver';
import { SnapshotTestCluster } from '@/test/support/snapshot-test-cluster';
import { AuditLog } from '@/lib/auth/audit-log';
import { sqliteStore } from '@/lib/db/sqlite-store';
import { openDatabase } from '@/lib/db/database';
import { isScratchMember, startScratchMember } from '@/lib/etcd/scratch-member';
import { EtcdBinaryFinder, etcdLineOf } from './restore-binaries';
import { copySnapshotToS3, type S3Target } from './offsite/s3-target';
import { RestoreTester, type SourceHash } from './restore-tester';
import { snapshotStatus } from './snapshot-status';
import { SnapshotRecords } from './snapshot-records';
import { SnapshotStore, type StoredSnapshot } from './snapshot-store';

let cluster: SnapshotTestCluster;
let tmp: string;
let db: Database.Database;
let records: SnapshotRecords;
let good: string;
let version: string;
const finder = new EtcdBinaryFinder({});

beforeAll(async () => {
  cluster = await SnapshotTestCluster.start(25650, 'rt');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'restore-test-'));
  db = openDatabase(path.join(tmp, 'dashboard.sqlite'));
  records = new SnapshotRecords(new SnapshotStore(sqliteStore(db)));
  // Keys with history: written, overwritten, some deleted.
  const ops = [];
  for (let i = 0; i < 300; i++) ops.push({ put: `/registry/configmaps/ns/cm-${i}`, value: `v${i}` });
  for (let i = 0; i < 100; i++) ops.push({ put: `/registry/configmaps/ns/cm-${i}`, value: `w${i}` });
  for (let i = 250; i < 300; i++) ops.push({ del: `/registry/configmaps/ns/cm-${i}` });
  await cluster.write(ops);
  good = await cluster.save('good.db');
  version = cluster.binaries.version;
});

afterAll(async () => {
  await cluster?.stop();
  db?.close();
  rmSync(tmp, { recursive: true, force: true });
});

let seq = 0;
/** A verified record of `file`, as the snapshot manager leaves one. */
async function record(file: string): Promise<StoredSnapshot> {
  const id = `20261206T0000${String(seq++).padStart(2, '0')}Z-abcdef`;
  const st = await snapshotStatus(file);
  const bytes = readFileSync(file);
  const stored = records.insertVerified(
    {
      id,
      clusterId: 'rt',
      startedAt: Date.now(),
      memberId: null,
      memberName: null,
      trigger: 'manual',
      triggeredBy: 'test',
      fileName: path.basename(file),
    },
    {
      finishedAt: Date.now(),
      sizeBytes: bytes.length,
      revision: st.revision,
      totalKeys: st.totalKey,
      hash: st.hash,
      // What the snapshot manager records: the SHA-256 of everything before the trailer.
      sha256: createHash('sha256')
        .update(bytes.subarray(0, bytes.length - 32))
        .digest('hex'),
      keyspace: st.keyspace,
      locations: [{ kind: 'local', where: file }],
    },
  );
  await records.flush();
  return stored;
}

/** The source cluster's HashKV, as etcdctl endpoint hashkv reads it. */
async function sourceHashKV(_c: string, revision: number): Promise<SourceHash> {
  try {
    const out = JSON.parse(
      await cluster.etcdctl(['endpoint', 'hashkv', '--rev', String(revision), '-w', 'json']),
    ) as Array<{
      HashKV: { hash: number; compact_revision: number };
    }>;
    return { ok: true, hash: out[0]!.HashKV.hash >>> 0, compactRevision: Number(out[0]!.HashKV.compact_revision) };
  } catch (err) {
    return { ok: false, reason: `the source cluster cannot hash revision ${revision}: ${(err as Error).message}` };
  }
}

function tester(scratchRoot: string, overrides: Partial<ConstructorParameters<typeof RestoreTester>[0]> = {}) {
  return new RestoreTester({
    records,
    audit: new AuditLog(sqliteStore(db)),
    tools: (line) => finder.tools(line),
    scratchRoot,
    file: (s) => path.join(cluster.dir, s.fileName),
    clusterVersion: () => version,
    sourceHashKV,
    timeBudgetMs: 60_000,
    ...overrides,
  });
}

describe('restore tests against real etcd', () => {
  it('a good snapshot restores with its own version and matches: revision, live keys, HashKV', async () => {
    const s = await record(good);
    const scratch = path.join(tmp, 'scratch-good');
    const t = await tester(scratch).runOne('rt', s.id);
    expect(t, JSON.stringify(t)).toMatchObject({
      state: 'passed',
      etcdVersion: version,
      revision: s.revision,
      totalKeys: 250,
      hashKvEqual: true,
      reason: null,
    });
    expect(t?.durationMs).toBeGreaterThan(0);
    expect((await records.get('rt', s.id))?.restoreTest).toEqual(t);
    expect(readdirSync(scratch)).toEqual([]);
  });

  /** `good` with `damage` applied to its database part, and a SHA-256 trailer that matches the damaged bytes. */
  function damagedCopy(name: string, damage: (db: Buffer) => void): string {
    const bytes = Buffer.from(readFileSync(good));
    const db = bytes.subarray(0, bytes.length - 32);
    damage(db);
    const file = path.join(cluster.dir, name);
    writeFileSync(file, Buffer.concat([db, createHash('sha256').update(db).digest()]));
    return file;
  }
  /**
   * Where a key's name sits in the file: in a leaf page of the key bucket, and in older copies of that page bbolt has
   * freed (copy on write); every one is damaged, so the live one is.
   */
  const keyOffsets = (db: Buffer) => {
    const name = Buffer.from('/registry/configmaps/ns/cm-42');
    const found: number[] = [];
    for (let at = db.indexOf(name); at >= 0; at = db.indexOf(name, at + 1)) found.push(at);
    expect(found.length).toBeGreaterThan(0);
    return found;
  };

  it('a flipped byte inside a key (the sizes and the trailer right): the restore test fails on HashKV, nothing left behind', async () => {
    const file = damagedCopy('flipped.db', (db) => {
      for (const at of keyOffsets(db)) db[at + '/registry/configmaps/ns/cm-4'.length] = 'X'.charCodeAt(0);
    });
    const s = await record(file);
    const scratch = path.join(tmp, 'scratch-flipped');
    const t = await tester(scratch).runOne('rt', s.id);
    expect(t, JSON.stringify(t)).toMatchObject({ state: 'failed', hashKvEqual: false });
    expect(t?.reason).toMatch(/^HashKV at revision \d+ differs: restored \d+, source cluster \d+$/);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('a page header broken by hand (the trailer right): verification or the restore test fails with the reason', async () => {
    const file = damagedCopy('broken-page.db', (db) => {
      // A bbolt page header: id (8 bytes), flags (2), count (2), overflow (4). No page has these flags.
      for (const at of keyOffsets(db)) db.writeUInt16LE(0xffff, Math.floor(at / 4096) * 4096 + 8);
    });
    let s: StoredSnapshot;
    try {
      s = await record(file);
    } catch (err) {
      // The dashboard's own walk of the file refuses it before any restore.
      expect((err as Error).message).toMatch(/page/i);
      return;
    }
    const scratch = path.join(tmp, 'scratch-broken');
    const t = await tester(scratch).runOne('rt', s.id);
    expect(t?.state, JSON.stringify(t)).toBe('failed');
    expect(t?.reason).toBeTruthy();
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('the file swapped for a link to a key file after it was verified: not restored, failed saying so', async () => {
    const file = path.join(cluster.dir, 'linked.db');
    copyFileSync(good, file);
    const s = await record(file);
    const key = path.join(tmp, 'client.key');
    writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nnot a snapshot\n-----END PRIVATE KEY-----\n');
    rmSync(file);
    symlinkSync(key, file);
    const scratch = path.join(tmp, 'scratch-linked');
    const t = await tester(scratch).runOne('rt', s.id);
    expect(t, JSON.stringify(t)).toMatchObject({
      state: 'failed',
      revision: null,
      reason: `the file of snapshot ${s.id} is a symbolic link; it is not restore-tested`,
    });
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('a byte of the file changed after it was verified: not restored, failed on the SHA-256', async () => {
    const file = path.join(cluster.dir, 'changed.db');
    copyFileSync(good, file);
    const s = await record(file);
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(4096 + 20) ^ 0xff, 4096 + 20);
    writeFileSync(file, bytes);
    const scratch = path.join(tmp, 'scratch-changed');
    const t = await tester(scratch).runOne('rt', s.id);
    expect(t?.state, JSON.stringify(t)).toBe('failed');
    expect(t?.reason).toMatch(
      new RegExp(
        `^the file of snapshot ${s.id} changed since it was verified \\(the file no longer verifies: .*\\); it is not restore-tested$`,
      ),
    );
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('the off-site copy read back from a real S3-protocol server and restore-tested', async () => {
    const s3Dir = mkdtempSync(path.join(os.tmpdir(), 'restore-test-s3-'));
    const server = new S3rver({ silent: true, directory: s3Dir, configureBuckets: [{ name: 'backups', configs: [] }] });
    await server.configureBuckets();
    const front = http.createServer(server.callback());
    await new Promise<void>((resolve) => front.listen(25669, '127.0.0.1', () => resolve()));
    try {
      const target: S3Target = {
        endpoint: 'http://127.0.0.1:25669',
        region: 'us-east-1',
        bucket: 'backups',
        prefix: 'rt/',
        accessKeyId: 'S3RVER',
        secretAccessKey: 'restore-test-secret',
        forcePathStyle: true,
      };
      const copy = await copySnapshotToS3(good, 'good.db', target);
      if (!copy.ok) throw new Error(copy.reason);
      const s = await record(good);
      records.setLocations(s, [...s.locations, { kind: 's3', where: copy.location }]);
      const scratch = path.join(tmp, 'scratch-s3');
      const t = await tester(scratch, { offsite: () => target }).runOne('rt', s.id, 's3');
      expect(t, JSON.stringify(t)).toMatchObject({
        state: 'passed',
        source: 's3',
        hashKvEqual: true,
        revision: s.revision,
      });
      expect(readdirSync(scratch)).toEqual([]);
      // A copy that is not there: failed, naming the location.
      records.setLocations(s, [...s.locations, { kind: 's3', where: 's3://backups/rt/missing.db' }]);
      const missing = await tester(scratch, { offsite: () => target }).runOne('rt', s.id, 's3');
      expect(missing?.state).toBe('failed');
      expect(missing?.reason).toContain('s3://backups/rt/missing.db');
    } finally {
      await new Promise<void>((resolve) => front.close(() => resolve()));
      rmSync(s3Dir, { recursive: true, force: true });
    }
  });

  it('no etcd binary of the cluster’s version: skipped, saying so, not tested with another version', async () => {
    const s = await record(good);
    const t = await tester(path.join(tmp, 'scratch-none'), { clusterVersion: () => '3.9.2' }).runOne('rt', s.id);
    expect(t).toMatchObject({
      state: 'skipped',
      reason: 'not restore-tested: no etcd 3.9 binary here',
      etcdVersion: null,
    });
  });

  it('the source compacted past the revision: passed on what can be checked, HashKV not compared, saying why', async () => {
    const s = await record(good);
    await cluster.write([{ put: '/after/snapshot', value: 'x' }]);
    await cluster.etcdctl(['compact', String(await cluster.revision())]);
    const t = await tester(path.join(tmp, 'scratch-compacted')).runOne('rt', s.id);
    expect(t).toMatchObject({ state: 'passed', hashKvEqual: null });
    expect(t?.reason).toMatch(/compacted/);
  });

  it('a test a stopped dashboard left running: at start its member is stopped, the folder removed, the test interrupted', async () => {
    const s = await record(good);
    const scratch = path.join(tmp, 'scratch-left');
    const left = path.join(scratch, `${s.id}-x1y2z3`);
    mkdirSync(left, { recursive: true, mode: 0o700 });
    const tools = finder.tools(etcdLineOf(version)!)!;
    const { restoreInto } = await import('@/lib/etcd/scratch-member');
    await restoreInto(tools, good, left, 30_000);
    const member = await startScratchMember(tools, left, 30_000);
    records.setRestoreTest(s, {
      state: 'running',
      testedAt: new Date().toISOString(),
      etcdVersion: version,
      revision: null,
      totalKeys: null,
      hashKvEqual: null,
      durationMs: null,
      reason: null,
    });
    await records.flush();
    expect(isScratchMember(member.pid, left)).toBe(true);

    const result = await tester(scratch).reconcile();
    expect(result.foldersRemoved).toBe(1);
    expect(result.interrupted).toBeGreaterThanOrEqual(1);
    expect(isScratchMember(member.pid, left)).toBe(false);
    expect(existsSync(left)).toBe(false);
    expect((await records.get('rt', s.id))?.restoreTest).toMatchObject({
      state: 'interrupted',
      reason: 'the dashboard stopped during the restore test',
    });
  });
});
