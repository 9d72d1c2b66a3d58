// Snapshot records in the dashboard database: one row per attempt, updated as it runs, kept as history.
import 'server-only';
import type Database from 'better-sqlite3';
import type {
  KeyspacePrefix,
  RestoreTest,
  SnapshotLocation,
  SnapshotRecord,
  SnapshotStatus,
  SnapshotTrigger,
} from './snapshot-types';

interface Row {
  id: string;
  cluster_id: string;
  status: SnapshotStatus;
  started_at: number;
  finished_at: number | null;
  member_id: string | null;
  member_name: string | null;
  trigger: SnapshotTrigger;
  triggered_by: string;
  file_name: string;
  size_bytes: number | null;
  revision: number | null;
  total_keys: number | null;
  hash: number | null;
  sha256: string | null;
  verified: number;
  missing: number;
  deleted_at: number | null;
  locations: string;
  keyspace: string | null;
  error: string | null;
  restore_test: string | null;
}

export interface StoredSnapshot extends Omit<SnapshotRecord, 'progress'> {
  clusterId: string;
  fileName: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toRecord(r: Row): StoredSnapshot {
  return {
    id: r.id,
    clusterId: r.cluster_id,
    status: r.status,
    startedAt: new Date(r.started_at).toISOString(),
    finishedAt: iso(r.finished_at),
    memberId: r.member_id,
    memberName: r.member_name,
    trigger: r.trigger,
    triggeredBy: r.triggered_by,
    fileName: r.file_name,
    sizeBytes: r.size_bytes,
    revision: r.revision,
    totalKeys: r.total_keys,
    // As etcdctl's table prints it (Go's %x: no leading zeros).
    hash: r.hash === null ? null : (r.hash >>> 0).toString(16),
    sha256: r.sha256,
    verified: r.verified === 1,
    locations: JSON.parse(r.locations) as SnapshotLocation[],
    error: r.error,
    missing: r.missing === 1,
    deletedAt: iso(r.deleted_at),
    restoreTest: r.restore_test === null ? null : (JSON.parse(r.restore_test) as RestoreTest),
  };
}

export interface NewSnapshot {
  id: string;
  clusterId: string;
  startedAt: number;
  memberId: string | null;
  memberName: string | null;
  trigger: SnapshotTrigger;
  triggeredBy: string;
  fileName: string;
}

export interface VerifiedResult {
  finishedAt: number;
  sizeBytes: number;
  revision: number;
  totalKeys: number;
  hash: number;
  sha256: string;
  keyspace: KeyspacePrefix[];
  locations: SnapshotLocation[];
}

export class SnapshotStore {
  constructor(private readonly db: Database.Database) {}

  insert(s: NewSnapshot): void {
    this.db
      .prepare(
        `INSERT INTO snapshots (id, cluster_id, status, started_at, member_id, member_name, trigger, triggered_by, file_name)
         VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)`,
      )
      .run(s.id, s.clusterId, s.startedAt, s.memberId, s.memberName, s.trigger, s.triggeredBy, s.fileName);
  }

  /** Insert a record for a verified file found on disk (adoption at start). */
  insertVerified(s: NewSnapshot, v: VerifiedResult): void {
    this.db.transaction(() => {
      this.insert(s);
      this.succeed(s.id, v);
    })();
  }

  succeed(id: string, v: VerifiedResult): void {
    this.db
      .prepare(
        `UPDATE snapshots SET status = 'succeeded', finished_at = ?, size_bytes = ?, revision = ?, total_keys = ?,
           hash = ?, sha256 = ?, verified = 1, keyspace = ?, locations = ?, error = NULL WHERE id = ?`,
      )
      .run(
        v.finishedAt,
        v.sizeBytes,
        v.revision,
        v.totalKeys,
        v.hash,
        v.sha256,
        JSON.stringify(v.keyspace),
        JSON.stringify(v.locations),
        id,
      );
  }

  setRestoreTest(id: string, test: RestoreTest): void {
    this.db.prepare('UPDATE snapshots SET restore_test = ? WHERE id = ?').run(JSON.stringify(test), id);
  }

  /** Restore tests left running by a dashboard that stopped: marked interrupted; returns how many. */
  interruptRestoreTests(): number {
    return this.db
      .prepare(
        `UPDATE snapshots SET restore_test = json_set(restore_test, '$.state', 'interrupted',
           '$.reason', 'the dashboard stopped during the restore test')
         WHERE restore_test IS NOT NULL AND json_extract(restore_test, '$.state') IN ('running', 'queued')`,
      )
      .run().changes;
  }

  fail(id: string, error: string, finishedAt: number, sizeBytes: number | null = null): void {
    this.db
      .prepare(
        `UPDATE snapshots SET status = 'failed', finished_at = ?, error = ?, size_bytes = ?, verified = 0 WHERE id = ?`,
      )
      .run(finishedAt, error.slice(0, 1000), sizeBytes, id);
  }

  setLocations(id: string, locations: SnapshotLocation[]): void {
    this.db.prepare('UPDATE snapshots SET locations = ? WHERE id = ?').run(JSON.stringify(locations), id);
  }

  /** A warning about the off-site copy on a snapshot that is itself good. */
  noteError(id: string, error: string | null): void {
    this.db.prepare('UPDATE snapshots SET error = ? WHERE id = ?').run(error?.slice(0, 1000) ?? null, id);
  }

  markMissing(id: string): void {
    this.db.prepare('UPDATE snapshots SET missing = 1 WHERE id = ?').run(id);
  }

  markDeleted(id: string, at: number): void {
    this.db.prepare(`UPDATE snapshots SET deleted_at = ?, locations = '[]' WHERE id = ?`).run(at, id);
  }

  get(clusterId: string, id: string): StoredSnapshot | null {
    const row = this.db.prepare('SELECT * FROM snapshots WHERE cluster_id = ? AND id = ?').get(clusterId, id) as
      Row | undefined;
    return row ? toRecord(row) : null;
  }

  keyspace(clusterId: string, id: string): KeyspacePrefix[] | null {
    const row = this.db.prepare('SELECT keyspace FROM snapshots WHERE cluster_id = ? AND id = ?').get(clusterId, id) as
      { keyspace: string | null } | undefined;
    return row?.keyspace ? (JSON.parse(row.keyspace) as KeyspacePrefix[]) : null;
  }

  /** Newest first. */
  list(clusterId: string, limit = 500): StoredSnapshot[] {
    return (
      this.db
        .prepare('SELECT * FROM snapshots WHERE cluster_id = ? ORDER BY started_at DESC, id DESC LIMIT ?')
        .all(clusterId, limit) as Row[]
    ).map(toRecord);
  }

  /** Every record still claiming a file, across clusters: for reconciliation at start. */
  withFiles(): StoredSnapshot[] {
    return (
      this.db
        .prepare(`SELECT * FROM snapshots WHERE deleted_at IS NULL AND missing = 0 AND status != 'failed'`)
        .all() as Row[]
    ).map(toRecord);
  }

  /** Read on every status request, alert evaluation and /metrics scrape: prepared once. */
  private latestVerifiedQuery: Database.Statement | null = null;

  /**
   * The answer by cluster, kept while the database is unchanged: total_changes() moves with every write on this
   * connection, data_version with every commit from another one (a second process on the same DATA_DIR is not
   * expected, but not trusted away). Cheaper than the query it saves, which every status request would make.
   */
  private readonly latest = new Map<string, StoredSnapshot | null>();
  private changesQuery: Database.Statement | null = null;
  private latestAt: string | null = null;

  latestVerified(clusterId: string): StoredSnapshot | null {
    this.latestVerifiedQuery ??= this.db.prepare(
      `SELECT * FROM snapshots WHERE cluster_id = ? AND verified = 1 AND missing = 0 AND deleted_at IS NULL
       ORDER BY started_at DESC LIMIT 1`,
    );
    return this.cached(`verified:${clusterId}`, this.latestVerifiedQuery, clusterId);
  }

  private latestRestoreTestedQuery: Database.Statement | null = null;

  /** The newest snapshot whose restore test passed, or null; cached like latestVerified (read on every status). */
  latestRestoreTested(clusterId: string): StoredSnapshot | null {
    this.latestRestoreTestedQuery ??= this.db.prepare(
      `SELECT * FROM snapshots WHERE cluster_id = ? AND restore_test IS NOT NULL
         AND json_extract(restore_test, '$.state') = 'passed' ORDER BY started_at DESC LIMIT 1`,
    );
    return this.cached(`restore-tested:${clusterId}`, this.latestRestoreTestedQuery, clusterId);
  }

  /** One row by `query`, kept until the database changes. */
  private cached(key: string, query: Database.Statement, clusterId: string): StoredSnapshot | null {
    this.changesQuery ??= this.db
      .prepare("SELECT total_changes() || ':' || data_version FROM pragma_data_version")
      .pluck();
    const changes = this.changesQuery.get() as string;
    if (changes !== this.latestAt) {
      this.latest.clear();
      this.latestAt = changes;
    }
    const known = this.latest.get(key);
    if (known !== undefined) return known;
    const row = query.get(clusterId) as Row | undefined;
    const found = row ? toRecord(row) : null;
    this.latest.set(key, found);
    return found;
  }
}
