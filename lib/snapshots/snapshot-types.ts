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
