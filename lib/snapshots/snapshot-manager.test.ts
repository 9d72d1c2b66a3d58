import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { classifyError, failureDetails } from '@/lib/api/api-error';
import { AuditLog } from '@/lib/auth/audit-log';
import { sqliteStore } from '@/lib/db/sqlite-store';
import type { DashboardConfig } from '@/lib/config/load-config';
import { openDatabase } from '@/lib/db/database';
import { SnapshotManager, type SnapshotActor } from './snapshot-manager';
import { SnapshotStore } from './snapshot-store';

// A real etcdctl 3.4.23 snapshot: 24 576 database bytes and the SHA-256 trailer.
const FIXTURE = path.join(__dirname, 'fixtures', 'etcd-3.4.23-small.db');
const FIXTURE_BYTES = readFileSync(FIXTURE);
/** What an attacker who can write the snapshot folder would like the dashboard to serve. */
const KEY_TEXT = '-----BEGIN PRIVATE KEY-----\nthe etcd client key, never to be served\n-----END PRIVATE KEY-----\n';

const OLD = '20260101T000000Z-aaaaaa';
const NEW = '20260102T000000Z-bbbbbb';
const OPERATOR: SnapshotActor = { actor: 'otto', role: 'operator', method: 'session', source: '10.0.0.7' };

let tmp: string;
let dir: string;
let outside: string;
let keyFile: string;
let db: Database.Database;
let audit: AuditLog;
let manager: SnapshotManager;
let logged: string[];

beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'snapshot-manager-'));
  const snapshotDir = path.join(tmp, 'snapshots');
  dir = path.join(snapshotDir, 'prod');
  outside = path.join(tmp, 'elsewhere');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(outside);
  keyFile = path.join(outside, 'client.key');
  writeFileSync(keyFile, KEY_TEXT);
  db = openDatabase(path.join(tmp, 'dashboard.sqlite'));
  audit = new AuditLog(sqliteStore(db));
  const config = {
    snapshotDir,
    clusters: [{ id: 'prod', snapshots: { schedule: null, retention: { keepLast: 1 }, offsite: null } }],
  } as unknown as DashboardConfig;
  manager = new SnapshotManager({
    config,
    store: new SnapshotStore(sqliteStore(db)),
    audit,
    observe: () => null,
    failureDetails,
  });
  logged = [];
  vi.spyOn(console, 'error').mockImplementation((line: string) => void logged.push(line));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await manager.flushWrites();
  db.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Snapshots as the dashboard would have them: files in the folder, adopted (verified) at start. */
async function adopt(...ids: string[]) {
  for (const id of ids) copyFileSync(FIXTURE, path.join(dir, `${id}.db`));
  expect((await manager.reconcile()).adopted).toBe(ids.length);
}

/** Replaces a snapshot's file with a symbolic link to `target`. */
function swapForLink(id: string, target: string) {
  rmSync(path.join(dir, `${id}.db`));
  symlinkSync(target, path.join(dir, `${id}.db`));
}

async function readAll(body: Readable | null): Promise<{ bytes: Buffer; error: string | null }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body as Readable) chunks.push(chunk as Buffer);
    return { bytes: Buffer.concat(chunks), error: null };
  } catch (err) {
    return { bytes: Buffer.concat(chunks), error: (err as Error).message };
  }
}

/** What the caller of the API is answered for a refusal: the status lib/api maps the domain error to. */
async function refusal(p: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'refused').not.toBeNull();
  const { status, code, message } = classifyError(err);
  return { status, code, message };
}

const rows = async (action: string) =>
  (await audit.query({ action })).map((e) => ({ actor: e.actor, outcome: e.outcome, details: e.details }));

describe('downloads serve only the file the dashboard wrote and verified', () => {
  it('serves a verified snapshot byte for byte; HEAD gives its size without opening a body', async () => {
    await adopt(OLD);
    const got = await manager.downloadable('prod', OLD, OPERATOR);
    expect({ bytes: got.bytes, name: got.name }).toEqual({ bytes: FIXTURE_BYTES.length, name: `prod-${OLD}.db` });
    const read = await readAll(got.body);
    expect(read.error).toBeNull();
    expect(read.bytes.equals(FIXTURE_BYTES)).toBe(true);

    const head = await manager.downloadable('prod', OLD, OPERATOR, { head: true });
    expect(head).toEqual({ bytes: FIXTURE_BYTES.length, name: `prod-${OLD}.db`, body: null });
    expect(await rows('snapshot.download')).toEqual([
      { actor: 'otto', outcome: 'success', details: { snapshotId: OLD } },
    ]);
    expect(await rows('snapshot.head')).toEqual([{ actor: 'otto', outcome: 'success', details: { snapshotId: OLD } }]);
  });

  it.each([
    ['a key file outside the folder', () => keyFile],
    [
      'a valid snapshot outside the folder',
      () => (copyFileSync(FIXTURE, path.join(outside, 'x.db')), path.join(outside, 'x.db')),
    ],
    ['a relative path out of the folder', () => path.relative(dir, keyFile)],
  ])(
    'refuses a symbolic link to %s put in place of the file: 409, audited, logged, nothing read',
    async (_, target) => {
      await adopt(OLD);
      swapForLink(OLD, target());
      for (const head of [false, true]) {
        expect(await refusal(manager.downloadable('prod', OLD, OPERATOR, { head }))).toEqual({
          status: 409,
          code: 'file_changed',
          message: `the file of snapshot ${OLD} is a symbolic link; it is not served`,
        });
      }
      expect([...(await rows('snapshot.download')), ...(await rows('snapshot.head'))]).toEqual(
        [1, 2].map(() => ({
          actor: 'otto',
          outcome: 'failure',
          details: {
            snapshotId: OLD,
            status: 409,
            code: 'file_changed',
            reason: `the file of snapshot ${OLD} is a symbolic link; it is not served`,
          },
        })),
      );
      expect(logged).toContain(`snapshots: refusing to serve ${path.join(dir, `${OLD}.db`)}: it is a symbolic link`);
    },
  );

  it('refuses a hard link to a file outside the folder, which no path check can see', async () => {
    await adopt(OLD);
    rmSync(path.join(dir, `${OLD}.db`));
    copyFileSync(FIXTURE, path.join(outside, 'other.db'));
    linkSync(path.join(outside, 'other.db'), path.join(dir, `${OLD}.db`));
    expect(await refusal(manager.downloadable('prod', OLD, OPERATOR))).toMatchObject({
      status: 409,
      message: `the file of snapshot ${OLD} has 2 hard links, where a file the dashboard wrote has one; it is not served`,
    });
  });

  it('refuses a FIFO put in place of the file, without waiting for a writer', async () => {
    await adopt(OLD);
    rmSync(path.join(dir, `${OLD}.db`));
    execFileSync('mkfifo', [path.join(dir, `${OLD}.db`)]);
    expect(await refusal(manager.downloadable('prod', OLD, OPERATOR))).toMatchObject({
      status: 409,
      message: `the file of snapshot ${OLD} is not a regular file; it is not served`,
    });
  });

  it('refuses a file of another size than the one verified', async () => {
    await adopt(OLD);
    writeFileSync(path.join(dir, `${OLD}.db`), KEY_TEXT);
    expect((await refusal(manager.downloadable('prod', OLD, OPERATOR))).message).toBe(
      `the file of snapshot ${OLD} is ${KEY_TEXT.length} bytes, not the ${FIXTURE_BYTES.length} that were verified; it is not served`,
    );
  });

  it('a file of the same size but other bytes never reaches the reader whole: the trailer is held back, the stream fails', async () => {
    await adopt(OLD);
    const changed = Buffer.from(FIXTURE_BYTES);
    changed.write('changed!', 4096);
    writeFileSync(path.join(dir, `${OLD}.db`), changed);
    const read = await readAll((await manager.downloadable('prod', OLD, OPERATOR)).body);
    expect(read.error).toMatch(/^the file no longer verifies: SHA-256 mismatch/);
    expect(read.bytes.length).toBeLessThanOrEqual(FIXTURE_BYTES.length - 32);
    await vi.waitFor(async () =>
      expect((await rows('snapshot.download')).map((r) => r.outcome)).toEqual(['failure', 'success']),
    );
  });

  it('a file that is gone is a 410, recorded as a failed download', async () => {
    await adopt(OLD);
    rmSync(path.join(dir, `${OLD}.db`));
    expect(await refusal(manager.downloadable('prod', OLD, OPERATOR))).toMatchObject({
      status: 410,
      code: 'file_gone',
    });
    expect(await rows('snapshot.download')).toMatchObject([{ outcome: 'failure', details: { status: 410 } }]);
  });
});

describe('adoption at start takes only regular files of the folder', () => {
  it('does not adopt a symbolic link to a valid snapshot elsewhere, nor rename or follow it', async () => {
    copyFileSync(FIXTURE, path.join(outside, 'x.db'));
    symlinkSync(path.join(outside, 'x.db'), path.join(dir, `${NEW}.db`));
    symlinkSync(path.join(outside, 'x.db'), path.join(dir, 'nightly.db'));
    symlinkSync(keyFile, path.join(dir, 'key.db'));
    expect(await manager.reconcile()).toMatchObject({ adopted: 0 });
    expect(await manager.list('prod')).toEqual([]);
    expect(readlinkSync(path.join(dir, 'nightly.db'))).toBe(path.join(outside, 'x.db'));
    expect(logged).toContain(`snapshots: not adopting ${path.join(dir, 'nightly.db')}: it is a symbolic link`);
    expect(readFileSync(keyFile, 'utf8')).toBe(KEY_TEXT);
  });

  it('does not adopt a hard link or a FIFO (whose read would hang the start), and survives a folder named .part', async () => {
    copyFileSync(FIXTURE, path.join(outside, 'x.db'));
    linkSync(path.join(outside, 'x.db'), path.join(dir, `${NEW}.db`));
    execFileSync('mkfifo', [path.join(dir, 'pipe.db')]);
    mkdirSync(path.join(dir, `${OLD}.db.part`));
    expect(await manager.reconcile()).toMatchObject({ adopted: 0 });
    expect(logged).toContain(`snapshots: not adopting ${path.join(dir, 'pipe.db')}: it is not a regular file`);
    expect(existsSync(path.join(dir, `${OLD}.db.part`))).toBe(true);
  });

  it('marks a known snapshot missing when its file has become a link, so it is neither served nor pruned', async () => {
    await adopt(OLD);
    swapForLink(OLD, keyFile);
    expect(await manager.reconcile()).toMatchObject({ missing: 1 });
    expect((await manager.list('prod'))[0]).toMatchObject({ id: OLD, missing: true });
    expect(logged).toContain(
      `snapshots: ${path.join(dir, `${OLD}.db`)} is a symbolic link: snapshot ${OLD} marked missing`,
    );
  });
});

describe('retention and deletion never reach outside the folder', () => {
  it('removing a snapshot whose file was swapped for a link removes the link, never the file it points at', async () => {
    await adopt(OLD, NEW);
    swapForLink(OLD, keyFile);
    const cluster = { id: 'prod', snapshots: { schedule: null, retention: { keepLast: 1 }, offsite: null } };
    expect(await manager.applyRetention(cluster as unknown as DashboardConfig['clusters'][number])).toEqual([OLD]);
    expect(() => lstatSync(path.join(dir, `${OLD}.db`))).toThrow(/ENOENT/);
    expect(readFileSync(keyFile, 'utf8')).toBe(KEY_TEXT);

    await adopt(OLD.replace('aaaaaa', 'cccccc'));
    swapForLink(OLD.replace('aaaaaa', 'cccccc'), keyFile);
    await manager.remove('prod', OLD.replace('aaaaaa', 'cccccc'), OPERATOR);
    expect(readFileSync(keyFile, 'utf8')).toBe(KEY_TEXT);
  });
});

describe('replicas sharing PostgreSQL keep no snapshot on one host only', () => {
  it('refuses a snapshot of a cluster with no off-site copy, saying why and what to set, and audits the refusal', async () => {
    const shared = new SnapshotManager({
      config: {
        snapshotDir: path.dirname(dir),
        clusters: [{ id: 'prod', snapshots: { schedule: null, retention: { keepLast: 1 }, offsite: null } }],
      } as unknown as DashboardConfig,
      store: new SnapshotStore(sqliteStore(db)),
      audit,
      observe: () => null,
      failureDetails,
      sharedRecords: true,
    });
    const refused = await refusal(shared.take('prod', { by: OPERATOR, trigger: 'manual' }));
    expect(refused.status).toBe(409);
    expect(refused.code).toBe('offsite_required');
    expect(refused.message).toContain('cluster "prod"');
    expect(refused.message).toContain('add snapshots.offsite (S3)');
    expect(await rows('snapshot.take')).toEqual([
      expect.objectContaining({
        actor: 'otto',
        outcome: 'failure',
        details: expect.objectContaining({ code: 'offsite_required', status: 409 }),
      }),
    ]);
    await shared.flushWrites();
  });
});
