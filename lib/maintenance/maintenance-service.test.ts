// Maintenance runs against a real 3-member mTLS etcd cluster: a rolling defragment under writes, compaction, a leader
// move, the refusals, cancel between steps, and a run the dashboard left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { LocalCluster } from '@/scripts/lib/local-cluster';
import { selectedEtcdLine } from '@/scripts/lib/etcd-versions';
import { AuditLog } from '@/lib/auth/audit-log';
import { sqliteStore } from '@/lib/db/sqlite-store';
import { ClusterCollector } from '@/lib/collector/cluster-collector';
import { HistoryRecorder } from '@/lib/collector/history-recorder';
import { loadConfig, type ClusterConfig } from '@/lib/config/load-config';
import { openDatabase } from '@/lib/db/database';
import { isDomainError } from '@/lib/errors/domain-errors';
import { createMemberClient, type MemberClient } from '@/lib/etcd/member-client';
import { EventStore } from '@/lib/history/event-store';
import { SampleStore } from '@/lib/history/sample-store';
import { DEFAULT_MAINTENANCE_SETTINGS, MaintenanceService, type MaintenanceActor } from './maintenance-service';
import { autoDefragmentCandidates, startAutoDefragment } from './auto-defragment';
import { MaintenanceStore } from './maintenance-store';
import type { MaintenanceRun } from './maintenance-types';
import { until } from '@/test/support/poll';

const LINE = selectedEtcdLine();
const OPERATOR: MaintenanceActor = { actor: 'alice', role: 'operator', method: 'session', source: '127.0.0.1' };
let dir: string;
let cluster: LocalCluster;
let config: ClusterConfig;
let db: Database.Database;
let collector: ClusterCollector;
let events: EventStore;
let audit: AuditLog;
let store: MaintenanceStore;
let snapshotRunning: string | null = null;
let writer: MemberClient;
let samples: SampleStore;
let recorder: HistoryRecorder;
/** Every markBusy call the service made: [member id, busy]. */
const busyCalls: Array<[string, boolean]> = [];

function service(overrides: Partial<typeof DEFAULT_MAINTENANCE_SETTINGS> = {}): MaintenanceService {
  return new MaintenanceService({
    clusters: [config],
    store,
    audit,
    events: recorder,
    observe: () => collector.current(),
    staleAfterMs: 5_000,
    snapshotRunning: () => snapshotRunning,
    markBusy: (_c, memberId, busy) => {
      busyCalls.push([memberId, busy]);
      collector.markBusy(memberId, busy);
    },
    expectLeaderMove: (_c, memberId, by) => collector.expectLeaderMove(memberId, by),
    failureDetails: (err) => (isDomainError(err) ? { code: err.code, message: err.message } : {}),
    revisionAt: (_c, at) =>
      samples.latestAt(config.id, 'revision', at, { lookbackMs: 60_000, rawRetentionMs: 3_600_000 }),
    settings: () => ({ ...DEFAULT_MAINTENANCE_SETTINGS, pauseBetweenMembersMs: 300, ...overrides }),
  });
}

async function healthyObservation() {
  const obs = await until(
    () => collector.current(),
    (o) =>
      o !== null &&
      o.quorum.state === 'healthy' &&
      o.members.every((m) => m.health === 'healthy' && m.status && !m.defragmenting),
  );
  if (!obs || obs.quorum.state !== 'healthy') throw new Error('the cluster did not become healthy');
  return obs;
}

async function finished(svc: MaintenanceService, run: MaintenanceRun): Promise<MaintenanceRun> {
  await svc.settled(config.id);
  return await svc.get(config.id, run.id);
}

/** Writes `count` keys of 1 KB under `prefix`, deletes them and compacts: the space stays allocated, unused. */
async function fragment(prefix: string, count: number): Promise<void> {
  const value = 'x'.repeat(1000);
  for (let i = 0; i < count; i += 1024) {
    await Promise.all(
      Array.from({ length: 8 }, (_, b) => {
        const from = i + b * 128;
        const puts = Array.from({ length: 128 }, (_, j) => writer.put(`${prefix}/${from + j}`).value(value));
        return writer
          .if(`${prefix}/none`, 'Version', '==', 0)
          .then(...puts)
          .commit();
      }),
    );
  }
  await writer.delete().prefix(`${prefix}/`).exec();
  const rev = Number((await writer.get('x').exec()).header.revision);
  await writer.kv.compact({ revision: String(rev), physical: true });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maintenance-test-'));
  cluster = LocalCluster.create({ dir: path.join(dir, 'c'), members: 3, basePort: 25500, name: 'mt', etcd: LINE });
  await cluster.start();
  config = loadConfig(cluster.etcdctlEnv).clusters[0]!;
  db = openDatabase(path.join(dir, 'dashboard.sqlite'));
  const kysely = sqliteStore(db);
  events = new EventStore(kysely);
  samples = new SampleStore(kysely);
  recorder = new HistoryRecorder(samples, events);
  audit = new AuditLog(kysely);
  store = new MaintenanceStore(kysely);
  collector = new ClusterCollector(config, {
    pollIntervalMs: 300,
    probeTimeoutMs: 800,
    metricsIntervalMs: 0,
    recorder,
  });
  collector.start();
  writer = createMemberClient({ endpoint: config.endpoints[0]!, tls: config.tls, timeoutMs: 30_000 });
  await healthyObservation();
});

afterAll(async () => {
  writer?.close();
  collector?.stop();
  await cluster?.stop();
  await recorder?.flush().catch(() => undefined);
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('maintenance against real etcd', () => {
  it('defragments every member, followers first and the leader last, while a writer keeps writing', async () => {
    await fragment('frag', 24_000);
    const obs = await healthyObservation();
    const leader = obs.members.find((m) => m.status?.isLeader);
    const svc = service();

    const plan = await svc.plan(config.id, { action: 'defragment', dryRun: true });
    expect(plan.refusal).toBeNull();
    expect(plan.steps.map((s) => s.memberId).at(-1)).toBe(leader?.id);
    expect(plan.steps.every((s) => (s.expectedReclaimBytes ?? 0) > 10 * 1024 * 1024)).toBe(true);

    // A writer on the leader's endpoint: the longest gap between two acknowledged writes is the stall a client saw.
    const leaderClient = createMemberClient({ endpoint: leader!.endpoint!, tls: config.tls, timeoutMs: 60_000 });
    let writing = true;
    let failures = 0;
    let longestGapMs = 0;
    const loop = (async () => {
      let last = performance.now();
      for (let i = 0; writing; i++) {
        try {
          await leaderClient.put(`writer/${i % 50}`).value(String(i));
          const now = performance.now();
          longestGapMs = Math.max(longestGapMs, now - last);
          last = now;
        } catch {
          failures += 1;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    // What the live view showed while the run went on.
    const views: Array<NonNullable<ReturnType<typeof collector.current>>> = [];
    const watch = setInterval(() => {
      const o = collector.current();
      if (o && views.at(-1) !== o) views.push(o);
    }, 20);

    const started = await svc.start(config.id, { action: 'defragment' }, OPERATOR);
    expect(started.state).toBe('running');
    // While it runs, a second action is refused with the reason.
    await expect(svc.start(config.id, { action: 'compact' }, OPERATOR)).rejects.toMatchObject({
      code: 'maintenance_running',
    });
    const run = await finished(svc, started);
    clearInterval(watch);
    writing = false;
    await loop;
    leaderClient.close();

    expect(run.state, run.reason ?? '').toBe('succeeded');
    expect(run.steps.map((s) => s.step)).toEqual(['defragment', 'defragment', 'defragment']);
    expect(run.steps.at(-1)?.memberId).toBe(leader?.id);
    for (const s of run.steps) {
      expect(s.state).toBe('succeeded');
      expect(s.after?.dbSize, `${s.memberName}: ${JSON.stringify(s)}`).toBeLessThan((s.before?.dbSize ?? 0) * 0.6);
    }
    expect(failures).toBe(0);
    // A member being defragmented is shown busy, never down, and quorum never looks anything but healthy.
    // The live view was told each member was busy for exactly its own defragment (the next test shows what it does
    // with that); no poll during the run saw quorum other than healthy or a member down.
    expect(busyCalls).toEqual(
      run.steps.flatMap((x) => [
        [x.memberId, true],
        [x.memberId, false],
      ]),
    );
    const during = views.filter((o) => Date.parse(o.observedAt ?? '') >= Date.parse(run.startedAt));
    expect(during.length).toBeGreaterThan(0);
    for (const o of during) {
      expect(o.quorum.state, JSON.stringify(o.quorum)).toBe('healthy');
      for (const m of o.members) expect(m.health === 'healthy' || m.defragmenting, `${m.name}: ${m.error}`).toBe(true);
    }
    const longestStepMs = Math.max(...run.steps.map((s) => Date.parse(s.finishedAt!) - Date.parse(s.startedAt!)));
    expect(longestGapMs).toBeLessThan(longestStepMs + 1500);

    const rows = await audit.query({ action: 'maintenance.defragment' });
    expect(rows.map((r) => [r.actor, r.details.phase, r.outcome])).toEqual(
      expect.arrayContaining([
        ['alice', 'started', 'success'],
        ['alice', 'finished', 'success'],
      ]),
    );
    await recorder.flush();
    const timeline = await events.query({ clusterId: config.id, from: 0, to: Date.now(), types: ['maintenance'] });
    expect(timeline.map((e) => e.details.phase)).toEqual(expect.arrayContaining(['started', 'succeeded']));
  });

  it('shows a member it defragments as busy, and quorum as intact', async () => {
    const obs = await healthyObservation();
    const follower = obs.members.find((m) => !m.status?.isLeader)!;
    collector.markBusy(follower.id!, true);
    try {
      const seen = await until(
        () => collector.current(),
        (o) => o?.members.find((m) => m.id === follower.id)?.defragmenting === true,
      );
      expect(seen?.quorum.state).toBe('healthy');
    } finally {
      collector.markBusy(follower.id!, false);
    }
  });

  it('compacts to the revision asked for, waiting for the physical compaction', async () => {
    await healthyObservation();
    for (let i = 0; i < 20; i++) await writer.put('compact/k').value(String(i));
    const rev = Number((await writer.get('compact/k').exec()).header.revision);
    const svc = service();
    const run = await finished(svc, await svc.start(config.id, { action: 'compact', revision: rev - 5 }, OPERATOR));
    expect(run.state, run.reason ?? '').toBe('succeeded');
    expect(run.steps[0]?.after?.compactRevision).toBe(rev - 5);
    // A read of a revision before it is refused: the old revisions are gone.
    await expect(
      writer
        .get('compact/k')
        .revision(rev - 10)
        .exec(),
    ).rejects.toThrow(/compacted/);
    // "Keep the last T minutes": the revision the history recorded then.
    await recorder.flush();
    const recorded = await samples.latestAt(config.id, 'revision', Date.now() - 1000, {
      lookbackMs: 60_000,
      rawRetentionMs: 3_600_000,
    });
    expect(recorded).toBeGreaterThan(0);
    const byTime = await finished(
      svc,
      await svc.start(config.id, { action: 'compact', keepMinutes: 1 / 60 }, OPERATOR),
    );
    expect(byTime.state, byTime.reason ?? '').toBe('succeeded');
    expect(byTime.steps[0]?.after?.compactRevision).toBeGreaterThanOrEqual(recorded!);
    expect(byTime.steps[0]?.after?.compactRevision).toBeLessThanOrEqual(rev + 1);
    await expect(svc.start(config.id, { action: 'compact', keepMinutes: 600 }, OPERATOR)).rejects.toThrow(
      /keepMinutes: the dashboard recorded no revision of this cluster 600 minutes ago/,
    );
    // A revision newer than the cluster's is bad input.
    await expect(
      svc.start(config.id, { action: 'compact', revision: rev + 1_000_000 }, OPERATOR),
    ).rejects.toMatchObject({
      kind: 'invalid',
    });
  });

  it('moves the leader to a named member, and the timeline says who asked', async () => {
    const obs = await healthyObservation();
    const target = obs.members.find((m) => !m.status?.isLeader)!;
    const svc = service();
    const run = await finished(
      svc,
      await svc.start(config.id, { action: 'move-leader', target: target.id! }, OPERATOR),
    );
    expect(run.state, run.reason ?? '').toBe('succeeded');
    expect(run.steps[0]?.after?.leader).toBe(target.id);
    const seen = await until(
      () => collector.current(),
      (o) => o?.leader?.id === target.id,
    );
    expect(seen?.leader?.id).toBe(target.id);
    const changes = await until(
      async () => {
        await recorder.flush();
        return events.query({ clusterId: config.id, from: 0, to: Date.now(), types: ['leader_changed'] });
      },
      (list) => list.some((e) => e.details.requestedBy === 'alice'),
      10_000,
    );
    expect(changes.find((e) => e.details.requestedBy === 'alice')?.details.newLeader).toBe(target.id);
  });

  it('refuses with the reason: a snapshot running, the target already leader, a member down', async () => {
    const obs = await healthyObservation();
    const svc = service();
    snapshotRunning = '20261206T000000Z-abcdef';
    try {
      await expect(svc.start(config.id, { action: 'defragment' }, OPERATOR)).rejects.toMatchObject({
        kind: 'conflict',
        code: 'snapshot_running',
      });
    } finally {
      snapshotRunning = null;
    }
    const leader = obs.members.find((m) => m.status?.isLeader)!;
    await expect(svc.start(config.id, { action: 'move-leader', target: leader.id! }, OPERATOR)).rejects.toMatchObject({
      code: 'already_leader',
    });
    const follower = obs.members.find((m) => !m.status?.isLeader)!;
    const index = cluster.indexOfName(follower.name);
    await cluster.stopMember(index);
    try {
      await until(
        () => collector.current(),
        (o) => o?.members.find((m) => m.id === follower.id)?.health !== 'healthy',
      );
      const err = await svc.start(config.id, { action: 'defragment' }, OPERATOR).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'conflict', code: 'cluster_unhealthy' });
      expect((err as Error).message).toContain(follower.name);
      const refused = await audit.query({ action: 'maintenance.defragment', outcome: 'failure' });
      expect(refused[0]?.details.code).toBe('cluster_unhealthy');
    } finally {
      cluster.startMember(index);
      await cluster.waitHealthy();
    }
  });

  it('cancels between members, never in the middle of one', async () => {
    await healthyObservation();
    const svc = service({ pauseBetweenMembersMs: 5_000 });
    const run = await svc.start(config.id, { action: 'defragment' }, OPERATOR);
    await until(
      () => svc.get(config.id, run.id),
      (r) => r.steps[0]?.state === 'succeeded',
    );
    await svc.cancel(config.id, run.id, OPERATOR);
    const done = await finished(svc, run);
    expect(done.state).toBe('canceled');
    expect(done.steps.map((s) => s.state)).toEqual(['succeeded', 'canceled', 'canceled']);
    await expect(svc.cancel(config.id, run.id, OPERATOR)).rejects.toThrow(/canceled: there is nothing to cancel/);
  });

  it('defragments by itself inside its window, only the members over the rule, recorded as the schedule', async () => {
    await fragment('auto', 6_000);
    const obs = await healthyObservation();
    const svc = service();
    // Every member is fragmented now; a rule that only the fragmented ones meet, a window opening every second.
    const rule = { schedule: '* * * * * *', windowMs: 60_000, maxInUseRatio: 0.9, minDbSizeBytes: 1024 * 1024 };
    const seen = await until(
      () => collector.current(),
      (o) => o !== null && autoDefragmentCandidates(o, rule).length === o.members.length,
    );
    const candidates = autoDefragmentCandidates(seen ?? obs, rule);
    expect(candidates).toHaveLength(3);
    const stop = startAutoDefragment({
      clusters: [{ ...config, maintenance: { ...config.maintenance, autoDefragment: rule } }],
      maintenance: svc,
      observe: () => collector.current(),
      audit,
      retryMs: 500,
    });
    try {
      const runs = await until(
        async () => (await svc.list(config.id)).filter((r) => r.trigger === 'schedule'),
        (list) => list.length > 0,
        15_000,
      );
      stop();
      await svc.settled(config.id);
      const run = await svc.get(config.id, runs[0]!.id);
      expect(run.state, run.reason ?? '').toBe('succeeded');
      expect(run.by).toBe('schedule');
      expect(run.steps.map((x) => x.memberId).sort()).toEqual([...candidates].sort());
    } finally {
      stop();
    }
    // Defragmented, no member meets the rule any more.
    const after = await until(
      () => collector.current(),
      (o) => o !== null && autoDefragmentCandidates(o, rule).length === 0,
      10_000,
    );
    expect(autoDefragmentCandidates(after!, rule)).toEqual([]);
  });

  it('marks a run the dashboard left running as interrupted when it starts again', async () => {
    const id = '20261206T010203Z-0a0b0c';
    await store.insert({
      id,
      clusterId: config.id,
      action: 'defragment',
      by: 'alice',
      trigger: 'manual',
      startedAt: Date.now() - 1000,
      steps: [
        {
          memberId: 'a',
          memberName: 'm0',
          step: 'defragment',
          detail: '',
          state: 'succeeded',
          startedAt: null,
          finishedAt: null,
          before: null,
          after: null,
          error: null,
        },
        {
          memberId: 'b',
          memberName: 'm1',
          step: 'defragment',
          detail: '',
          state: 'running',
          startedAt: null,
          finishedAt: null,
          before: null,
          after: null,
          error: null,
        },
        {
          memberId: 'c',
          memberName: 'm2',
          step: 'defragment',
          detail: '',
          state: 'pending',
          startedAt: null,
          finishedAt: null,
          before: null,
          after: null,
          error: null,
        },
      ],
    });
    const svc = service();
    // What startup does (lib/app/start.ts); start() does it too before its first run.
    await svc.markInterrupted();
    const run = await svc.get(config.id, id);
    expect(run.state).toBe('interrupted');
    expect(run.steps.map((s) => s.state)).toEqual(['succeeded', 'interrupted', 'canceled']);
    expect(
      (await audit.query({ action: 'maintenance.defragment' })).some(
        (r) => r.details.runId === id && r.details.phase === 'interrupted',
      ),
    ).toBe(true);
  });
});
