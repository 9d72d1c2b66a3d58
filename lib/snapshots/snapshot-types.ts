// The snapshot records the API returns and the pages show; shared with the browser.

export type SnapshotStatus = 'running' | 'succeeded' | 'failed';
export type SnapshotTrigger = 'manual' | 'schedule';

export interface SnapshotLocation {
  kind: 'local' | 's3';
  /** A path on the dashboard's host, or s3://bucket/prefix/key. */
  where: string;
}

export interface SnapshotProgressView {
  receivedBytes: number;
  expectedBytes: number | null;
  bytesPerSecond: number | null;
  secondsLeft: number | null;
  /** What the snapshot is doing now: streaming, verifying, copying off-site. */
  phase: 'streaming' | 'verifying' | 'copying';
}

export interface SnapshotRecord {
  id: string;
  status: SnapshotStatus;
  startedAt: string;
  finishedAt: string | null;
  memberId: string | null;
  memberName: string | null;
  trigger: SnapshotTrigger;
  triggeredBy: string;
  sizeBytes: number | null;
  revision: number | null;
  totalKeys: number | null;
  /** As etcdctl snapshot status prints it: the CRC-32C in hex (Go's %x, usually 8 digits). */
  hash: string | null;
  /** SHA-256 of the database part, as the trailer etcd appends says. */
  sha256: string | null;
  verified: boolean;
  locations: SnapshotLocation[];
  error: string | null;
  /** The file was removed outside the dashboard. */
  missing: boolean;
  /** Retention removed the file; the record stays as history. */
  deletedAt: string | null;
  progress: SnapshotProgressView | null;
  /** The last restore test of this snapshot; null when none was tried. */
  restoreTest: RestoreTest | null;
}

export type RestoreTestState = 'queued' | 'running' | 'passed' | 'failed' | 'skipped' | 'interrupted';

/**
 * A snapshot restored into a throwaway etcd of the cluster's own version and compared with what was expected: its
 * revision, its live key count, and HashKV at that revision against the source cluster's.
 */
export interface RestoreTest {
  state: RestoreTestState;
  /** ISO time the test started. */
  testedAt: string;
  /** The etcd release that restored and served it; null when none was found (skipped). */
  etcdVersion: string | null;
  /** The restored member's revision; null until read. */
  revision: number | null;
  /** The restored member's live keys; null until read. */
  totalKeys: number | null;
  /** HashKV at the snapshot's revision equals the source cluster's; null when it could not be compared (reason says why). */
  hashKvEqual: boolean | null;
  durationMs: number | null;
  /** Why it failed, was skipped or interrupted, or what could not be compared; null when everything matched. */
  reason: string | null;
  /** Where the restored file came from: the local file, or the off-site copy read back. */
  source?: 'local' | 's3';
}

export interface KeyspacePrefix {
  prefix: string;
  liveKeys: number;
  bytes: number;
  revisions: number;
}

export interface SnapshotDetail extends SnapshotRecord {
  keyspace: KeyspacePrefix[] | null;
}

export const SNAPSHOT_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;
