// Takes, verifies, keeps and copies snapshots: one at a time per cluster, streamed to disk, checked against the
// SHA-256 trailer etcd appends and read back as etcdctl snapshot status would, then copied off-site.
import 'server-only';
import type { ClusterActionLocks } from '@/lib/replicas/action-locks';
import { LeaseLost, type WriteFence } from '@/lib/replicas/lease-store';
import { refusedElsewhere } from '@/lib/replicas/action-refusal';
import {
  closeSync,
  createReadStream,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  type Stats,
} from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { conflict, gone, invalidInput, noSpace, notFound } from '@/lib/errors/domain-errors';
import type { AuditLog } from '@/lib/auth/audit-log';
import type { ClusterStatus, Observation } from '@/lib/cluster/status-types';
import { LOCAL_ONLY_SNAPSHOTS, type ClusterConfig, type DashboardConfig } from '@/lib/config/load-config';
import { streamSnapshotToFile } from '@/lib/etcd/snapshot-stream';
import { copySnapshotToS3, deleteSnapshotFromS3, s3TargetOf } from './offsite/s3-target';
import { snapshotsToPrune } from './retention';
import { Sha256TrailerChecker, verifySha256Trailer, verifyingStream } from './snapshot-integrity';
import { insideFolder, openSnapshotFile, untrusted } from './snapshot-file';
import { snapshotStatus } from './snapshot-status';
import { SnapshotRecords } from './snapshot-records';
import type { NewSnapshot, SnapshotStore, StoredSnapshot } from './snapshot-store';
import {
  SNAPSHOT_ID,
  type SnapshotDetail,
  type SnapshotProgressView,
  type SnapshotRecord,
  type SnapshotTrigger,
} from './snapshot-types';

/** Who asked: an identity's audit fields, or the schedule. */
export interface SnapshotActor {
  actor: string;
  role: 'viewer' | 'operator' | 'admin' | null;
  method: 'session' | 'token' | 'proxy' | 'anonymous' | 'none';
  source: string | null;
  /** An API token's id: its name may not be unique. */
  tokenId?: string;
}

export const SCHEDULE_ACTOR: SnapshotActor = { actor: 'schedule', role: null, method: 'none', source: null };

interface Running {
  id: string;
  startedAt: number;
  phase: SnapshotProgressView['phase'];
  receivedBytes: number;
  expectedBytes: number | null;
  abort: AbortController;
}

/** Room kept free beyond the snapshot itself, so a snapshot never fills the disk to the last byte. */
const FREE_SPACE_MARGIN_BYTES = 64 * 1024 * 1024;

/** The only names the dashboard gives snapshot files: an id and `.db`, so a name is never a path. */
const SNAPSHOT_FILE_NAME = /^\d{8}T\d{6}Z-[0-9a-f]{6}\.db$/;

/** Thrown when a snapshot's file is there but is not the file the dashboard wrote and verified. */
const fileChanged = (id: string, why: string) =>
  conflict('file_changed', `the file of snapshot ${id} ${why}; it is not served`);

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

function newSnapshotId(now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export interface SnapshotManagerDeps {
  config: DashboardConfig;
  store: SnapshotStore;
  audit: AuditLog;
  /** The collector's latest view of a cluster, to choose a member and check free space against its DB size. */
  observe: (clusterId: string) => Observation | null;
  /** An audit row's details for a refused or failed action: what the caller is answered (lib/api's failureDetails). */
  failureDetails: (err: unknown) => Record<string, unknown>;
  /** The maintenance run in progress on a cluster (a defragment blocks the member read from), or null. */
  maintenanceRunning?: (clusterId: string) => string | null;
  /** Called once a snapshot is verified (and copied off-site): the restore tester queues it. */
  afterVerified?: (clusterId: string, snapshotId: string) => void;
  /**
   * The records are shared with other replicas (PostgreSQL), each with a snapshot folder of its own: a recorded file
   * that is not on this host's disk may be on another's, so it is not marked missing here.
   */
  sharedRecords?: boolean;
  /**
   * Replicas on PostgreSQL: a snapshot holds the cluster's action lease while it runs, so another replica refuses a
   * second action, and a new leader leaves a live one alone. Absent with one process (its own checks suffice).
   */
  actionLocks?: Pick<ClusterActionLocks, 'hold' | 'live'> | null;
}

export interface TakeOptions {
  memberId?: string;
  trigger: SnapshotTrigger;
  by: SnapshotActor;
  /** The schedule's: the record is stored only while this replica still leads (Leadership.fence). */
  fence?: WriteFence;
}

export class SnapshotManager {
  private readonly running = new Map<string, Running>();
  /**
   * The records as this process knows them, and each cluster's newest verified and restore-tested snapshot in memory
   * (the restore tester writes its results through them too).
   */
  readonly records: SnapshotRecords;

  constructor(private readonly deps: SnapshotManagerDeps) {
    this.records = new SnapshotRecords(deps.store);
  }

  /** Reads what the status answers from memory (each cluster's newest verified snapshots); awaited at start. */
  async load(): Promise<void> {
    await this.records.load(this.deps.config.clusters.map((c) => c.id));
  }

  /** Resolves once every record change is stored (at shutdown). */
  flushWrites(): Promise<void> {
    return this.records.flush();
  }

  private cluster(clusterId: string): ClusterConfig {
    const c = this.deps.config.clusters.find((x) => x.id === clusterId);
    if (!c) throw notFound(`no cluster with id "${clusterId}"`);
    return c;
  }

  dir(clusterId: string): string {
    return path.join(this.deps.config.snapshotDir, clusterId);
  }

  private filePath(clusterId: string, fileName: string): string {
    if (!SNAPSHOT_FILE_NAME.test(fileName)) throw new Error(`"${fileName.slice(0, 80)}" is not a snapshot file name`);
    return path.join(this.dir(clusterId), fileName);
  }

  /** Whether `file` resolves to an entry directly in the cluster's folder (no link in the folder leads out of it). */
  private inside(clusterId: string, file: string): boolean {
    return insideFolder(this.dir(clusterId), file);
  }

  private progress(clusterId: string, id: string): SnapshotProgressView | null {
    const r = this.running.get(clusterId);
    if (!r || r.id !== id) return null;
    const seconds = (Date.now() - r.startedAt) / 1000;
    const rate = seconds > 0.2 && r.receivedBytes > 0 ? r.receivedBytes / seconds : null;
    const left = r.expectedBytes !== null && rate ? Math.max(0, (r.expectedBytes - r.receivedBytes) / rate) : null;
    return {
      receivedBytes: r.receivedBytes,
      expectedBytes: r.expectedBytes,
      bytesPerSecond: rate === null ? null : Math.round(rate),
      secondsLeft: left === null ? null : Math.round(left),
      phase: r.phase,
    };
  }

  private view(s: StoredSnapshot): SnapshotRecord {
    const { clusterId, fileName, ...record } = s;
    void fileName;
    return { ...record, progress: this.progress(clusterId, s.id) };
  }

  async list(clusterId: string): Promise<SnapshotRecord[]> {
    this.cluster(clusterId);
    return (await this.records.list(clusterId)).map((s) => this.view(s));
  }

  private async find(clusterId: string, id: string): Promise<StoredSnapshot> {
    this.cluster(clusterId);
    if (!SNAPSHOT_ID.test(id)) throw invalidInput(`"${id.slice(0, 60)}" is not a snapshot id`);
    const s = await this.records.get(clusterId, id);
    if (!s) throw notFound(`no snapshot "${id}" for cluster "${clusterId}"`);
    return s;
  }

  async detail(clusterId: string, id: string): Promise<SnapshotDetail> {
    const s = await this.find(clusterId, id);
    return { ...this.view(s), keyspace: await this.records.keyspace(clusterId, id) };
  }

  /**
   * The newest verified snapshot that has finished, and whether a copy of it is off-site (in S3); null when there is
   * none. Read by the status, the alert evaluation and /metrics: from memory, never waiting on the database.
   */
  latestVerifiedSummary(clusterId: string): NonNullable<ClusterStatus['lastVerifiedSnapshot']> | null {
    const s = this.records.latestVerified(clusterId);
    if (!s?.finishedAt) return null;
    const t = s.restoreTest;
    return {
      id: s.id,
      finishedAt: s.finishedAt,
      offsite: s.locations.some((l) => l.kind === 's3'),
      restoreTest: t ? { state: t.state, testedAt: t.testedAt, reason: t.reason } : null,
    };
  }

  /** The newest snapshot whose restore test passed: what the overview's backup line and the alert rule read. */
  latestRestoreTestedSummary(clusterId: string): NonNullable<ClusterStatus['lastRestoreTestedSnapshot']> | null {
    const s = this.records.latestRestoreTested(clusterId);
    if (!s?.finishedAt || !s.restoreTest) return null;
    return { id: s.id, finishedAt: s.finishedAt, testedAt: s.restoreTest.testedAt };
  }

  /** The id of the snapshot being taken of the cluster, or null: maintenance runs wait for it. */
  runningId(clusterId: string): string | null {
    return this.running.get(clusterId)?.id ?? null;
  }

  private refuseIfRunning(clusterId: string): void {
    const maintenance = this.deps.maintenanceRunning?.(clusterId);
    if (maintenance) {
      throw conflict(
        'maintenance_running',
        `a maintenance run is in progress for cluster "${clusterId}": ${maintenance}; take the snapshot when it ends`,
      );
    }
    const running = this.running.get(clusterId);
    if (running) {
      throw conflict('snapshot_running', `a snapshot is already running for cluster "${clusterId}": ${running.id}`, {
        snapshotId: running.id,
      });
    }
  }

  /** The member to read from: the one asked for, else a healthy follower, sparing the leader. */
  private chooseMember(clusterId: string, memberId: string | undefined) {
    const obs = this.deps.observe(clusterId);
    const members = obs?.members ?? [];
    if (memberId !== undefined) {
      const m = members.find((x) => x.id === memberId);
      if (!m) throw invalidInput(`memberId: "${memberId.slice(0, 40)}" is not a member of cluster "${clusterId}"`);
      if (m.health === 'unreachable' || !m.endpoint || !m.status) {
        throw conflict('member_unavailable', `member ${m.name} is ${m.health}: ${m.error ?? 'no answer'}`);
      }
      return m;
    }
    // A healthy member without Status is one etcd refused Status for auth: etcd is asked, and its refusal is the reason.
    const healthy = members.filter((m) => m.health === 'healthy' && m.endpoint);
    const choice = healthy.find((m) => m.status && !m.status.isLeader) ?? healthy.find((m) => m.status) ?? healthy[0];
    if (!choice)
      throw conflict('no_healthy_member', `no healthy member of cluster "${clusterId}" to take a snapshot from`);
    return choice;
  }

  /** Starts a snapshot and returns its record at once; the work goes on in the background. */
  async take(clusterId: string, opts: TakeOptions, now = Date.now()): Promise<SnapshotRecord> {
    return this.audited(clusterId, opts.by, 'snapshot.take', () => this.start(clusterId, opts, now));
  }

  private async start(clusterId: string, opts: TakeOptions, now: number): Promise<SnapshotRecord> {
    const cluster = this.cluster(clusterId);
    if (this.deps.sharedRecords && !cluster.snapshots.offsite) {
      throw conflict('offsite_required', `cluster "${clusterId}": ${LOCAL_ONLY_SNAPSHOTS}`);
    }
    this.refuseIfRunning(clusterId);
    const member = this.chooseMember(clusterId, opts.memberId);
    const dir = this.dir(clusterId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const need = (member.status?.dbSize ?? 0) + FREE_SPACE_MARGIN_BYTES;
    const fs = await statfs(dir);
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (free < need) {
      const mib = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;
      throw noSpace(
        'insufficient_storage',
        `not enough space in ${dir}: ${mib(free)} free, the snapshot of ${member.name} needs about ${mib(need)}`,
      );
    }
    // Checked again after the await: of two requests at once, only the first to get here starts.
    this.refuseIfRunning(clusterId);
    const id = newSnapshotId(now);
    const record: NewSnapshot = {
      id,
      clusterId,
      startedAt: now,
      memberId: member.id,
      memberName: member.name,
      trigger: opts.trigger,
      triggeredBy: opts.by.actor,
      fileName: `${id}.db`,
    };
    const run: Running = {
      id,
      startedAt: now,
      phase: 'streaming',
      receivedBytes: 0,
      expectedBytes: member.status?.dbSize ?? null,
      abort: new AbortController(),
    };
    this.running.set(clusterId, run);
    let lock: { release: () => Promise<void> } | null = null;
    try {
      const held = (await this.deps.actionLocks?.hold(clusterId, 'snapshot', id)) ?? null;
      if (held && !held.held) throw refusedElsewhere(clusterId, held.by);
      lock = held;
    } catch (err) {
      this.running.delete(clusterId);
      throw err;
    }
    let stored: StoredSnapshot;
    try {
      stored = await this.records.insert(record, opts.fence);
    } catch (err) {
      this.running.delete(clusterId);
      void lock?.release();
      if (err instanceof LeaseLost) {
        throw conflict(
          'not_leader',
          `this replica no longer leads (${err.message}): the scheduled snapshot is the new leader's`,
        );
      }
      // The row may have been stored though its answer was lost (a connection cut after the commit): a record left
      // "running" would stay so until the next start. Marked failed if it is there; nothing if it is not.
      const reason = `the snapshot could not be recorded (${firstLine(err)}); it was not taken`;
      this.records.fail(this.records.asRunning(record), reason, Date.now());
      throw err;
    }
    this.auditTake(clusterId, opts.by, member.id, 'success', { snapshotId: id, phase: 'started', member: member.name });
    void this.run(cluster, stored, member.endpoint as string, run, opts.by).finally(() => {
      this.running.delete(clusterId);
      void lock?.release();
    });
    return this.view(stored);
  }

  /**
   * Runs a snapshot action for `by`, the schedule or a person: whatever it throws (a refusal, a conflict, a 500) is
   * recorded as its failure, with the status and code the caller gets, before it goes on up. Success rows are the
   * action's own, with what it did.
   */
  private async audited<T>(
    clusterId: string,
    by: SnapshotActor,
    action: string,
    run: () => Promise<T> | T,
    details: Record<string, unknown> = {},
  ) {
    try {
      return await run();
    } catch (err) {
      this.auditTake(clusterId, by, null, 'failure', { ...details, ...this.deps.failureDetails(err) }, action);
      throw err;
    }
  }

  private auditTake(
    clusterId: string,
    by: SnapshotActor,
    memberId: string | null,
    outcome: 'success' | 'failure',
    details: Record<string, unknown>,
    action = 'snapshot.take',
  ) {
    this.deps.audit.append({
      at: Date.now(),
      actor: by.actor,
      role: by.role,
      method: by.method,
      source: by.source,
      action,
      clusterId,
      memberId,
      outcome,
      details: { ...(by.tokenId ? { actorTokenId: by.tokenId } : {}), ...details },
    });
  }

  private async run(cluster: ClusterConfig, rec: StoredSnapshot, endpoint: string, run: Running, by: SnapshotActor) {
    const file = this.filePath(cluster.id, rec.fileName);
    const trailer = new Sha256TrailerChecker();
    let received = 0;
    let verified: StoredSnapshot;
    try {
      await streamSnapshotToFile({
        endpoint,
        tls: cluster.tls,
        file,
        signal: run.abort.signal,
        onChunk: (chunk) => trailer.update(chunk),
        onProgress: (p) => {
          received = p.receivedBytes;
          run.receivedBytes = p.receivedBytes;
          run.expectedBytes = p.expectedBytes;
        },
      });
      run.phase = 'verifying';
      const integrity = trailer.finish();
      if (!integrity.ok) throw new Error(`verification failed: ${integrity.reason}`);
      const status = await snapshotStatus(file);
      const size = statSync(file).size;
      // In memory at once, stored behind it (retried while the database refuses): a verified snapshot is never
      // reported lost or still running because its row could not be written yet.
      verified = this.records.succeed(rec, {
        finishedAt: Date.now(),
        sizeBytes: size,
        revision: status.revision,
        totalKeys: status.totalKey,
        hash: status.hash,
        sha256: integrity.sha256,
        keyspace: status.keyspace,
        locations: [{ kind: 'local', where: file }],
      });
      this.auditTake(
        cluster.id,
        by,
        rec.memberId,
        'success',
        { snapshotId: rec.id, phase: 'verified', bytes: size, revision: status.revision },
        'snapshot.finish',
      );
    } catch (err) {
      rmSync(file, { force: true });
      rmSync(`${file}.part`, { force: true });
      const reason = err instanceof Error ? err.message : String(err);
      this.records.fail(rec, reason, Date.now(), received || null);
      this.auditTake(cluster.id, by, rec.memberId, 'failure', { snapshotId: rec.id, reason }, 'snapshot.finish');
      return;
    }
    // Once verified the snapshot stands: what follows (the off-site copy, retention) failing is logged, never turned
    // into the snapshot's failure.
    if (cluster.snapshots.offsite) {
      run.phase = 'copying';
      await this.copyOffsite(cluster, verified, file, run, by).catch((err: unknown) =>
        console.error(`snapshots: off-site copy of ${rec.id} stopped: ${firstLine(err)}`),
      );
    }
    await this.applyRetention(cluster).catch((err: unknown) =>
      console.error(`snapshots: retention after ${rec.id} not applied: ${firstLine(err)}; applied after the next one`),
    );
    this.deps.afterVerified?.(cluster.id, rec.id);
  }

  private async copyOffsite(cluster: ClusterConfig, s: StoredSnapshot, file: string, run: Running, by: SnapshotActor) {
    const target = s3TargetOf(cluster.snapshots.offsite as NonNullable<ClusterConfig['snapshots']['offsite']>);
    const copy = await copySnapshotToS3(file, `${cluster.id}/${s.fileName}`, target, { signal: run.abort.signal });
    if (copy.ok) {
      this.records.setLocations(s, [...s.locations, { kind: 's3', where: copy.location }]);
    } else {
      this.records.noteError(s, `off-site copy failed: ${copy.reason}`);
    }
    this.auditTake(
      cluster.id,
      by,
      s.memberId,
      copy.ok ? 'success' : 'failure',
      copy.ok ? { snapshotId: s.id, location: copy.location } : { snapshotId: s.id, reason: copy.reason },
      'snapshot.offsite',
    );
  }

  /** Removes files retention no longer keeps (the records stay, marked deleted). */
  async applyRetention(cluster: ClusterConfig, now = Date.now()): Promise<string[]> {
    const withFiles = (await this.records.list(cluster.id)).filter(
      (s) => s.status === 'succeeded' && !s.deletedAt && !s.missing,
    );
    const prune = snapshotsToPrune(withFiles, cluster.snapshots.retention, now);
    const byId = new Map(withFiles.map((s) => [s.id, s]));
    for (const id of prune) await this.removeFiles(cluster, byId.get(id) as StoredSnapshot, now);
    return prune;
  }

  /**
   * Removes a name from the snapshot folder: a regular file, or a symbolic link or hard link put in its place, whose
   * unlinking never touches what it points at. Anything else (a folder) is left, with a log line.
   */
  private unlinkEntry(file: string): void {
    let st: Stats;
    try {
      st = lstatSync(file);
    } catch {
      return;
    }
    if (!st.isFile() && !st.isSymbolicLink()) {
      console.error(`snapshots: not removing ${file}: it is not a regular file`);
      return;
    }
    rmSync(file, { force: true });
  }

  private async removeFiles(cluster: ClusterConfig, s: StoredSnapshot, now: number): Promise<void> {
    this.unlinkEntry(this.filePath(cluster.id, s.fileName));
    for (const loc of s.locations) {
      if (loc.kind === 's3' && cluster.snapshots.offsite)
        await deleteSnapshotFromS3(loc.where, s3TargetOf(cluster.snapshots.offsite));
    }
    this.records.markDeleted(s, now);
  }

  async remove(clusterId: string, id: string, by: SnapshotActor): Promise<void> {
    await this.audited(clusterId, by, 'snapshot.delete', () => this.removeOne(clusterId, id, by), {
      snapshotId: id.slice(0, 60),
    });
  }

  private async removeOne(clusterId: string, id: string, by: SnapshotActor): Promise<void> {
    const cluster = this.cluster(clusterId);
    const s = await this.find(clusterId, id);
    if (this.running.get(clusterId)?.id === id) throw conflict('snapshot_running', `snapshot ${id} is still running`);
    await this.removeFiles(cluster, s, Date.now());
    this.auditTake(clusterId, by, s.memberId, 'success', { snapshotId: id }, 'snapshot.delete');
  }

  /**
   * A verified snapshot's file for a download (`head`: only its size, for HEAD). The file is opened without following
   * a symbolic link and must be a regular file with one link, in the cluster's folder, of the size that was verified;
   * its bytes then pass through a check of the SHA-256 that was verified. Anything else is refused (409 file_changed),
   * audited and logged: someone has changed the snapshot folder.
   */
  downloadable(
    clusterId: string,
    id: string,
    by: SnapshotActor,
    opts: { head?: boolean } = {},
  ): Promise<{ bytes: number; name: string; body: Readable | null }> {
    const action = opts.head ? 'snapshot.head' : 'snapshot.download';
    return this.audited(clusterId, by, action, () => this.open(clusterId, id, by, action, opts.head === true), {
      snapshotId: id.slice(0, 60),
    });
  }

  private async open(
    clusterId: string,
    id: string,
    by: SnapshotActor,
    action: string,
    head: boolean,
  ): Promise<{ bytes: number; name: string; body: Readable | null }> {
    const s = await this.find(clusterId, id);
    if (s.status !== 'succeeded' || !s.verified)
      throw conflict('not_verified', `snapshot ${id} is ${s.status}, not a verified snapshot`);
    const file = this.filePath(clusterId, s.fileName);
    const refuse = (why: string): never => {
      console.error(`snapshots: refusing to serve ${file}: it ${why}`);
      throw fileChanged(id, why);
    };
    const opened = openSnapshotFile(file, this.dir(clusterId), s);
    if (!opened.ok) {
      if (opened.gone) throw gone('file_gone', `the file of snapshot ${id} is no longer on the dashboard's disk`);
      return refuse(opened.why);
    }
    const { fd, st } = opened;
    let keep = false;
    try {
      this.auditTake(clusterId, by, s.memberId, 'success', { snapshotId: id }, action);
      const name = `${clusterId}-${s.fileName}`;
      if (head) return { bytes: st.size, name, body: null };
      const source = createReadStream(file, { fd, highWaterMark: 1024 * 1024 });
      keep = true;
      // pipeline closes the file however the download ends, the client going away included.
      const body = pipeline(source, verifyingStream({ sha256: s.sha256 as string, bytes: st.size }), (err) => {
        if (!err || (err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
        console.error(`snapshots: download of ${file} stopped: ${err.message}`);
        this.auditTake(clusterId, by, s.memberId, 'failure', { snapshotId: id, reason: err.message }, action);
      });
      return { bytes: st.size, name, body };
    } finally {
      if (!keep) closeSync(fd);
    }
  }

  /** The snapshots running now on any replica, by their action leases (none with one process). */
  private async liveElsewhere(): Promise<Set<string>> {
    const holders = (await this.deps.actionLocks?.live()) ?? [];
    return new Set(holders.filter((h) => h.kind === 'snapshot').map((h) => h.runId));
  }

  /**
   * Replicas on PostgreSQL, on the leader, every minute: a snapshot still recorded as running whose replica holds no
   * action lease for it any more (it died mid-snapshot; the lease ran out) is failed. Returns how many.
   */
  async failOrphans(now = Date.now()): Promise<number> {
    if (!this.deps.actionLocks) return 0;
    const live = await this.liveElsewhere();
    let failed = 0;
    for (const r of await this.deps.store.running()) {
      if (live.has(r.id) || this.running.get(r.clusterId)?.id === r.id) continue;
      this.records.fail(r, 'the replica taking this snapshot stopped while it was being taken', now);
      failed++;
    }
    return failed;
  }

  /**
   * At start: interrupted snapshots are failed and their .part files removed; records whose files are gone (or are no
   * longer regular files of their own) are marked missing (one process only: see sharedRecords); snapshot files the database does not know are verified and
   * adopted, when they are regular files in the folder (never a link to a file elsewhere), or left, with a log line.
   */
  async reconcile(
    now = Date.now(),
  ): Promise<{ failed: number; missing: number; adopted: number; partsRemoved: number }> {
    const result = { failed: 0, missing: 0, adopted: 0, partsRemoved: 0 };
    const live = await this.liveElsewhere();
    for (const cluster of this.deps.config.clusters) {
      const dir = this.dir(cluster.id);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const records = await this.records.list(cluster.id, 100_000);
      for (const r of records) {
        if (r.status === 'running') {
          if (live.has(r.id)) continue;
          this.records.fail(r, 'the dashboard stopped while this snapshot was being taken', now);
          result.failed++;
        } else if (r.status === 'succeeded' && !r.deletedAt && !r.missing && !this.deps.sharedRecords) {
          const file = this.filePath(cluster.id, r.fileName);
          const why = this.whyNotOurs(cluster.id, file);
          if (why) {
            if (why !== 'is not there') console.error(`snapshots: ${file} ${why}: snapshot ${r.id} marked missing`);
            this.records.markMissing(r);
            result.missing++;
          }
        }
      }
      const known = new Set(records.map((r) => r.fileName));
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (name.endsWith('.part')) {
          this.unlinkEntry(full);
          result.partsRemoved++;
          continue;
        }
        if (!name.endsWith('.db') || known.has(name)) continue;
        const why = this.whyNotOurs(cluster.id, full);
        if (why) {
          console.error(`snapshots: not adopting ${full}: it ${why}`);
          continue;
        }
        const id = SNAPSHOT_ID.test(name.slice(0, -3)) ? name.slice(0, -3) : newSnapshotId(lstatSync(full).mtimeMs);
        const integrity = await verifySha256Trailer(full);
        if (!integrity.ok) {
          console.error(`snapshots: not adopting ${full}: ${integrity.reason}`);
          continue;
        }
        try {
          const status = await snapshotStatus(full);
          const fileName = `${id}.db`;
          // Adopted under a name of ours, so the id can never be a path.
          if (fileName !== name) renameSync(full, path.join(dir, fileName));
          const adopted = statSync(path.join(dir, fileName));
          this.records.insertVerified(
            {
              id,
              clusterId: cluster.id,
              startedAt: adopted.mtimeMs,
              memberId: null,
              memberName: null,
              trigger: 'manual',
              triggeredBy: `adopted at start (${name})`,
              fileName,
            },
            {
              finishedAt: adopted.mtimeMs,
              sizeBytes: adopted.size,
              revision: status.revision,
              totalKeys: status.totalKey,
              hash: status.hash,
              sha256: integrity.sha256,
              keyspace: status.keyspace,
              locations: [{ kind: 'local', where: path.join(dir, fileName) }],
            },
          );
          result.adopted++;
        } catch (err) {
          console.error(`snapshots: not adopting ${full}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    return result;
  }

  /** Why `file` is not a snapshot file of the cluster's own (not there, a link, not regular, outside), or null. */
  private whyNotOurs(clusterId: string, file: string): string | null {
    let st: Stats;
    try {
      st = lstatSync(file);
    } catch {
      return 'is not there';
    }
    return untrusted(st) ?? (this.inside(clusterId, file) ? null : 'is not inside the snapshot folder');
  }
}
