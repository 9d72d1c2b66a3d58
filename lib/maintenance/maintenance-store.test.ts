import { beforeEach, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { ConsistencyCheck } from '@/lib/cluster/consistency-types';
import { describeOnEachEngine } from '@/test/support/store-engines';
import { LeaseLost, LeaseStore, type WriteFence } from '@/lib/replicas/lease-store';
import { MaintenanceStore, type NewRun } from './maintenance-store';
import type { RunStep } from './maintenance-types';

const T0 = Date.UTC(2026, 11, 6, 1, 2, 3);
const S = 1000;

/** This file's PostgreSQL server. */
const PG_PORT = 25919;

function step(memberId: string, state: RunStep['state']): RunStep {
  return {
    memberId,
    memberName: `etcd-${memberId}`,
    step: 'defragment',
    detail: 'follower',
    expectedReclaimBytes: 1024,
    state,
    startedAt: null,
    finishedAt: null,
    before: null,
    after: null,
    error: null,
  };
}

function newRun(over: Partial<NewRun> = {}): NewRun {
  return {
    id: '20261206T010203Z-0a0b0c',
    clusterId: 'prod',
    action: 'defragment',
    by: 'alice',
    trigger: 'manual',
    startedAt: T0,
    steps: [step('a', 'pending'), step('b', 'pending'), step('c', 'pending')],
    ...over,
  };
}

function check(at: number, over: Partial<ConsistencyCheck> = {}): ConsistencyCheck {
  return {
    clusterId: 'prod',
    checkedAt: new Date(at).toISOString(),
    revision: 9_007_199_254_740_991, // the largest safe integer: a BIGINT that comes back as the same number
    agree: true,
    suspect: null,
    note: null,
    members: [
      { id: 'a', name: 'etcd-a', hash: 4_294_967_295, compactRevision: 12, error: null },
      { id: 'b', name: 'etcd-b', hash: null, compactRevision: null, error: 'no answer' },
    ],
    ...over,
  };
}

describeOnEachEngine('MaintenanceStore: runs', PG_PORT, (engine) => {
  let store: MaintenanceStore;

  beforeEach(() => {
    store = new MaintenanceStore(engine.db);
  });

  it('a run is stored running, its steps saved as they change, and kept as it finished across a restart', async () => {
    await store.insert(newRun());
    expect(await store.get('prod', newRun().id)).toEqual({
      id: newRun().id,
      clusterId: 'prod',
      action: 'defragment',
      state: 'running',
      by: 'alice',
      trigger: 'manual',
      startedAt: new Date(T0).toISOString(),
      finishedAt: null,
      reason: null,
      cancelRequested: false,
      steps: newRun().steps,
    });

    const running = [step('a', 'succeeded'), step('b', 'running'), step('c', 'pending')];
    await store.saveSteps(newRun().id, running);
    await store.requestCancel(newRun().id);
    expect(await store.get('prod', newRun().id)).toMatchObject({
      state: 'running',
      cancelRequested: true,
      steps: running,
    });

    const ended = [step('a', 'succeeded'), step('b', 'succeeded'), step('c', 'canceled')];
    await store.finish(newRun().id, 'canceled', T0 + 60 * S, 'canceled by request before step 3 of 3', ended);
    store = new MaintenanceStore(await engine.reopen());
    expect(await store.get('prod', newRun().id)).toMatchObject({
      state: 'canceled',
      finishedAt: new Date(T0 + 60 * S).toISOString(),
      reason: 'canceled by request before step 3 of 3',
      cancelRequested: true,
      steps: ended,
    });
  });

  it('get answers only for the run of that cluster', async () => {
    await store.insert(newRun());
    expect(await store.get('staging', newRun().id)).toBeNull();
    expect(await store.get('prod', '20261206T010203Z-ffffff')).toBeNull();
  });

  it('lists a cluster’s runs newest first, those started in the same ms by id descending, at most the limit', async () => {
    await store.insert(newRun({ id: '20261206T010203Z-000001', startedAt: T0 }));
    await store.insert(newRun({ id: '20261206T010213Z-00000a', startedAt: T0 + 10 * S }));
    await store.insert(newRun({ id: '20261206T010213Z-00000B', startedAt: T0 + 10 * S }));
    await store.insert(newRun({ id: '20261206T010213Z-00000b', startedAt: T0 + 10 * S }));
    await store.insert(newRun({ id: '20261206T010205Z-000002', startedAt: T0 + 2 * S }));
    await store.insert(newRun({ id: '20261206T010303Z-000009', clusterId: 'staging', startedAt: T0 + 60 * S }));

    const ids = (await store.list('prod')).map((r) => r.id);
    expect(ids).toEqual([
      '20261206T010213Z-00000b',
      '20261206T010213Z-00000a',
      '20261206T010213Z-00000B',
      '20261206T010205Z-000002',
      '20261206T010203Z-000001',
    ]);
    expect((await store.list('prod', 2)).map((r) => r.id)).toEqual(ids.slice(0, 2));
    expect((await store.list('staging')).map((r) => r.id)).toEqual(['20261206T010303Z-000009']);
    expect(await store.list('nowhere')).toEqual([]);
  });

  it('marks the runs a stopped dashboard left running as interrupted, once, and returns them', async () => {
    const left = newRun({ id: '20261206T010203Z-000001' });
    await store.insert(left);
    await store.saveSteps(left.id, [step('a', 'succeeded'), step('b', 'running'), step('c', 'pending')]);
    await store.insert(newRun({ id: '20261206T010203Z-000002', clusterId: 'staging' }));
    await store.insert(newRun({ id: '20261206T010203Z-000003' }));
    await store.finish('20261206T010203Z-000003', 'succeeded', T0 + S, null, [step('a', 'succeeded')]);
    store = new MaintenanceStore(await engine.reopen());

    const at = T0 + 90 * S;
    const marked = await store.markInterrupted(at);
    const reason = 'the dashboard stopped while the run was in progress';
    const steps = [
      step('a', 'succeeded'),
      {
        ...step('b', 'interrupted'),
        finishedAt: new Date(at).toISOString(),
        error: 'the dashboard stopped during this step',
      },
      step('c', 'canceled'),
    ];
    expect(marked.map((r) => r.id).sort()).toEqual(['20261206T010203Z-000001', '20261206T010203Z-000002']);
    const mine = marked.find((r) => r.id === left.id);
    expect(mine).toMatchObject({ state: 'interrupted', finishedAt: new Date(at).toISOString(), reason, steps });
    expect(await store.get('prod', left.id)).toEqual(mine);
    expect(await store.get('prod', '20261206T010203Z-000003')).toMatchObject({ state: 'succeeded', reason: null });
    // Nothing is left running: a second pass finds nothing, and changes nothing.
    expect(await store.markInterrupted(at + S)).toEqual([]);
    expect(await store.get('prod', left.id)).toEqual(mine);
  });

  it('prunes runs started before the time, except one still running; returns how many', async () => {
    await store.insert(newRun({ id: '20261206T010203Z-000001', startedAt: T0 }));
    await store.finish('20261206T010203Z-000001', 'succeeded', T0 + S, null, []);
    await store.insert(newRun({ id: '20261206T010203Z-000002', startedAt: T0 })); // still running
    await store.insert(newRun({ id: '20261206T010303Z-000003', startedAt: T0 + 60 * S }));
    await store.finish('20261206T010303Z-000003', 'failed', T0 + 61 * S, 'it failed', []);
    expect(await store.prune(T0 + 60 * S)).toEqual({ runs: 1, checks: 0 });
    expect((await store.list('prod')).map((r) => r.id)).toEqual(['20261206T010303Z-000003', '20261206T010203Z-000002']);
  });

  it('refuses a state, a trigger or steps the table does not allow', async () => {
    await expect(store.insert(newRun({ trigger: 'cron' as NewRun['trigger'] }))).rejects.toThrow();
    await store.insert(newRun());
    await expect(store.finish(newRun().id, 'exploded' as 'failed', T0 + S, null, newRun().steps)).rejects.toThrow();
    await expect(
      sql`UPDATE maintenance_runs SET steps = ${'not json'} WHERE id = ${newRun().id}`.execute(engine.db),
    ).rejects.toThrow();
    expect(await store.get('prod', newRun().id)).toMatchObject({ state: 'running', steps: newRun().steps });
  });
});

describeOnEachEngine('MaintenanceStore: consistency checks', PG_PORT, (engine) => {
  let store: MaintenanceStore;

  beforeEach(() => {
    store = new MaintenanceStore(engine.db);
  });

  it('keeps checks per cluster, newest first, at most the limit, as they were across a restart', async () => {
    await store.addCheck(check(T0));
    await store.addCheck(check(T0 + 2 * S, { agree: false, suspect: 'b', note: 'etcd-b differs from the other 1' }));
    await store.addCheck(check(T0 + S, { agree: null, revision: null, note: 'nothing to compare' }));
    await store.addCheck(check(T0 + 5 * S, { clusterId: 'staging' }));
    store = new MaintenanceStore(await engine.reopen());

    const checks = await store.checks('prod');
    expect(checks.map((c) => [Date.parse(c.checkedAt), c.agree])).toEqual([
      [T0 + 2 * S, false],
      [T0 + S, null],
      [T0, true],
    ]);
    expect(checks[0]).toEqual(
      check(T0 + 2 * S, { agree: false, suspect: 'b', note: 'etcd-b differs from the other 1' }),
    );
    expect(checks[1]).toEqual(check(T0 + S, { agree: null, revision: null, note: 'nothing to compare' }));
    expect(checks[2]).toEqual(check(T0));
    expect((await store.checks('prod', 1)).map((c) => c.checkedAt)).toEqual([new Date(T0 + 2 * S).toISOString()]);
    expect((await store.checks('staging')).map((c) => c.clusterId)).toEqual(['staging']);
    // Every cluster's newest, in one read (what the NOC wall and the alerts need at start).
    expect((await store.latestChecks()).map((c) => [c.clusterId, Date.parse(c.checkedAt)]).sort()).toEqual([
      ['prod', T0 + 2 * S],
      ['staging', T0 + 5 * S],
    ]);
  });

  it('a scheduled check is stored under the leader term it ran in, and not once another term has begun', async () => {
    let now = T0;
    const leases = new LeaseStore(engine.db, () => now);
    const first = await leases.tryAcquire('leader', 'replica-a', 10 * S);
    expect(first.held).toBe(true);
    const fenceOf =
      (generation: number): WriteFence =>
      (trx) =>
        leases.assertHolding(trx, 'leader', generation);
    await store.addCheck(check(T0), fenceOf(1));
    // replica-a stalls past its lease; replica-b leads with the next generation.
    now = T0 + 11 * S;
    expect(await leases.tryAcquire('leader', 'replica-b', 10 * S)).toMatchObject({ held: true, generation: 2 });
    await expect(store.addCheck(check(T0 + 12 * S, { agree: false, suspect: 'b' }), fenceOf(1))).rejects.toThrow(
      LeaseLost,
    );
    await store.addCheck(check(T0 + 13 * S), fenceOf(2));
    expect((await store.checks('prod')).map((c) => Date.parse(c.checkedAt))).toEqual([T0 + 13 * S, T0]);
  });

  it('a scheduled run is stored (and so started) under the leader term it began in, and not once another has begun', async () => {
    let now = T0;
    const leases = new LeaseStore(engine.db, () => now);
    expect(await leases.tryAcquire('leader', 'replica-a', 10 * S)).toMatchObject({ held: true, generation: 1 });
    const fenceOf =
      (generation: number): WriteFence =>
      (trx) =>
        leases.assertHolding(trx, 'leader', generation);
    const scheduled = (id: string, startedAt: number) => newRun({ id, trigger: 'schedule', by: 'schedule', startedAt });
    await store.insert(scheduled('20261206T010203Z-00000a', T0), fenceOf(1));
    // replica-a stalls past its lease; replica-b leads with the next generation: a's window opening late starts nothing.
    now = T0 + 11 * S;
    expect(await leases.tryAcquire('leader', 'replica-b', 10 * S)).toMatchObject({ held: true, generation: 2 });
    await expect(store.insert(scheduled('20261206T010215Z-00000b', T0 + 12 * S), fenceOf(1))).rejects.toThrow(
      LeaseLost,
    );
    await store.insert(scheduled('20261206T010216Z-00000c', T0 + 13 * S), fenceOf(2));
    expect((await store.list('prod')).map((r) => r.id).sort()).toEqual([
      '20261206T010203Z-00000a',
      '20261206T010216Z-00000c',
    ]);
  });

  it('a check at a time already stored replaces it', async () => {
    await store.addCheck(check(T0));
    await store.addCheck(check(T0, { agree: false, suspect: 'a', revision: 77, note: 'again' }));
    expect(await store.checks('prod')).toEqual([
      check(T0, { agree: false, suspect: 'a', revision: 77, note: 'again' }),
    ]);
  });

  it('prunes checks older than the time', async () => {
    await store.addCheck(check(T0));
    await store.addCheck(check(T0 + 10 * S));
    expect(await store.prune(T0 + 10 * S)).toEqual({ runs: 0, checks: 1 });
    expect((await store.checks('prod')).map((c) => Date.parse(c.checkedAt))).toEqual([T0 + 10 * S]);
  });
});
