// A verified snapshot's file, opened only when it is still the file the dashboard wrote: for a download and for a
// restore test alike. Someone able to write the snapshot folder may have put a link to a key file, a FIFO or a hard
// link to a file elsewhere in its place.
import 'server-only';
import { closeSync, constants, fstatSync, openSync, realpathSync, type Stats } from 'node:fs';
import path from 'node:path';

/**
 * Why a directory entry is not a snapshot file the dashboard may read, serve or adopt, or null when it is one: a
 * symbolic link (to a key file, say), anything but a regular file (a FIFO would hang the read), or a file with other
 * hard links (another name for a file outside the folder).
 */
export function untrusted(st: Stats): string | null {
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (!st.isFile()) return 'is not a regular file';
  if (st.nlink !== 1) return `has ${st.nlink} hard links, where a file the dashboard wrote has one`;
  return null;
}

/** True when `file` (links resolved) sits directly in `folder`. */
export function insideFolder(folder: string, file: string): boolean {
  try {
    return path.dirname(realpathSync(file)) === realpathSync(folder);
  } catch {
    return false;
  }
}

export type OpenedSnapshotFile =
  { ok: true; fd: number; st: Stats } | { ok: false; gone: true } | { ok: false; gone: false; why: string };

/**
 * Opens `file` without following a symbolic link (and without waiting on a FIFO) and checks it is a regular file with
 * one link, directly in `folder`, of the verified size and with a verified SHA-256. The caller closes the fd.
 */
export function openSnapshotFile(
  file: string,
  folder: string,
  verified: { sizeBytes: number | null; sha256: string | null },
): OpenedSnapshotFile {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return { ok: false, gone: false, why: 'is a symbolic link' };
    return { ok: false, gone: true };
  }
  const st = fstatSync(fd);
  const why =
    untrusted(st) ??
    (insideFolder(folder, file) ? null : 'is not inside the snapshot folder') ??
    (st.size === verified.sizeBytes ? null : `is ${st.size} bytes, not the ${verified.sizeBytes} that were verified`) ??
    (verified.sha256 ? null : 'has no verified SHA-256');
  if (why) {
    closeSync(fd);
    return { ok: false, gone: false, why };
  }
  return { ok: true, fd, st };
}
