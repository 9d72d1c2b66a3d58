// Snapshot records in the dashboard's store (SQLite or PostgreSQL): one row per attempt, updated as it runs, kept as
// history.
import 'server-only';
import { writeFenced, type WriteFence } from '@/lib/replicas/lease-store';
import type { Kysely, Selectable } from 'kysely';
import type { SnapshotsTable, StoreSchema } from '@/lib/db/schema';
import type {
  KeyspacePrefix,
  RestoreTest,
  SnapshotLocation,
  SnapshotStatus,
  SnapshotRecord,
  SnapshotTrigger,
} from './snapshot-types';

type Row = Selectable<SnapshotsTable>;

export interface StoredSnapshot extends Omit<SnapshotRecord, 'progress'> {
  clusterId: string;
  fileName: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Epoch ms as a whole number: an adopted file's mtime has a fraction, which a BIGINT column refuses. */
const ms = (t: number) => Math.trunc(t);

/** Restore tests in these states were under way when their dashboard stopped. */
const UNDER_WAY: ReadonlyArray<RestoreTest['state']> = ['running', 'queued'];

/**
 * A text match for the rows whose restore test may be in `state`: the JSON is written by JSON.stringify (no spaces),
 * so this finds every such row on both engines; the parsed value decides.
 */
const restoreStateLike = (state: RestoreTest['state']) => `%"state":"${state}"%`;

function toRecord(r: Row): StoredSnapshot {
  return {
    id: r.id,
    clusterId: r.cluster_id,
    status: r.status as SnapshotStatus,
    startedAt: new Date(r.started_at).toISOString(),
    finishedAt: iso(r.finished_at),
    memberId: r.member_id,
    memberName: r.member_name,
    trigger: r.trigger as SnapshotTrigger,
    triggeredBy: r.triggered_by,
    fileName: r.file_name,
    sizeBytes: r.size_bytes,
    revision: r.revision,
    totalKeys: r.total_keys,
    hash: hashHex(r.hash),
    sha256: r.sha256,
    verified: r.verified === 1,
    locations: JSON.parse(r.locations) as SnapshotLocation[],
    error: r.error,
    missing: r.missing === 1,
    deletedAt: iso(r.deleted_at),
    restoreTest: r.restore_test === null ? null : (JSON.parse(r.restore_test) as RestoreTest),
  };
}

/** As etcdctl's table prints it (Go's %x: no leading zeros). */
export const hashHex = (hash: number | null) => (hash === null ? null : (hash >>> 0).toString(16));

/** Newest first; ties by id, descending, compared here (PostgreSQL's collation may order ids otherwise). */
const newestFirst = (a: Row, b: Row) => b.started_at - a.started_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

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

const newRow = (s: NewSnapshot) => ({
  id: s.id,
  cluster_id: s.clusterId,
  status: 'running',
  started_at: ms(s.startedAt),
  member_id: s.memberId,
  member_name: s.memberName,
  trigger: s.trigger,
  triggered_by: s.triggeredBy,
  file_name: s.fileName,
});

const verifiedColumns = (v: VerifiedResult) => ({
  status: 'succeeded',
  finished_at: ms(v.finishedAt),
  size_bytes: v.sizeBytes,
  revision: v.revision,
  total_keys: v.totalKeys,
  hash: v.hash >>> 0,
  sha256: v.sha256,
  verified: 1,
  keyspace: JSON.stringify(v.keyspace),
  locations: JSON.stringify(v.locations),
  error: null,
});

export class SnapshotStore {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /**
   * A new record; with `fence`, in one transaction with it (the leader's lease checked, see Leadership.fence), so a
   * replica that no longer leads stores no scheduled snapshot.
   */
  async insert(s: NewSnapshot, fence?: WriteFence): Promise<void> {
    await writeFenced(this.db, fence, (db) => db.insertInto('snapshots').values(newRow(s)).execute());
  }

  /** Insert a record for a verified file found on disk (adoption at start): one statement. */
  async insertVerified(s: NewSnapshot, v: VerifiedResult): Promise<void> {
    await this.db
      .insertInto('snapshots')
      .values({ ...newRow(s), ...verifiedColumns(v) })
      .execute();
  }

  async succeed(id: string, v: VerifiedResult): Promise<void> {
    await this.db.updateTable('snapshots').set(verifiedColumns(v)).where('id', '=', id).execute();
  }

  async setRestoreTest(id: string, test: RestoreTest): Promise<void> {
    await this.db
      .updateTable('snapshots')
      .set({ restore_test: JSON.stringify(test) })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Restore tests left running or queued by a dashboard that stopped: marked interrupted; returns the ids. Each row
   * is changed only while it still holds the test that was read (no transaction: one another writer changed in
   * between is left as it is).
   */
  async interruptRestoreTests(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('snapshots')
      .select(['id', 'restore_test'])
      .where((eb) => eb.or(UNDER_WAY.map((state) => eb('restore_test', 'like', restoreStateLike(state)))))
      .execute();
    const done: string[] = [];
    for (const row of rows) {
      const test = JSON.parse(row.restore_test as string) as RestoreTest;
      if (!UNDER_WAY.includes(test.state)) continue;
      const interrupted: RestoreTest = {
        ...test,
        state: 'interrupted',
        reason: 'the dashboard stopped during the restore test',
      };
      const result = await this.db
        .updateTable('snapshots')
        .set({ restore_test: JSON.stringify(interrupted) })
        .where('id', '=', row.id)
        .where('restore_test', '=', row.restore_test)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) > 0) done.push(row.id);
    }
    return done;
  }

  async fail(id: string, error: string, finishedAt: number, sizeBytes: number | null = null): Promise<void> {
    await this.db
      .updateTable('snapshots')
      .set({
        status: 'failed',
        finished_at: ms(finishedAt),
        error: error.slice(0, 1000),
        size_bytes: sizeBytes,
        verified: 0,
      })
      .where('id', '=', id)
      .execute();
  }

  async setLocations(id: string, locations: SnapshotLocation[]): Promise<void> {
    await this.db
      .updateTable('snapshots')
      .set({ locations: JSON.stringify(locations) })
      .where('id', '=', id)
      .execute();
  }

  /** A warning about the off-site copy on a snapshot that is itself good. */
  async noteError(id: string, error: string | null): Promise<void> {
    await this.db
      .updateTable('snapshots')
      .set({ error: error?.slice(0, 1000) ?? null })
      .where('id', '=', id)
      .execute();
  }

  async markMissing(id: string): Promise<void> {
    await this.db.updateTable('snapshots').set({ missing: 1 }).where('id', '=', id).execute();
  }

  async markDeleted(id: string, at: number): Promise<void> {
    await this.db
      .updateTable('snapshots')
      .set({ deleted_at: ms(at), locations: '[]' })
      .where('id', '=', id)
      .execute();
  }

  async get(clusterId: string, id: string): Promise<StoredSnapshot | null> {
    const row = await this.db
      .selectFrom('snapshots')
      .selectAll()
      .where('cluster_id', '=', clusterId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async keyspace(clusterId: string, id: string): Promise<KeyspacePrefix[] | null> {
    const row = await this.db
      .selectFrom('snapshots')
      .select('keyspace')
      .where('cluster_id', '=', clusterId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.keyspace ? (JSON.parse(row.keyspace) as KeyspacePrefix[]) : null;
  }

  /** Newest first, at most `limit`. */
  async list(clusterId: string, limit = 500): Promise<StoredSnapshot[]> {
    const rows = await this.db
      .selectFrom('snapshots')
      .selectAll()
      .where('cluster_id', '=', clusterId)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.sort(newestFirst).map(toRecord);
  }

  /** Every record still claiming a file, across clusters: for reconciliation and the manager's cache at start. */
  /** Every snapshot still recorded as running, of every cluster. */
  async running(): Promise<StoredSnapshot[]> {
    const rows = await this.db.selectFrom('snapshots').selectAll().where('status', '=', 'running').execute();
    return rows.sort(newestFirst).map(toRecord);
  }

  async withFiles(): Promise<StoredSnapshot[]> {
    const rows = await this.db
      .selectFrom('snapshots')
      .selectAll()
      .where('deleted_at', 'is', null)
      .where('missing', '=', 0)
      .where('status', '!=', 'failed')
      .execute();
    return rows.sort(newestFirst).map(toRecord);
  }

  /** The newest verified snapshot whose file is kept, or null. */
  async latestVerified(clusterId: string): Promise<StoredSnapshot | null> {
    const rows = await this.db
      .selectFrom('snapshots')
      .selectAll()
      .where('cluster_id', '=', clusterId)
      .where('verified', '=', 1)
      .where('missing', '=', 0)
      .where('deleted_at', 'is', null)
      .orderBy('started_at', 'desc')
      .limit(1)
      .execute();
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * Each cluster's newest snapshot whose restore test passed, as latestRestoreTested answers it: one read for the
   * fleet (hundreds of clusters at start), then one per cluster only where the text match found no passed test.
   */
  async latestRestoreTestedOf(clusterIds: readonly string[]): Promise<Map<string, StoredSnapshot | null>> {
    const like = restoreStateLike('passed');
    const newest = this.db
      .selectFrom('snapshots')
      .select((eb) => ['cluster_id', eb.fn.max('started_at').as('at')])
      .where('restore_test', 'like', like)
      .groupBy('cluster_id')
      .as('n');
    const rows = await this.db
      .selectFrom('snapshots as s')
      .innerJoin(newest, (j) => j.onRef('s.cluster_id', '=', 'n.cluster_id').onRef('s.started_at', '=', 'n.at'))
      .selectAll('s')
      .where('s.restore_test', 'like', like)
      .execute();
    const found = new Map<string, StoredSnapshot[]>();
    for (const r of rows.map(toRecord)) found.set(r.clusterId, [...(found.get(r.clusterId) ?? []), r]);
    const out = new Map<string, StoredSnapshot | null>();
    for (const id of clusterIds) {
      const newestFirst = (found.get(id) ?? []).sort((a, b) => (a.id < b.id ? 1 : -1));
      const passed = newestFirst.find((s) => s.restoreTest?.state === 'passed');
      out.set(id, passed ?? (newestFirst.length > 0 ? await this.latestRestoreTested(id) : null));
    }
    return out;
  }

  /** The newest snapshot whose restore test passed (its file kept or not), or null. */
  async latestRestoreTested(clusterId: string): Promise<StoredSnapshot | null> {
    const page = 50;
    for (let offset = 0; ; offset += page) {
      const rows = await this.db
        .selectFrom('snapshots')
        .selectAll()
        .where('cluster_id', '=', clusterId)
        .where('restore_test', 'like', restoreStateLike('passed'))
        .orderBy('started_at', 'desc')
        .orderBy('id', 'desc')
        .offset(offset)
        .limit(page)
        .execute();
      const found = rows.map(toRecord).find((s) => s.restoreTest?.state === 'passed');
      if (found) return found;
      if (rows.length < page) return null;
    }
  }
}
