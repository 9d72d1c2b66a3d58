// tools/bbolt-edit against a real 1-member etcd: a value rewritten in the stopped member's bbolt file is what etcd
// serves after a restart, and HashKV changes while the revision does not (what a consistency check must notice).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bboltEditPath, ensureBboltEdit, rewriteValue } from './bbolt-edit';
import { etcdCacheDir, selectedEtcdLine } from './etcd-versions';
import { LocalCluster } from './local-cluster';

const LINE = selectedEtcdLine();
const KEY = 'diverge/k';
let dir: string;
let cluster: LocalCluster;
let dbFile: string;

/** Runs the cluster's own etcdctl; resolves with stdout, rejects with stderr. */
function etcdctl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cluster.binaries.etcdctl,
      args,
      { env: { ...process.env, ...cluster.etcdctlEnv }, encoding: 'utf8' },
      (err, stdout, stderr) =>
        err ? reject(new Error(`etcdctl ${args.join(' ')}: ${stderr.trim()}`)) : resolve(stdout),
    );
  });
}

interface HashKV {
  hash: number;
  revision: number;
}

async function hashKV(): Promise<HashKV> {
  const out = JSON.parse(await etcdctl(['endpoint', 'hashkv', '-w', 'json'])) as [
    { HashKV: { hash: number; header: { revision: number } } },
  ];
  return { hash: out[0].HashKV.hash, revision: out[0].HashKV.header.revision };
}

async function restart(): Promise<void> {
  cluster.startMember(0);
  await cluster.waitHealthy(30_000);
}

beforeAll(async () => {
  // A first build on a machine takes a while; later runs find it in the cache.
  ensureBboltEdit();
  dir = mkdtempSync(path.join(os.tmpdir(), 'bbolt-edit-test-'));
  cluster = LocalCluster.create({ dir: path.join(dir, 'c'), members: 1, basePort: 25590, name: 'be', etcd: LINE });
  dbFile = path.join(cluster.member(0).dataDir, 'member', 'snap', 'db');
  await cluster.start();
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`bbolt-edit on etcd ${LINE}`, () => {
  it('builds into the etcd cache root, keyed on its sources', () => {
    const tool = ensureBboltEdit();
    expect(tool).toBe(bboltEditPath());
    expect(existsSync(tool)).toBe(true);
    expect(path.relative(path.dirname(etcdCacheDir()), tool)).toMatch(/^bbolt-edit\/[0-9a-f]{16}\/bbolt-edit$/);
  });

  it('refuses a running member: etcd holds the file lock', async () => {
    await etcdctl(['put', KEY, 'v0']);
    await expect(rewriteValue(dbFile, KEY, 'evil')).rejects.toThrow(/lock is held \(is the etcd member still running/);
  });

  it("rewrites the newest revision's value: etcd serves it after a restart, and HashKV differs", async () => {
    await etcdctl(['put', KEY, 'v1']);
    await etcdctl(['put', KEY, 'v2']);
    expect((await etcdctl(['get', KEY, '--print-value-only'])).trim()).toBe('v2');
    const kv = JSON.parse(await etcdctl(['get', KEY, '-w', 'json'])) as {
      kvs: [{ create_revision: number; mod_revision: number; version: number }];
    };
    const { create_revision: created, mod_revision: modified, version } = kv.kvs[0];
    const before = await hashKV();

    await cluster.stopMember(0);
    const line = await rewriteValue(dbFile, KEY, 'evil');
    expect(line).toContain(`changed key "${KEY}" at revision ${modified} (sub 0)`);
    expect(line).toContain(
      `value 2 -> 4 bytes (create_revision ${created}, mod_revision ${modified}, version ${version}`,
    );
    await restart();

    expect((await etcdctl(['get', KEY, '--print-value-only'])).trim()).toBe('evil');
    // Only the value changed: the key's revisions and version are what etcd wrote.
    const after = JSON.parse(await etcdctl(['get', KEY, '-w', 'json'])) as typeof kv;
    expect(after.kvs[0]).toMatchObject({ create_revision: created, mod_revision: modified, version });
    // The older revisions are untouched.
    expect((await etcdctl(['get', KEY, '--rev', String(modified - 1), '--print-value-only'])).trim()).toBe('v1');
    const hashAfter = await hashKV();
    expect(hashAfter.revision).toBe(before.revision);
    expect(hashAfter.hash).not.toBe(before.hash);
  });

  it('says clearly when the key or the file is not there, and changes nothing', async () => {
    const before = await hashKV();
    await cluster.stopMember(0);
    try {
      await expect(rewriteValue(dbFile, 'diverge/missing', 'x')).rejects.toThrow(
        /key "diverge\/missing" not found in the "key" bucket/,
      );
      const nowhere = path.join(dir, 'no-such', 'db');
      await expect(rewriteValue(nowhere, KEY, 'x')).rejects.toThrow(/cannot open .*no-such\/db: .*no such file/);
      expect(existsSync(nowhere)).toBe(false);
    } finally {
      await restart();
    }
    expect(await hashKV()).toEqual(before);
  });

  it('refuses a deleted key: its newest entry is a tombstone', async () => {
    await etcdctl(['put', 'diverge/gone', 'x']);
    await etcdctl(['del', 'diverge/gone']);
    await cluster.stopMember(0);
    try {
      await expect(rewriteValue(dbFile, 'diverge/gone', 'y')).rejects.toThrow(
        /key "diverge\/gone" not found: it was deleted at revision \d+ \(sub 0\) \(a tombstone\)/,
      );
    } finally {
      await restart();
    }
  });
});
