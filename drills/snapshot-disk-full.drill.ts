// The disk filling during a snapshot.
//
// The filesystem: SNAPSHOT_DIR is a real tmpfs mounted for this drill (`mount -t tmpfs -o size=8m`), which this
// container permits when run as root. Without that permission (no root, no CAP_SYS_ADMIN) the drill is skipped with
// the reason: filling a real disk instead would fill the machine's own disk, and RLIMIT_FSIZE (prlimit, ulimit -f)
// is not the same failure (EFBIG and SIGXFSZ, not ENOSPC).
//
// Why the disk is filled by a second writer: the dashboard checks free space before it starts (the DB size plus a
// 64 MiB margin) and refuses with 507 when it is short, so a snapshot bigger than the filesystem never starts; the
// drill checks that first, on the 8 MiB tmpfs. To fill the disk *during* a snapshot, as another process's logs or a
// second backup would, the tmpfs is then grown so the snapshot is allowed, and once the stream is writing, a filler
// file takes every free byte. The member serving the stream is frozen (SIGSTOP) for the moment of the fill, so the
// fill lands mid-stream however fast this machine is, and thawed straight after.
//
// Expected: the snapshot fails with the reason, no partial file is left, the dashboard keeps running and fresh, and
// once space is back the next snapshot succeeds.
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { waitForStatus } from '../e2e/support/status-api';
import { CLUSTER_ID, drillRoot, drillStack } from './support/drill-stack';
import { expectApiStaysFresh, expectPageStaysFresh, quorumIs } from './support/freshness';
import {
  fillEtcdAndWait,
  MIB,
  leftovers,
  listSnapshots,
  takeSnapshot,
  waitFinished,
  waitForPartFile,
} from './support/snapshots';

const snapshotFs = path.join(drillRoot('snapshot-disk-full'), 'snapshot-fs');
let mountRefused: string | null = null;

const drill = drillStack('snapshot-disk-full', {
  env: { SNAPSHOT_DIR: snapshotFs },
  beforeDashboard: () => {
    mkdirSync(snapshotFs, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', snapshotFs], { stdio: 'pipe' });
    } catch (err) {
      mountRefused = `mount -t tmpfs was refused here (${String((err as { stderr?: Buffer }).stderr ?? err).trim()})`;
    }
  },
});

/** Writes into `file` until the filesystem says ENOSPC; returns the bytes written. */
function fillUp(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (const size of [MIB, 64 * 1024, 4096, 512]) {
      const block = Buffer.alloc(size, 0xa5);
      for (;;) {
        try {
          written += writeSync(fd, block);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

test('the disk fills mid-snapshot: the snapshot fails with the reason, no partial file, the dashboard carries on', async ({
  page,
}) => {
  test.skip(mountRefused !== null, mountRefused ?? '');
  test.setTimeout(180_000);
  const stack = drill();
  const dir = path.join(snapshotFs, CLUSTER_ID);
  const operator = await stack.operatorApi();

  const { status, dbSize } = await fillEtcdAndWait(stack, 30);

  // 1. Bigger than the filesystem: refused before a byte is written, with the reason.
  const refused = await operator.post(`/api/clusters/${CLUSTER_ID}/snapshots`);
  const body = (await refused.json()) as { error: { code: string; message: string } };
  expect(refused.status(), JSON.stringify(body)).toBe(507);
  expect(body.error.code).toBe('insufficient_storage');
  expect(body.error.message).toContain(`not enough space in ${dir}`);
  expect(await listSnapshots(stack.api)).toEqual([]);
  expect(readdirSync(dir)).toEqual([]);

  // 2. Room enough to start, then the disk fills while the stream is being written.
  const size = Math.ceil((dbSize + 64 * MIB + 16 * MIB) / MIB);
  execFileSync('mount', ['-o', `remount,size=${size}m`, snapshotFs], { stdio: 'pipe' });
  const filler = path.join(snapshotFs, 'filler');
  const started = await takeSnapshot(operator);
  const source = stack.memberIndex(started.memberName!);
  const writtenBeforeFill = await waitForPartFile(dir, started.id);
  await stack.freeze(source);
  try {
    // fillUp returns only once the filesystem has said ENOSPC.
    expect(fillUp(filler)).toBeGreaterThan(0);
  } finally {
    await stack.thaw(source);
  }
  const failed = await waitFinished(stack.api, started.id);
  expect(failed.status).toBe('failed');
  expect(failed.verified).toBe(false);
  // An operator reads where it happened; an anonymous viewer (the wall) the same reason without the host's path.
  expect(failed.error).toBe(`disk full while writing $SNAPSHOT_DIR/${CLUSTER_ID}/${started.id}.db.part`);
  const asOperator = await waitFinished(operator, started.id);
  expect(asOperator.error).toBe(`disk full while writing ${path.join(dir, `${started.id}.db`)}.part`);
  expect(writtenBeforeFill).toBeLessThan(dbSize);
  expect(leftovers(dir, started.id), 'no partial or final file of the failed snapshot').toEqual([]);

  // The dashboard is still up and polling; the page is live and lists the failure with its reason.
  expect(stack.dashboardAlive()).toBe(true);
  await waitForStatus(stack.api, (s) => s.quorum.state === 'healthy', 30_000, CLUSTER_ID);
  await expectApiStaysFresh(stack.api, (s) => quorumIs(s.quorum.state, 'healthy'), 3);
  await page.goto(`${stack.url}/`);
  await expectPageStaysFresh(page, Object.fromEntries(status.members.map((m) => [m.name, 'healthy'] as const)), 3, 2);
  await page.goto(`${stack.url}/snapshots`);
  const row = page.getByTestId('snapshot-row').first();
  await expect(row).toHaveAttribute('data-status', 'failed');
  await expect(row).toContainText('disk full while writing');

  // 3. Space back: the next snapshot succeeds and is verified.
  rmSync(filler);
  const retry = await takeSnapshot(operator);
  const done = await waitFinished(stack.api, retry.id);
  expect(done.status, done.error ?? '').toBe('succeeded');
  expect(done.verified).toBe(true);
  const file = path.join(dir, `${retry.id}.db`);
  expect(existsSync(file)).toBe(true);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readdirSync(dir)).toEqual([`${retry.id}.db`]);
});
