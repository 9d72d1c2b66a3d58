// Restore tests: a verified snapshot restored with its cluster's own etcd release into a scratch folder, served by a
// throwaway member (unix sockets only, lowest CPU and I/O priority), and compared: it starts, it serves reads, its
// revision and live key count are the snapshot's, and HashKV at that revision equals the source cluster's. One at a
// time, within a time budget, after a free-space check; the member is stopped and the folder removed whatever happens,
// and at start whatever a stopped dashboard left behind is cleared.
import 'server-only';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AuditLog } from '@/lib/auth/audit-log';
import type { Observation } from '@/lib/cluster/status-types';
import type { ClusterConfig } from '@/lib/config/load-config';
import { conflict, gone, notFound } from '@/lib/errors/domain-errors';
import { hashKV } from '@/lib/etcd/maintenance-calls';
import { createMemberClient } from '@/lib/etcd/member-client';
import {
  clearScratchRoot,
  restoreInto,
  scratchHashKV,
  scratchKeyCount,
  startScratchMember,
  type EtcdTools,
  type ScratchMember,
} from '@/lib/etcd/scratch-member';
import { downloadSnapshotFromS3, type S3Target } from './offsite/s3-target';
import { etcdLineOf } from './restore-binaries';
import { openSnapshotFile } from './snapshot-file';
import { verifySha256Trailer, verifyingStream } from './snapshot-integrity';
import type { SnapshotRecords } from './snapshot-records';
import type { StoredSnapshot } from './snapshot-store';
import type { RestoreTest } from './snapshot-types';

/** The source cluster's HashKV at a revision, or why it cannot be had (compacted past it, no member answers). */
export type SourceHash = { ok: true; hash: number; compactRevision: number } | { ok: false; reason: string };

type Source = 'local' | 's3';

export interface RestoreTesterDeps {
  /** The snapshot manager's records: a result is written through them, so the status sees it at once. */
  records: SnapshotRecords;
  audit: AuditLog;
  /** The commands of an etcd line ("3.6"), or null when this machine has none. */
  tools: (line: string) => EtcdTools | null;
  /** Where scratch folders go: the dashboard's own data, never a member's data dir. */
  scratchRoot: string;
  /** The snapshot's file: copied from only while it is still the file that was verified. */
  file: (s: StoredSnapshot) => string;
  /** The etcd release the snapshot's cluster runs (its member's, else the lowest), or null when unknown. */
  clusterVersion: (clusterId: string, memberId: string | null) => string | null;
  sourceHashKV: (clusterId: string, revision: number) => Promise<SourceHash>;
  /** Where a cluster's off-site copies are, to read one back; null when it has none. */
  offsite?: (clusterId: string) => S3Target | null;
  /** The whole test's budget for a cluster, ms. */
  timeBudgetMs: number | ((clusterId: string) => number);
}

/**
 * The source cluster's HashKV at `revision`, asked of its healthy members in turn (followers first); "compacted past
 * it" when the cluster no longer has that revision.
 */
export async function clusterHashKV(
  cluster: ClusterConfig,
  obs: Observation | null,
  revision: number,
  timeoutMs = 60_000,
): Promise<SourceHash> {
  const members = (obs?.members ?? []).filter((m) => m.endpoint && m.health === 'healthy');
  members.sort((a, b) => Number(a.status?.isLeader ?? false) - Number(b.status?.isLeader ?? false));
  let last = 'no healthy member to ask';
  for (const m of members) {
    const client = createMemberClient({ endpoint: m.endpoint as string, tls: cluster.tls, timeoutMs });
    try {
      const res = await hashKV(client, revision, timeoutMs);
      if (res.ok) return { ok: true, hash: res.value.hash, compactRevision: res.value.compactRevision };
      if (/compacted/i.test(res.failure.message)) {
        return { ok: false, reason: `the source cluster compacted past revision ${revision}: HashKV not compared` };
      }
      last = `${m.name}: ${res.failure.message}`;
    } finally {
      client.close();
    }
  }
  return { ok: false, reason: `the source cluster's HashKV could not be read (${last})` };
}

/**
 * Room needed beyond the restored copy: etcd preallocates its write-ahead log, 61 MiB at restore and a second 61 MiB
 * file once the member starts (measured, figure 8), plus a little.
 */
export const SPACE_MARGIN_BYTES = 128 * 1024 * 1024;

export class RestoreTester {
  private current: string | null = null;
  private readonly queue: Array<{ clusterId: string; id: string; source: Source }> = [];
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RestoreTesterDeps) {}

  /** At start: tests a stopped dashboard left running are marked interrupted, their members stopped, folders removed. */
  async reconcile(): Promise<{ interrupted: number; foldersRemoved: number }> {
    const interrupted = await this.deps.records.interruptRestoreTests();
    const foldersRemoved = await clearScratchRoot(this.deps.scratchRoot);
    return { interrupted, foldersRemoved };
  }

  /** The snapshot under test now, or null. */
  running(): string | null {
    return this.current;
  }

  /** Resolves when no test runs or waits (for tests and shutdown). */
  async settled(): Promise<void> {
    for (;;) {
      const idle = this.idle;
      await idle;
      if (idle === this.idle && this.current === null && this.queue.length === 0) return;
    }
  }

  /** Queues a test (after a verification, or on a schedule): it runs when the one before it has ended. */
  async enqueue(clusterId: string, id: string, source: Source = 'local'): Promise<void> {
    if (this.queue.some((q) => q.id === id && q.source === source)) return;
    this.queue.push({ clusterId, id, source });
    const s = await this.deps.records.get(clusterId, id).catch((err: unknown) => {
      console.error(`restore test of ${id}: not marked queued: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    });
    // Seen as waiting its turn, unless a test of it has started meanwhile (that one's result will show).
    if (s && this.current !== id && this.queue.some((q) => q.id === id)) this.mark(s, { state: 'queued', source });
    this.pump();
  }

  /** Runs a test now; refused (409) while another runs or waits. */
  async startNow(clusterId: string, id: string): Promise<RestoreTest> {
    this.refuseIfBusy();
    const s = await this.deps.records.get(clusterId, id);
    // Checked again after the await: of two requests at once, only the first to get here starts.
    this.refuseIfBusy();
    if (!s) throw notFound(`no snapshot "${id}" for cluster "${clusterId}"`);
    if (s.status !== 'succeeded' || !s.verified) {
      throw conflict('not_verified', `snapshot ${id} is ${s.status}, not verified: there is nothing to restore`);
    }
    if (s.deletedAt || s.missing) throw gone('file_gone', `the file of snapshot ${id} is no longer kept`);
    const pending = this.mark(s, { state: 'running', reason: null, source: 'local' });
    this.queue.push({ clusterId, id, source: 'local' });
    this.pump();
    return pending;
  }

  private refuseIfBusy(): void {
    if (this.current !== null || this.queue.length > 0) {
      throw conflict(
        'restore_test_running',
        `a restore test is already running (snapshot ${this.current ?? this.queue[0]?.id}); one runs at a time`,
        { snapshotId: this.current ?? this.queue[0]?.id },
      );
    }
  }

  private pump(): void {
    if (this.current !== null) return;
    const next = this.queue.shift();
    if (!next) return;
    this.current = next.id;
    this.idle = this.runOne(next.clusterId, next.id, next.source)
      .then(() => undefined)
      .catch((err: unknown) =>
        console.error(`restore test of ${next.id}: ${err instanceof Error ? err.message : String(err)}`),
      )
      .finally(() => {
        this.current = null;
        this.pump();
      });
  }

  private mark(
    s: StoredSnapshot,
    part: Partial<RestoreTest> & Pick<RestoreTest, 'state'>,
    started = Date.now(),
  ): RestoreTest {
    const test: RestoreTest = {
      testedAt: new Date(started).toISOString(),
      etcdVersion: null,
      revision: null,
      totalKeys: null,
      hashKvEqual: null,
      durationMs: null,
      reason: null,
      ...part,
    };
    this.deps.records.setRestoreTest(s, test);
    return test;
  }

  /** Runs one test and records its result on the snapshot; returns it. */
  async runOne(clusterId: string, id: string, source: Source = 'local'): Promise<RestoreTest | null> {
    const s = await this.deps.records.get(clusterId, id);
    if (!s || s.status !== 'succeeded' || !s.verified) return null;
    if (source === 'local' && (s.deletedAt || s.missing)) return null;
    const location = s.locations.find((l) => l.kind === 's3')?.where ?? null;
    const target = this.deps.offsite?.(clusterId) ?? null;
    if (source === 's3' && (!location || !target)) return null;
    const started = Date.now();
    const version = this.deps.clusterVersion(clusterId, s.memberId);
    const line = etcdLineOf(version);
    const tools = line ? this.deps.tools(line) : null;
    const done = (part: Partial<RestoreTest> & Pick<RestoreTest, 'state'>) => {
      const t = this.mark(
        s,
        { etcdVersion: tools?.version ?? null, durationMs: Date.now() - started, source, ...part },
        started,
      );
      this.auditResult(clusterId, s.id, t);
      return t;
    };
    if (!line)
      return done({ state: 'skipped', reason: 'not restore-tested: the cluster did not report its etcd version' });
    if (!tools) return done({ state: 'skipped', reason: `not restore-tested: no etcd ${line} binary here` });
    mkdirSync(/*turbopackIgnore: true*/ this.deps.scratchRoot, { recursive: true, mode: 0o700 });
    // The restored copy, and beside it the snapshot it is restored from: copied through the SHA-256 check, or
    // downloaded when the copy is read back from S3.
    const need = (s.sizeBytes ?? 0) * 2 + SPACE_MARGIN_BYTES;
    const fs = await statfs(/*turbopackIgnore: true*/ this.deps.scratchRoot);
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (free < need) {
      const mib = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;
      return done({
        state: 'skipped',
        reason: `not restore-tested: ${mib(free)} free in ${this.deps.scratchRoot}, the restored copy needs about ${mib(need)}`,
      });
    }
    this.mark(s, { state: 'running', etcdVersion: tools.version, source }, started);
    const dir = mkdtempSync(/*turbopackIgnore: true*/ path.join(this.deps.scratchRoot, `${s.id}-`));
    const budget =
      typeof this.deps.timeBudgetMs === 'number' ? this.deps.timeBudgetMs : this.deps.timeBudgetMs(clusterId);
    const left = () => Math.max(1_000, started + budget - Date.now());
    let member: ScratchMember | null = null;
    try {
      const file = path.join(dir, 'snapshot.db');
      if (source === 'local') {
        const why = await this.copyVerified(s, file);
        if (why) return done({ state: 'failed', reason: why });
      } else {
        const got = await downloadSnapshotFromS3(location as string, target as S3Target, file);
        if (!got.ok) return done({ state: 'failed', reason: got.reason });
        const trailer = await verifySha256Trailer(file);
        if (!trailer.ok) {
          return done({ state: 'failed', reason: `the copy read back from ${location}: ${trailer.reason}` });
        }
      }
      await restoreInto(tools, file, dir, left());
      member = await startScratchMember(tools, dir, Math.min(left(), 60_000));
      const read = await scratchKeyCount(tools, dir, Math.min(left(), 30_000));
      const figures = { revision: read.revision, totalKeys: read.count };
      if (read.revision !== s.revision) {
        return done({
          state: 'failed',
          ...figures,
          reason: `restored revision ${read.revision}, the snapshot says ${s.revision}`,
        });
      }
      const expectedKeys = ((await this.deps.records.keyspace(clusterId, s.id)) ?? []).reduce(
        (n, p) => n + p.liveKeys,
        0,
      );
      if (read.count !== expectedKeys) {
        return done({
          state: 'failed',
          ...figures,
          reason: `restored ${read.count} live keys, the snapshot holds ${expectedKeys}`,
        });
      }
      const restored = await scratchHashKV(tools, dir, read.revision, Math.min(left(), 60_000));
      const origin = await this.deps.sourceHashKV(clusterId, read.revision);
      if (!origin.ok) return done({ state: 'passed', ...figures, hashKvEqual: null, reason: origin.reason });
      if (origin.compactRevision !== restored.compactRevision) {
        return done({
          state: 'passed',
          ...figures,
          hashKvEqual: null,
          reason: `the source cluster compacted to ${origin.compactRevision} since the snapshot (${restored.compactRevision}): HashKV not comparable`,
        });
      }
      if (origin.hash !== restored.hash) {
        return done({
          state: 'failed',
          ...figures,
          hashKvEqual: false,
          reason: `HashKV at revision ${read.revision} differs: restored ${restored.hash}, source cluster ${origin.hash}`,
        });
      }
      return done({ state: 'passed', ...figures, hashKvEqual: true, reason: null });
    } catch (err) {
      return done({ state: 'failed', reason: err instanceof Error ? err.message : String(err) });
    } finally {
      await member?.stop();
      rmSync(/*turbopackIgnore: true*/ dir, { recursive: true, force: true });
    }
  }

  /**
   * Copies the snapshot's file to `dest` only while it is still the file that was verified (no link, one name, the
   * verified size and SHA-256), so what is restored is exactly what was verified; or says why not.
   */
  private async copyVerified(s: StoredSnapshot, dest: string): Promise<string | null> {
    const file = this.deps.file(s);
    const opened = openSnapshotFile(file, path.dirname(file), s);
    if (!opened.ok) {
      if (opened.gone) return `the file of snapshot ${s.id} is no longer on the dashboard's disk`;
      console.error(`restore test: refusing to restore ${file}: it ${opened.why}`);
      return `the file of snapshot ${s.id} ${opened.why}; it is not restore-tested`;
    }
    try {
      await pipeline(
        createReadStream(file, { fd: opened.fd, highWaterMark: 1024 * 1024 }),
        verifyingStream({ sha256: s.sha256 as string, bytes: opened.st.size }),
        createWriteStream(dest, { mode: 0o600 }),
      );
      return null;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      console.error(`restore test: refusing to restore ${file}: ${why}`);
      return `the file of snapshot ${s.id} changed since it was verified (${why}); it is not restore-tested`;
    }
  }

  private auditResult(clusterId: string, snapshotId: string, t: RestoreTest): void {
    try {
      this.deps.audit.append({
        at: Date.now(),
        actor: 'dashboard',
        role: null,
        method: 'none',
        source: null,
        action: 'snapshot.restore-test',
        clusterId,
        memberId: null,
        outcome: t.state === 'passed' ? 'success' : 'failure',
        details: { snapshotId, state: t.state, ...(t.reason ? { reason: t.reason } : {}), durationMs: t.durationMs },
      });
    } catch (err) {
      console.error(`restore test audit failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
