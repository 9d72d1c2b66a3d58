// The snapshot records as this process knows them: the store's rows, overlaid with the changes whose writes are still
// queued, and each cluster's newest verified and newest restore-tested snapshot kept in memory, so the status, the
// alerts and /metrics read them without asking the database.
import 'server-only';
import type { WriteFence } from '@/lib/replicas/lease-store';
import { refusedForGood } from '@/lib/db/refusals';
import {
  hashHex,
  type NewSnapshot,
  type SnapshotStore,
  type StoredSnapshot,
  type VerifiedResult,
} from './snapshot-store';
import type { KeyspacePrefix, RestoreTest, SnapshotLocation } from './snapshot-types';

/** How long a refused write waits before it is tried again: doubling from the first to the most. */
export const WRITE_RETRY_MS = { first: 500, max: 30_000 };

/** A change this process made whose write is not stored yet: the record as it will be, and its keyspace if set. */
interface Unsaved {
  record: StoredSnapshot;
  keyspace?: KeyspacePrefix[];
}

const iso = (ms: number) => new Date(Math.trunc(ms)).toISOString();
const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
const startOf = (s: StoredSnapshot) => Date.parse(s.startedAt);
/** Newest first; ties by id, descending. */
const newestFirst = (a: StoredSnapshot, b: StoredSnapshot) =>
  startOf(b) - startOf(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** A verified snapshot whose file is still kept: what "the newest verified snapshot" is chosen among. */
const kept = (s: StoredSnapshot) => s.status === 'succeeded' && s.verified && !s.missing && !s.deletedAt;

/**
 * Every change is applied in memory first, then written behind the earlier writes of the same record; a write the
 * database refuses now is tried again (0.5 s doubling to 30 s) until it is stored, and the record is answered from
 * memory meanwhile, so a snapshot that was taken and verified is never shown as lost or still running. A write the
 * database refuses for good (a constraint) is dropped with a line in the log.
 */
export class SnapshotRecords {
  private readonly unsaved = new Map<string, Unsaved>();
  /** Each record's writes, in the order they were asked for: the record's id → the last one queued. */
  private readonly writes = new Map<string, Promise<void>>();
  /** Per cluster: its verified snapshots whose files are kept, by id. */
  private readonly verified = new Map<string, Map<string, StoredSnapshot>>();
  /** Per cluster: the newest snapshot whose restore test passed. */
  private readonly restoreTested = new Map<string, StoredSnapshot | null>();

  constructor(
    private readonly store: SnapshotStore,
    private readonly retryMs = WRITE_RETRY_MS,
  ) {}

  /** Reads each cluster's newest verified and restore-tested snapshots into memory; awaited at start. */
  async load(clusterIds: readonly string[]): Promise<void> {
    const withFiles = await this.store.withFiles();
    const tested = await this.store.latestRestoreTestedOf(clusterIds);
    this.verified.clear();
    this.restoreTested.clear();
    for (const s of withFiles) if (kept(s)) this.verifiedOf(s.clusterId).set(s.id, s);
    for (const id of clusterIds) this.restoreTested.set(id, tested.get(id) ?? null);
    // Changes made before the load whose writes are not stored yet are newer than what was read.
    for (const { record } of this.unsaved.values()) this.remember(record);
  }

  /** The newest verified snapshot of the cluster whose file is kept, or null: from memory. */
  latestVerified(clusterId: string): StoredSnapshot | null {
    let newest: StoredSnapshot | null = null;
    for (const s of this.verified.get(clusterId)?.values() ?? []) {
      if (!newest || newestFirst(s, newest) < 0) newest = s;
    }
    return newest;
  }

  /** The newest snapshot of the cluster whose restore test passed, or null: from memory. */
  latestRestoreTested(clusterId: string): StoredSnapshot | null {
    return this.restoreTested.get(clusterId) ?? null;
  }

  /** A snapshot's row first: awaited, so a snapshot is never taken without its record. Returns the record. */
  async insert(s: NewSnapshot, fence?: WriteFence): Promise<StoredSnapshot> {
    await this.store.insert(s, fence);
    return this.asRunning(s);
  }

  // Each change below returns the record as it is now, at once; its write is queued (flush() waits for them).

  /** A verified file found on disk (adoption at start). */
  insertVerified(s: NewSnapshot, v: VerifiedResult): StoredSnapshot {
    const record = this.apply(this.asRunning(s), verifiedPatch(v), v.keyspace);
    this.write(s.id, 'storing the adopted snapshot', () => this.store.insertVerified(s, v));
    return record;
  }

  succeed(s: StoredSnapshot, v: VerifiedResult): StoredSnapshot {
    const record = this.apply(s, verifiedPatch(v), v.keyspace);
    this.write(s.id, 'storing its verification', () => this.store.succeed(s.id, v));
    return record;
  }

  fail(s: StoredSnapshot, error: string, finishedAt: number, sizeBytes: number | null = null): StoredSnapshot {
    const record = this.apply(s, {
      status: 'failed',
      finishedAt: iso(finishedAt),
      error: error.slice(0, 1000),
      sizeBytes,
      verified: false,
    });
    this.write(s.id, 'storing its failure', () => this.store.fail(s.id, error, finishedAt, sizeBytes));
    return record;
  }

  setLocations(s: StoredSnapshot, locations: SnapshotLocation[]): StoredSnapshot {
    const record = this.apply(s, { locations });
    this.write(s.id, 'storing its locations', () => this.store.setLocations(s.id, locations));
    return record;
  }

  /** A warning about the off-site copy on a snapshot that is itself good. */
  noteError(s: StoredSnapshot, error: string | null): StoredSnapshot {
    const record = this.apply(s, { error: error?.slice(0, 1000) ?? null });
    this.write(s.id, 'storing its warning', () => this.store.noteError(s.id, error));
    return record;
  }

  markMissing(s: StoredSnapshot): StoredSnapshot {
    const record = this.apply(s, { missing: true });
    this.write(s.id, 'marking it missing', () => this.store.markMissing(s.id));
    return record;
  }

  markDeleted(s: StoredSnapshot, at: number): StoredSnapshot {
    const record = this.apply(s, { deletedAt: iso(at), locations: [] });
    this.write(s.id, 'marking it deleted', () => this.store.markDeleted(s.id, at));
    return record;
  }

  setRestoreTest(s: StoredSnapshot, test: RestoreTest): StoredSnapshot {
    const newestTested = this.restoreTested.get(s.clusterId);
    const record = this.apply(s, { restoreTest: test });
    const stored = this.write(s.id, `storing its restore test (${test.state})`, () =>
      this.store.setRestoreTest(s.id, test),
    );
    // The newest passed test was replaced by a result that did not pass: the one before it (not in memory) stands,
    // read back once this write is stored; until then the replaced one is still shown.
    if (newestTested?.id === s.id && !UNDER_WAY_OR_PASSED.includes(test.state)) {
      void stored.then(() => this.reloadRestoreTested(s.clusterId));
    }
    return record;
  }

  /** At start: restore tests a stopped dashboard left running or queued are marked interrupted; returns how many. */
  async interruptRestoreTests(): Promise<number> {
    const ids = new Set(await this.store.interruptRestoreTests());
    for (const byId of this.verified.values()) {
      for (const [id, s] of byId) {
        if (ids.has(id) && s.restoreTest) {
          byId.set(id, {
            ...s,
            restoreTest: {
              ...s.restoreTest,
              state: 'interrupted',
              reason: 'the dashboard stopped during the restore test',
            },
          });
        }
      }
    }
    return ids.size;
  }

  /** The record as this process knows it: its change not yet stored, else the store's row. */
  async get(clusterId: string, id: string): Promise<StoredSnapshot | null> {
    const mine = this.unsaved.get(id);
    if (mine && mine.record.clusterId === clusterId) return mine.record;
    return this.store.get(clusterId, id);
  }

  async keyspace(clusterId: string, id: string): Promise<KeyspacePrefix[] | null> {
    const mine = this.unsaved.get(id);
    if (mine?.keyspace && mine.record.clusterId === clusterId) return mine.keyspace;
    return this.store.keyspace(clusterId, id);
  }

  /** Newest first, at most `limit`: the store's rows with this process's unstored changes over them. */
  async list(clusterId: string, limit = 500): Promise<StoredSnapshot[]> {
    const rows = await this.store.list(clusterId, limit);
    const mine = [...this.unsaved.values()].map((u) => u.record).filter((r) => r.clusterId === clusterId);
    if (mine.length === 0) return rows;
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const r of mine) byId.set(r.id, r);
    return [...byId.values()].sort(newestFirst).slice(0, limit);
  }

  /** Resolves once every queued write is stored (or dropped for good): for shutdown and tests. */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes.values()]);
  }

  /** Whether a change to the record is waiting to be stored. */
  pending(id: string): boolean {
    return this.writes.has(id);
  }

  /** The record of a snapshot just started, as its row is inserted. */
  asRunning(s: NewSnapshot): StoredSnapshot {
    return {
      id: s.id,
      clusterId: s.clusterId,
      status: 'running',
      startedAt: iso(s.startedAt),
      finishedAt: null,
      memberId: s.memberId,
      memberName: s.memberName,
      trigger: s.trigger,
      triggeredBy: s.triggeredBy,
      fileName: s.fileName,
      sizeBytes: null,
      revision: null,
      totalKeys: null,
      hash: null,
      sha256: null,
      verified: false,
      locations: [],
      error: null,
      missing: false,
      deletedAt: null,
      restoreTest: null,
    };
  }

  /** The change in memory: over this process's unstored version of the record when there is one. */
  private apply(s: StoredSnapshot, patch: Partial<StoredSnapshot>, keyspace?: KeyspacePrefix[]): StoredSnapshot {
    const before = this.unsaved.get(s.id);
    const record = { ...(before?.record ?? s), ...patch };
    const ks = keyspace ?? before?.keyspace;
    this.unsaved.set(s.id, ks ? { record, keyspace: ks } : { record });
    this.remember(record);
    return record;
  }

  /** Keeps the cluster's newest verified and restore-tested snapshots in step with a record's change. */
  private remember(s: StoredSnapshot): void {
    if (kept(s)) this.verifiedOf(s.clusterId).set(s.id, s);
    else this.verified.get(s.clusterId)?.delete(s.id);
    const tested = this.restoreTested.get(s.clusterId) ?? null;
    if (s.restoreTest?.state === 'passed' && (!tested || tested.id === s.id || newestFirst(s, tested) < 0)) {
      this.restoreTested.set(s.clusterId, s);
    } else if (tested?.id === s.id) {
      // A new test of it is under way, or its result is being read back: the test that passed stands meanwhile.
      this.restoreTested.set(s.clusterId, { ...s, restoreTest: tested.restoreTest });
    }
  }

  private async reloadRestoreTested(clusterId: string): Promise<void> {
    try {
      const found = await this.store.latestRestoreTested(clusterId);
      const mine = [...this.unsaved.values()]
        .map((u) => u.record)
        .filter((r) => r.clusterId === clusterId && r.restoreTest?.state === 'passed');
      const candidates = [...(found ? [found] : []), ...mine].sort(newestFirst);
      this.restoreTested.set(clusterId, candidates[0] ?? null);
    } catch (err) {
      console.error(
        `snapshots: reading back the newest restore-tested snapshot of ${clusterId} failed: ${firstLine(err)}`,
      );
    }
  }

  private verifiedOf(clusterId: string): Map<string, StoredSnapshot> {
    let byId = this.verified.get(clusterId);
    if (!byId) {
      byId = new Map();
      this.verified.set(clusterId, byId);
    }
    return byId;
  }

  /** Queues a write behind the record's earlier ones; it is tried until stored. Resolves then; never rejects. */
  private write(id: string, what: string, op: () => Promise<void>): Promise<void> {
    const tail = (this.writes.get(id) ?? Promise.resolve()).then(() => this.untilStored(id, what, op));
    this.writes.set(id, tail);
    void tail.then(() => {
      if (this.writes.get(id) !== tail) return;
      this.writes.delete(id);
      this.unsaved.delete(id);
    });
    return tail;
  }

  private async untilStored(id: string, what: string, op: () => Promise<void>): Promise<void> {
    let failing = false;
    for (let wait = this.retryMs.first; ; wait = Math.min(wait * 2, this.retryMs.max)) {
      try {
        await op();
        if (failing) console.error(`snapshots: ${id}: ${what}: stored now`);
        return;
      } catch (err) {
        if (refusedForGood(err)) {
          console.error(`snapshots: ${id}: ${what}: the database refuses it (${firstLine(err)}); not tried again`);
          return;
        }
        if (!failing) {
          console.error(`snapshots: ${id}: ${what} failed (${firstLine(err)}); answered from memory, tried again`);
        }
        failing = true;
        await new Promise<void>((resolve) => setTimeout(resolve, wait).unref());
      }
    }
  }
}

/** The restore test states that leave the newest passed test standing: a new test of it is under way, or passed. */
const UNDER_WAY_OR_PASSED: ReadonlyArray<RestoreTest['state']> = ['queued', 'running', 'passed'];

function verifiedPatch(v: VerifiedResult): Partial<StoredSnapshot> {
  return {
    status: 'succeeded',
    finishedAt: iso(v.finishedAt),
    sizeBytes: v.sizeBytes,
    revision: v.revision,
    totalKeys: v.totalKeys,
    hash: hashHex(v.hash),
    sha256: v.sha256,
    verified: true,
    locations: v.locations,
    error: null,
  };
}
