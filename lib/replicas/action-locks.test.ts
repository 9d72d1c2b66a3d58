import { expect, it } from 'vitest';
import { describeOnEachEngine } from '@/test/support/store-engines';
import { until } from '@/test/support/poll';
import { ClusterActionLocks } from './action-locks';
import { LeaseStore } from './lease-store';

/** This file's PostgreSQL server. */
const PG_PORT = 25927;

describeOnEachEngine('ClusterActionLocks', PG_PORT, (engine) => {
  const replica = async (id: string, ttlMs = 30_000) =>
    new ClusterActionLocks(
      new LeaseStore(await engine.connect(), engine.name === 'PostgreSQL' ? 'database' : () => Date.now()),
      id,
      ttlMs,
    );

  it('one run at a time per cluster, across replicas; the refusal names the run and its replica; released, it is free', async () => {
    const [a, b] = [await replica('replica-a'), await replica('replica-b')];
    const snapshot = await a.hold('prod', 'snapshot', 'snap-1');
    expect(snapshot.held).toBe(true);
    expect(await b.hold('prod', 'maintenance', 'run-1')).toEqual({
      held: false,
      by: { replicaId: 'replica-a', kind: 'snapshot', runId: 'snap-1' },
    });
    // Another action on the same replica is refused too: the holder is the run, not the replica.
    expect((await a.hold('prod', 'maintenance', 'run-2')).held).toBe(false);
    // Another cluster is free.
    const other = await b.hold('staging', 'maintenance', 'run-3');
    expect(other.held).toBe(true);
    expect((await b.live()).map((h) => `${h.replicaId} ${h.kind} ${h.runId}`).sort()).toEqual([
      'replica-a snapshot snap-1',
      'replica-b maintenance run-3',
    ]);

    if (snapshot.held) await snapshot.release();
    const next = await b.hold('prod', 'maintenance', 'run-1');
    expect(next.held).toBe(true);
    expect((await a.live()).map((h) => h.runId).sort()).toEqual(['run-1', 'run-3']);
    if (next.held) await next.release();
    if (other.held) await other.release();
    expect(await a.live()).toEqual([]);
  });

  it('a run keeps the cluster past its ttl while it renews, and frees it at once when released', async () => {
    const ttl = 600;
    const [a, b] = [await replica('replica-a', ttl), await replica('replica-b', ttl)];
    const held = await a.hold('prod', 'snapshot', 'long-one');
    expect(held.held).toBe(true);
    // Three ttls later it is still held: renewed every ttl/3.
    const until3 = Date.now() + 3 * ttl;
    const refusals = await until(
      async () => (await b.hold('prod', 'maintenance', 'run-x')).held,
      (h) => h || Date.now() >= until3,
      3 * ttl + 1000,
    );
    expect(refusals).toBe(false);
    // Released: taken at once.
    if (held.held) await held.release();
    const taken = await b.hold('prod', 'maintenance', 'run-x');
    expect(taken.held).toBe(true);
  });
});
