import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseLost, LeaseStore } from '@/lib/replicas/lease-store';
import { describeOnEachEngine } from '@/test/support/store-engines';
import { SnapshotRecords } from './snapshot-records';
import { SnapshotStore, type NewSnapshot, type VerifiedResult } from './snapshot-store';
import type { RestoreTest } from './snapshot-types';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** This file's PostgreSQL server. */
const PG_PORT = 25920;

function attempt(id: string, startedAt: number, clusterId = 'prod'): NewSnapshot {
  return {
    id,
    clusterId,
    startedAt,
    memberId: '8e9e05c52164694d',
    memberName: 'etcd-0',
    trigger: 'manual',
    triggeredBy: 'alice',
    fileName: `${id}.db`,
  };
}

function verified(finishedAt: number, s3 = false): VerifiedResult {
  return {
    finishedAt,
    sizeBytes: 4096,
    revision: 42,
    totalKeys: 7,
    // The largest CRC-32C: past a 32-bit signed column, kept whole.
    hash: 0xffffffff,
    sha256: 'ab'.repeat(32),
    keyspace: [{ prefix: '/registry/pods', liveKeys: 7, bytes: 1024, revisions: 9 }],
    locations: [{ kind: 'local', where: `/data/snapshots/${finishedAt}.db` }],
    ...(s3 ? { locations: [{ kind: 's3', where: 's3://backups/prod/x.db' }] } : {}),
  };
}

function restoreTest(state: RestoreTest['state'], at: number): RestoreTest {
  return {
    state,
    testedAt: new Date(at).toISOString(),
    etcdVersion: '3.6.5',
    revision: 42,
    totalKeys: 7,
    hashKvEqual: state === 'passed' ? true : null,
    durationMs: 1500,
    reason: state === 'passed' ? null : `it ${state}`,
  };
}

describeOnEachEngine('SnapshotStore', PG_PORT, (engine) => {
  let store: SnapshotStore;
  let records: SnapshotRecords;

  beforeEach(() => {
    store = new SnapshotStore(engine.db);
    records = new SnapshotRecords(store, { first: 20, max: 100 });
  });

  it('a record fenced by a leader term that has ended is not stored; one of the current term is', async () => {
    let time = T0;
    const leases = new LeaseStore(engine.db, () => time);
    const first = await leases.tryAcquire('leader', 'replica-a', 6000);
    expect(first.held).toBe(true);
    const oldTerm = first.held ? first.generation : 0;
    // replica-a stops renewing; replica-b takes over once the lease ran out.
    time += 6000;
    const second = await leases.tryAcquire('leader', 'replica-b', 6000);
    expect(second.held).toBe(true);
    const newTerm = second.held ? second.generation : 0;

    await expect(
      store.insert(attempt('20261125T120000Z-stale', T0), (trx) => leases.assertHolding(trx, 'leader', oldTerm)),
    ).rejects.toBeInstanceOf(LeaseLost);
    await store.insert(attempt('20261125T120001Z-fresh', T0 + 1000), (trx) =>
      leases.assertHolding(trx, 'leader', newTerm),
    );
    expect((await store.list('prod')).map((s) => s.id)).toEqual(['20261125T120001Z-fresh']);
  });

  it('keeps a record as it runs, verifies, and is kept as history, across a restart', async () => {
    // An adopted file's mtime has a fraction of a millisecond.
    await store.insert(attempt('s1', T0 + 0.75));
    expect(await store.get('prod', 's1')).toMatchObject({ status: 'running', verified: false, locations: [] });
    await store.succeed('s1', verified(T0 + 1000));
    await store.setRestoreTest('s1', restoreTest('passed', T0 + 2000));

    const again = new SnapshotStore(await engine.reopen());
    expect(await again.get('prod', 's1')).toEqual({
      id: 's1',
      clusterId: 'prod',
      status: 'succeeded',
      startedAt: new Date(T0).toISOString(),
      finishedAt: new Date(T0 + 1000).toISOString(),
      memberId: '8e9e05c52164694d',
      memberName: 'etcd-0',
      trigger: 'manual',
      triggeredBy: 'alice',
      fileName: 's1.db',
      sizeBytes: 4096,
      revision: 42,
      totalKeys: 7,
      hash: 'ffffffff',
      sha256: 'ab'.repeat(32),
      verified: true,
      locations: [{ kind: 'local', where: `/data/snapshots/${T0 + 1000}.db` }],
      error: null,
      missing: false,
      deletedAt: null,
      restoreTest: restoreTest('passed', T0 + 2000),
    });
    expect(await again.keyspace('prod', 's1')).toEqual(verified(0).keyspace);
    expect(await again.get('staging', 's1'), 'another cluster').toBeNull();
  });

  it('the newest verified snapshot follows every write: a failure, a missing file, retention', async () => {
    expect(await store.latestVerified('prod')).toBeNull();
    await store.insert(attempt('s1', T0));
    expect(await store.latestVerified('prod'), 'running is not verified').toBeNull();
    await store.succeed('s1', verified(T0 + 1000));
    expect((await store.latestVerified('prod'))?.id).toBe('s1');

    await store.insert(attempt('s2', T0 + 60_000));
    await store.fail('s2', 'disk full', T0 + 61_000);
    expect((await store.latestVerified('prod'))?.id, 'a failed attempt changes nothing').toBe('s1');

    await store.insertVerified(attempt('s3', T0 + 120_000), verified(T0 + 121_000));
    expect((await store.latestVerified('prod'))?.id).toBe('s3');
    await store.setLocations('s3', [...verified(0).locations, { kind: 's3', where: 's3://backups/prod/s3.db' }]);
    await store.noteError('s3', 'off-site copy retried');
    expect(await store.latestVerified('prod')).toMatchObject({ error: 'off-site copy retried' });
    expect((await store.latestVerified('prod'))?.locations.map((l) => l.kind)).toEqual(['local', 's3']);

    await store.markMissing('s3');
    expect((await store.latestVerified('prod'))?.id, 'a file removed outside the dashboard').toBe('s1');
    await store.markDeleted('s1', T0 + 200_000);
    expect(await store.latestVerified('prod'), 'retention removed the last one').toBeNull();
    expect(await store.get('prod', 's1')).toMatchObject({
      deletedAt: new Date(T0 + 200_000).toISOString(),
      locations: [],
    });
    expect(
      (await store.list('prod')).map((s) => s.id),
      'records are kept, newest first',
    ).toEqual(['s3', 's2', 's1']);
    expect(
      (await store.withFiles()).map((s) => s.id),
      'only s3 is missing, s1 deleted, s2 failed',
    ).toEqual([]);
  });

  it('the newest restore-tested snapshot is the newest whose test passed, whatever came after it', async () => {
    await store.insertVerified(attempt('a', T0), verified(T0 + 1000));
    await store.insertVerified(attempt('b', T0 + 10_000), verified(T0 + 11_000));
    await store.insertVerified(attempt('c', T0 + 20_000), verified(T0 + 21_000));
    expect(await store.latestRestoreTested('prod')).toBeNull();
    await store.setRestoreTest('a', restoreTest('passed', T0 + 30_000));
    await store.setRestoreTest('b', restoreTest('passed', T0 + 31_000));
    // A reason that reads like a pass is not one.
    await store.setRestoreTest('c', { ...restoreTest('failed', T0 + 32_000), reason: '"state":"passed"' });
    expect((await store.latestRestoreTested('prod'))?.id).toBe('b');
    // The fleet's read at start answers the same, one read for every cluster; c's look-alike reason sends it to the
    // cluster's own read, which skips c.
    const fleet = async () =>
      Object.fromEntries([...(await store.latestRestoreTestedOf(['prod', 'staging']))].map(([k, v]) => [k, v?.id]));
    expect(await fleet()).toEqual({ prod: 'b', staging: undefined });
    expect((await store.latestRestoreTested('prod'))?.id, 'its file gone, the test still passed').toBe('b');
    await store.setRestoreTest('b', restoreTest('failed', T0 + 41_000));
    expect((await store.latestRestoreTested('prod'))?.id).toBe('a');
    expect(await store.latestRestoreTested('staging')).toBeNull();
    await store.insertVerified({ ...attempt('s', T0 + 50_000), clusterId: 'staging' }, verified(T0 + 51_000));
    await store.setRestoreTest('s', restoreTest('passed', T0 + 52_000));
    expect(await fleet()).toEqual({ prod: 'a', staging: 's' });
  });

  it('restore tests a stopped dashboard left running or queued are marked interrupted, and only those', async () => {
    for (const [id, state] of [
      ['r', 'running'],
      ['q', 'queued'],
      ['p', 'passed'],
    ] as const) {
      await store.insertVerified(attempt(id, T0), verified(T0 + 1000));
      await store.setRestoreTest(id, restoreTest(state, T0 + 2000));
    }
    await store.insertVerified(attempt('none', T0), verified(T0 + 1000));
    expect((await store.interruptRestoreTests()).sort()).toEqual(['q', 'r']);
    expect((await store.get('prod', 'r'))?.restoreTest).toEqual({
      ...restoreTest('running', T0 + 2000),
      state: 'interrupted',
      reason: 'the dashboard stopped during the restore test',
    });
    expect((await store.get('prod', 'p'))?.restoreTest?.state).toBe('passed');
    expect((await store.get('prod', 'none'))?.restoreTest).toBeNull();
    expect(await store.interruptRestoreTests(), 'once').toEqual([]);
  });

  it('refuses what the schema refuses: an unknown status, a second row with the same id', async () => {
    await store.insert(attempt('s1', T0));
    await expect(store.insert(attempt('s1', T0))).rejects.toThrow();
    await expect(store.insert({ ...attempt('s2', T0), trigger: 'cron' as 'manual' })).rejects.toThrow();
  });

  describe('SnapshotRecords: what the status reads without the database', () => {
    it('loads each cluster’s newest verified and restore-tested snapshots at start, and follows every change', async () => {
      await store.insertVerified(attempt('old', T0), verified(T0 + 1000));
      await store.setRestoreTest('old', restoreTest('passed', T0 + 2000));
      await store.insertVerified(attempt('stg', T0, 'staging'), verified(T0 + 1000, true));
      await store.insert(attempt('gone', T0 + 5000));
      await store.fail('gone', 'no member', T0 + 6000);
      expect(records.latestVerified('prod'), 'before the load').toBeNull();
      await records.load(['prod', 'staging', 'empty']);
      expect(records.latestVerified('prod')?.id).toBe('old');
      expect(records.latestRestoreTested('prod')?.id).toBe('old');
      expect(records.latestVerified('staging')?.locations[0]?.kind).toBe('s3');
      expect(records.latestVerified('empty')).toBeNull();

      const running = await records.insert(attempt('new', T0 + 60_000));
      expect(records.latestVerified('prod')?.id, 'running is not verified').toBe('old');
      const done = records.succeed(running, verified(T0 + 61_000));
      expect(records.latestVerified('prod')?.id).toBe('new');
      records.setRestoreTest(done, restoreTest('queued', T0 + 62_000));
      expect(records.latestVerified('prod')?.restoreTest?.state).toBe('queued');
      expect(records.latestRestoreTested('prod')?.id, 'a test under way is not a pass').toBe('old');
      records.setRestoreTest(done, restoreTest('passed', T0 + 63_000));
      expect(records.latestRestoreTested('prod')?.id).toBe('new');
      records.markMissing(done);
      expect(records.latestVerified('prod')?.id).toBe('old');
      await records.flush();

      // A second process reading the same database agrees.
      const other = new SnapshotRecords(new SnapshotStore(await engine.reopen()));
      await other.load(['prod']);
      expect(other.latestVerified('prod')?.id).toBe('old');
      expect(other.latestRestoreTested('prod')?.id).toBe('new');
      expect((await other.get('prod', 'new'))?.missing).toBe(true);
    });

    it('a newest pass replaced by a failed re-test gives way to the pass before it, read back', async () => {
      await store.insertVerified(attempt('a', T0), verified(T0 + 1000));
      await store.setRestoreTest('a', restoreTest('passed', T0 + 2000));
      await store.insertVerified(attempt('b', T0 + 10_000), verified(T0 + 11_000));
      await store.setRestoreTest('b', restoreTest('passed', T0 + 12_000));
      await records.load(['prod']);
      const b = (await records.get('prod', 'b'))!;
      records.setRestoreTest(b, restoreTest('running', T0 + 20_000));
      expect(records.latestRestoreTested('prod'), 'the pass stands while it is re-tested').toMatchObject({
        id: 'b',
        restoreTest: { state: 'passed' },
      });
      records.setRestoreTest(b, restoreTest('failed', T0 + 21_000));
      await records.flush();
      await vi.waitFor(() => expect(records.latestRestoreTested('prod')?.id).toBe('a'));
    });

    describe('while the database refuses writes (PostgreSQL stopped)', () => {
      const postgresOnly = engine.name === 'PostgreSQL';

      it.runIf(postgresOnly)(
        'a snapshot verified meanwhile is answered as verified from memory, its writes retried in order until stored',
        async () => {
          await records.load(['prod']);
          const running = await records.insert(attempt('s1', T0));
          const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
          try {
            await engine.server!.kill();
            const done = records.succeed(running, verified(T0 + 1000));
            records.setLocations(done, [...done.locations, { kind: 's3', where: 's3://backups/prod/s1.db' }]);
            expect(records.latestVerified('prod')).toMatchObject({ id: 's1', verified: true });
            expect(records.pending('s1')).toBe(true);
            // The record and its keyspace are answered without the database.
            expect(await records.get('prod', 's1')).toMatchObject({ status: 'succeeded', verified: true });
            expect(await records.keyspace('prod', 's1')).toEqual(verified(0).keyspace);
            await vi.waitFor(() => expect(errors).toHaveBeenCalled());
            expect(String(errors.mock.calls[0]?.[0])).toMatch(
              /^snapshots: s1: storing its verification failed \(.+\); answered from memory, tried again$/,
            );

            await engine.server!.start();
            await records.flush();
            expect(records.pending('s1')).toBe(false);
            expect(await store.get('prod', 's1')).toMatchObject({
              status: 'succeeded',
              verified: true,
              locations: [
                { kind: 'local', where: `/data/snapshots/${T0 + 1000}.db` },
                { kind: 's3', where: 's3://backups/prod/s1.db' },
              ],
            });
            expect(errors.mock.calls.map((c) => String(c[0]))).toContain(
              'snapshots: s1: storing its verification: stored now',
            );
          } finally {
            errors.mockRestore();
          }
        },
        60_000,
      );
    });
  });
});
