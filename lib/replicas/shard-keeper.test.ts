import { afterEach, expect, it } from 'vitest';
import { describeOnEachEngine } from '@/test/support/store-engines';
import { until } from '@/test/support/poll';
import { LeaseStore, presenceName } from './lease-store';
import { ShardKeeper, type ShardKeeperOptions } from './shard-keeper';
import { clustersOwnedBy } from './shards';

/** This file's PostgreSQL server. */
const PG_PORT = 25925;

const CLUSTERS = Array.from({ length: 12 }, (_, i) => `tenant-${i + 1}`);
/** Short, so a replica’s death is noticed within a few seconds, and long enough for a loaded machine; rounds every ttl/3. */
const TTL = 2000;

type Wrap = <A extends unknown[], T>(f: (...a: A) => Promise<T>) => (...a: A) => Promise<T>;

/** The store's calls a ShardKeeper makes, each passed through `wrap` (a cut-off replica, a slow database). */
function through(store: LeaseStore, wrap: Wrap): ShardKeeperOptions['leases'] {
  return {
    tryAcquire: wrap(store.tryAcquire.bind(store)),
    tryAcquireAll: wrap(store.tryAcquireAll.bind(store)),
    release: wrap(store.release.bind(store)),
    releaseAll: wrap(store.releaseAll.bind(store)),
    liveHolders: wrap(store.liveHolders.bind(store)),
    renewAll: wrap(store.renewAll.bind(store)),
  };
}

interface Replica {
  id: string;
  keeper: ShardKeeper;
  /** Every call to the database fails while set: the replica is cut off (or frozen) as far as the others can tell. */
  cut: boolean;
  gained: string[];
  lost: string[];
}

describeOnEachEngine('ShardKeeper', PG_PORT, (engine) => {
  const replicas: Replica[] = [];

  afterEach(async () => {
    await Promise.allSettled(replicas.splice(0).map((r) => r.keeper.stop()));
  });

  /** A replica whose calls to the database go through the leases `leasesOf` gives it (wrappers around a store's). */
  function replicaOver(
    id: string,
    leasesOf: (r: Replica) => ShardKeeperOptions['leases'],
    extra: Partial<ShardKeeperOptions> = {},
  ): Replica {
    const r: Replica = { id, cut: false, gained: [], lost: [], keeper: undefined as unknown as ShardKeeper };
    r.keeper = new ShardKeeper({
      leases: leasesOf(r),
      replicaId: id,
      clusterIds: CLUSTERS,
      ttlMs: TTL,
      onGained: (c) => r.gained.push(c),
      onLost: (c) => r.lost.push(c),
      ...extra,
    });
    replicas.push(r);
    return r;
  }

  async function replica(id: string, extra: Partial<ShardKeeperOptions> = {}): Promise<Replica> {
    const store = new LeaseStore(await engine.connect(), engine.name === 'PostgreSQL' ? 'database' : () => Date.now());
    const guard =
      (r: Replica) =>
      <A extends unknown[], T>(f: (...a: A) => Promise<T>) =>
      (...a: A): Promise<T> =>
        r.cut ? Promise.reject(new Error(`replica ${id} is cut off from the database`)) : f(...a);
    return replicaOver(id, (r) => through(store, guard(r)), extra);
  }

  /** Who owns each cluster now, by this replica's own say. */
  const owners = (rs: readonly Replica[]) =>
    new Map(CLUSTERS.map((c) => [c, rs.filter((r) => r.keeper.owns(c)).map((r) => r.id)]));
  /** Every cluster owned by exactly the replica rendezvous hashing gives it among `live`. */
  const settledOn = (rs: readonly Replica[], live: readonly string[]) => {
    const now = owners(rs);
    return CLUSTERS.every((c) => {
      const expected = live.filter((id) => clustersOwnedBy(id, CLUSTERS, live).includes(c));
      return JSON.stringify(now.get(c)) === JSON.stringify(expected);
    });
  };

  /** Polls until `done`, and fails at once if any cluster is ever owned by two replicas on the way. */
  async function watch(rs: readonly Replica[], done: () => boolean, what: string): Promise<void> {
    const doubled: string[] = [];
    const ok = await until(
      () => {
        for (const [c, ids] of owners(rs)) if (ids.length > 1) doubled.push(`${c}: ${ids.join(' and ')}`);
        return done();
      },
      (v) => v || doubled.length > 0,
      15_000,
    );
    expect(doubled, `a cluster owned twice while ${what}`).toEqual([]);
    expect(ok, what).toBe(true);
  }

  it('splits the clusters among the live replicas, each polled by exactly one; moves a dead one’s and takes them back when it returns', async () => {
    const [a, b, c] = [await replica('replica-a'), await replica('replica-b'), await replica('replica-c')];
    await Promise.all([a, b, c].map((r) => r.keeper.start()));
    const all = [a, b, c];
    const ids = all.map((r) => r.id);
    await watch(all, () => settledOn(all, ids), 'three replicas split the clusters');
    // Every replica polls some of them, and every one knows all three.
    for (const r of all) expect(r.keeper.owned().length, r.id).toBeGreaterThan(0);
    for (const r of all) expect([...r.keeper.replicas()].sort()).toEqual(ids);
    // What each owns once settled is rendezvous hashing's answer (settledOn checked every replica's own say against
    // it); read from there, not from the replicas again, which a loaded machine may catch between two rounds.
    const ofA = clustersOwnedBy(a.id, CLUSTERS, ids);
    const before = new Map([b, c].map((r) => [r.id, clustersOwnedBy(r.id, CLUSTERS, ids).sort()]));

    // Replica a is cut off: it stops owning its clusters by its own clock before the others take them. (What it let go
    // while the three started together, asking before all were live, is not counted.)
    a.lost.length = 0;
    a.cut = true;
    await watch(all, () => settledOn(all, [b.id, c.id]), 'b and c take over what a polled');
    expect(a.keeper.owned()).toEqual([]);
    expect([...a.lost].sort()).toEqual([...ofA].sort());
    // Only a's clusters moved: b and c own what they had, and a's besides.
    for (const r of [b, c])
      expect(
        r.keeper
          .owned()
          .filter((id) => !ofA.includes(id))
          .sort(),
      ).toEqual(before.get(r.id));

    // It comes back: its clusters move back to it, and only those.
    a.cut = false;
    await watch(all, () => settledOn(all, ids), 'a back, the clusters split three ways again');
    expect(a.keeper.owned().sort()).toEqual([...ofA].sort());
    for (const r of [b, c]) expect(r.keeper.owned().sort()).toEqual(before.get(r.id));
  });

  it('replicas started together that join before asking each take only their own share, never another’s', async () => {
    const join = { joinBeforeAsking: true };
    const all = [await replica('replica-a', join), await replica('replica-b', join), await replica('replica-c', join)];
    const ids = all.map((r) => r.id);
    await Promise.all(all.map((r) => r.keeper.start()));
    // The first round asked for nothing.
    for (const r of all) expect(r.keeper.owned(), r.id).toEqual([]);
    await watch(all, () => settledOn(all, ids), 'three replicas split the clusters');
    // Nothing was gained that had to be handed over: each gained exactly its share, and lost nothing.
    for (const r of all) {
      expect([...r.gained].sort(), r.id).toEqual(clustersOwnedBy(r.id, CLUSTERS, ids).sort());
      expect(r.lost, r.id).toEqual([]);
    }
  });

  it('a replica whose rounds are slow (a loaded host) keeps its clusters, never losing and retaking them', async () => {
    const store = new LeaseStore(await engine.connect(), engine.name === 'PostgreSQL' ? 'database' : () => Date.now());
    // Reading the live replicas takes 4 s (every statement of a round a second late, on a host at load 6): a round
    // lasts longer than the clusters' ttl (3 s), so renewals made by the rounds, one after another, would come after
    // the clusters' own deadlines; they are made on their own every second.
    const TTL_SLOW = 3000;
    let lost = 0;
    const keeper = new ShardKeeper({
      leases: {
        ...through(store, (f) => f),
        liveHolders: async (prefix) => {
          await new Promise((r) => setTimeout(r, 4000));
          return store.liveHolders(prefix);
        },
      },
      replicaId: 'replica-slow',
      clusterIds: CLUSTERS,
      ttlMs: TTL_SLOW,
      onGained: () => undefined,
      onLost: () => void lost++,
    });
    try {
      await keeper.start();
      expect(keeper.owned().length).toBe(CLUSTERS.length);
      // Two slow rounds and more: every cluster stays owned throughout, and none was let go.
      const deadline = Date.now() + 9000;
      let fewest = CLUSTERS.length;
      while (Date.now() < deadline) {
        fewest = Math.min(fewest, keeper.owned().length);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect({ fewest, lost }).toEqual({ fewest: CLUSTERS.length, lost: 0 });
    } finally {
      await keeper.stop();
    }
  });

  it('a replica that stops lets its clusters go at once; a replica that joins takes its share', async () => {
    const [a, b] = [await replica('replica-a'), await replica('replica-b')];
    await Promise.all([a.keeper.start(), b.keeper.start()]);
    await watch([a, b], () => settledOn([a, b], [a.id, b.id]), 'two replicas split the clusters');

    await b.keeper.stop();
    expect(b.keeper.owned()).toEqual([]);
    // Its membership went with it: the others split the clusters without it from their next round on.
    const look = new LeaseStore(await engine.connect(), engine.name === 'PostgreSQL' ? 'database' : () => Date.now());
    expect((await look.liveHolders('replica:')).map((l) => l.holder)).toEqual(['replica-a']);
    expect((await look.liveHolders('cluster:')).map((l) => l.holder).filter((h) => h === 'replica-b')).toEqual([]);
    await watch([a, b], () => a.keeper.owned().length === CLUSTERS.length, 'a takes every cluster');

    const c = await replica('replica-c');
    await c.keeper.start();
    await watch([a, c], () => settledOn([a, c], [a.id, c.id]), 'c joins and takes its share');
    expect(c.keeper.owned().length).toBeGreaterThan(0);
    expect(c.gained.sort()).toEqual(c.keeper.owned().sort());
  });

  it('the clusters of a replica that dies are free when it drops out: the first round that finds it gone takes them', async () => {
    const connect = async () =>
      new LeaseStore(await engine.connect(), engine.name === 'PostgreSQL' ? 'database' : () => Date.now());
    const [storeA, storeB] = [await connect(), await connect()];
    // Replica a's last round is slow to renew its clusters (a busy database, a process about to freeze) and then it
    // dies: nothing of it reaches the database any more.
    let dying = false;
    let dead = false;
    let lastRoundCalls = 0;
    const a = new ShardKeeper({
      leases: {
        ...through(
          storeA,
          (f) =>
            (...args) =>
              dead ? Promise.reject(new Error('replica-a is dead')) : f(...args),
        ),
        renewAll: async (...args) => {
          if (dead) throw new Error('replica-a is dead');
          if (dying) await new Promise((r) => setTimeout(r, TTL / 3 + 100));
          const rows = await storeA.renewAll(...args);
          if (dying && ++lastRoundCalls === 2) dead = true;
          return rows;
        },
        tryAcquire: async (...args) => {
          if (dead) throw new Error('replica-a is dead');
          const got = await storeA.tryAcquire(...args);
          if (dying && args[0] === 'replica:replica-a' && ++lastRoundCalls === 2) dead = true;
          return got;
        },
      },
      replicaId: 'replica-a',
      clusterIds: CLUSTERS,
      ttlMs: TTL,
      onGained: () => undefined,
      onLost: () => undefined,
    });
    // What replica b asked for in the first round that found a gone, and what it got.
    let foundGone = false;
    let firstAsk: { asked: number; got: number } | null = null;
    const b = new ShardKeeper({
      leases: {
        ...through(storeB, (f) => f),
        liveHolders: async (prefix) => {
          const live = await storeB.liveHolders(prefix);
          if (prefix === 'replica:' && dying && !live.some((l) => l.holder === 'replica-a')) foundGone = true;
          return live;
        },
        tryAcquireAll: async (names, holder, ttl) => {
          const got = await storeB.tryAcquireAll(names, holder, ttl);
          if (foundGone && firstAsk === null) firstAsk = { asked: names.length, got: got.length };
          return got;
        },
      },
      replicaId: 'replica-b',
      clusterIds: CLUSTERS,
      ttlMs: TTL,
      onGained: () => undefined,
      onLost: () => undefined,
    });
    try {
      await Promise.all([a.start(), b.start()]);
      const both = [
        { id: 'replica-a', keeper: a },
        { id: 'replica-b', keeper: b },
      ] as unknown as Replica[];
      await watch(both, () => settledOn(both, ['replica-a', 'replica-b']), 'two replicas split the clusters');
      const ofA = clustersOwnedBy('replica-a', CLUSTERS, ['replica-a', 'replica-b']);
      dying = true;
      await watch(both, () => b.owned().length === CLUSTERS.length, 'b takes every cluster');
      // Its membership lease ran out after its clusters' leases, however slow its last renewal: b's first round
      // without it asked for all of a's clusters and got them.
      expect(firstAsk).toEqual({ asked: ofA.length, got: ofA.length });
    } finally {
      dead = true;
      await Promise.allSettled([a.stop(), b.stop()]);
    }
  });

  if (engine.name === 'PostgreSQL') {
    it('a replica whose process died (its sessions gone) is not waited out: its clusters move before its leases would run out', async () => {
      const LONG_TTL = 6000; // the dashboard's own: rounds every 2 s
      const named = async (id: string) => {
        const db = await engine.connect({ applicationName: presenceName(id) });
        return { db, store: new LeaseStore(db, 'database') };
      };
      const [a, b] = [await named('replica-a'), await named('replica-b')];
      let lastRenewalSentAt = 0;
      const keeperA = new ShardKeeper({
        leases: {
          ...through(a.store, (f) => f),
          renewAll: async (...args) => {
            const sentAt = Date.now();
            const rows = await a.store.renewAll(...args);
            lastRenewalSentAt = sentAt;
            return rows;
          },
          expireDeparted: a.store.expireDeparted.bind(a.store),
        },
        replicaId: 'replica-a',
        clusterIds: CLUSTERS,
        ttlMs: LONG_TTL,
        onGained: () => undefined,
        onLost: () => undefined,
      });
      const keeperB = new ShardKeeper({
        leases: { ...through(b.store, (f) => f), expireDeparted: b.store.expireDeparted.bind(b.store) },
        replicaId: 'replica-b',
        clusterIds: CLUSTERS,
        ttlMs: LONG_TTL,
        onGained: () => undefined,
        onLost: () => undefined,
      });
      try {
        await Promise.all([keeperA.start(), keeperB.start()]);
        const both = [
          { id: 'replica-a', keeper: keeperA },
          { id: 'replica-b', keeper: keeperB },
        ] as unknown as Replica[];
        await watch(both, () => settledOn(both, ['replica-a', 'replica-b']), 'two replicas split the clusters');
        // Replica a dies: its connections close with it (what SIGKILL does), and nothing of it reaches the database.
        await a.db.destroy();
        const diedAt = Date.now();
        const tookAll = await until(
          () => (keeperB.owned().length === CLUSTERS.length ? Date.now() : null),
          (t) => t !== null,
          15_000,
        );
        expect(tookAll, 'b takes every cluster').not.toBeNull();
        // Before a's leases would have run out (ttl after its last renewal was sent): a was not waited out.
        const leasesRanOutAt = lastRenewalSentAt + LONG_TTL;
        expect(tookAll as number, `took all ${(tookAll as number) - diedAt} ms after the death`).toBeLessThan(
          leasesRanOutAt,
        );
      } finally {
        await Promise.allSettled([keeperA.stop(), keeperB.stop()]);
      }
    });
  }

  it('clusters granted while a renewal is under way are kept: the renewal ran before the grant, its answer came after', async () => {
    const store = new LeaseStore(await engine.connect(), engine.name === 'PostgreSQL' ? 'database' : () => Date.now());
    // The race, made to happen: the round's ask waits until a renewal sent after it has run in the database (so that
    // renewal cannot list what the ask takes), and that renewal's answer is held back until the grant is in.
    let asked = false;
    let renewalSentAfterAsk = false;
    let renewalRan: () => void = () => undefined;
    const renewalHasRun = new Promise<void>((resolve) => (renewalRan = resolve));
    let racedRenewalAnswered = false;
    const r: Replica = replicaOver('replica-a', () => ({
      ...through(store, (f) => f),
      tryAcquireAll: async (...args) => {
        if (!asked) {
          asked = true;
          renewalSentAfterAsk = true;
          await renewalHasRun;
        }
        return store.tryAcquireAll(...args);
      },
      renewAll: async (...args) => {
        const racing = renewalSentAfterAsk;
        renewalSentAfterAsk = false;
        const rows = await store.renewAll(...args);
        if (racing) {
          renewalRan();
          await until(
            () => r.keeper.owned().length,
            (n) => n === CLUSTERS.length,
            5_000,
          );
          racedRenewalAnswered = true;
        }
        return rows;
      },
    }));
    await r.keeper.start();
    expect(
      await until(
        () => racedRenewalAnswered,
        (v) => v,
        10_000,
      ),
      'the race happened',
    ).toBe(true);
    // The renewal's answer did not list them; they were granted after it was sent, so none is lost, then or later.
    await new Promise((resolve) => setTimeout(resolve, TTL));
    expect({ lost: r.lost, owned: r.keeper.owned().length }).toEqual({ lost: [], owned: CLUSTERS.length });
  });

  it('rounds every roundEveryMs, renewals every everyMs; a replica joining before asking asks a renewal period after it starts', async () => {
    const store = new LeaseStore(await engine.connect(), engine.name === 'PostgreSQL' ? 'database' : () => Date.now());
    const calls = { rounds: 0, renewals: 0, firstAskAfterMs: null as number | null };
    const t0 = performance.now();
    const r: Replica = replicaOver(
      'replica-a',
      () => ({
        ...through(store, (f) => f),
        liveHolders: (...args) => (calls.rounds++, store.liveHolders(...args)),
        renewAll: (...args) => (calls.renewals++, store.renewAll(...args)),
        tryAcquireAll: (...args) => {
          calls.firstAskAfterMs ??= performance.now() - t0;
          return store.tryAcquireAll(...args);
        },
      }),
      { ttlMs: 3000, everyMs: 1000, roundEveryMs: 250, joinBeforeAsking: true },
    );
    await r.keeper.start();
    await until(
      () => r.keeper.owned().length,
      (n) => n === CLUSTERS.length,
      5_000,
    );
    const start = { ...calls };
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // Over 3 s: about 12 rounds and 3 renewals (a loaded machine may run a few late, none early).
    expect({ rounds: calls.rounds - start.rounds >= 8, renewals: calls.renewals - start.renewals }).toEqual({
      rounds: true,
      renewals: expect.toSatisfy((n: number) => n >= 2 && n <= 4) as number,
    });
    // Joining, it waited a renewal period (four rounds), so that replicas started together see each other first.
    expect(calls.firstAskAfterMs).toBeGreaterThanOrEqual(1000);
    expect({ lost: r.lost, owned: r.keeper.owned().length }).toEqual({ lost: [], owned: CLUSTERS.length });
  });

  it('a replica taking up a fleet holds every cluster after its first round, however slow the database answers', async () => {
    const fleet = Array.from({ length: 600 }, (_, i) => `fleet-${i}`);
    const store = new LeaseStore(await engine.connect(), engine.name === 'PostgreSQL' ? 'database' : () => Date.now());
    // Every call 20 ms late (a busy replica, a distant database): asked one by one, 600 clusters would take 12 s, and
    // the first would expire (ttl 2 s) before the last was held.
    const slow =
      <A extends unknown[], T>(f: (...a: A) => Promise<T>) =>
      async (...a: A): Promise<T> => {
        await new Promise((r) => setTimeout(r, 20));
        return f(...a);
      };
    const gained: string[] = [];
    const keeper = new ShardKeeper({
      leases: through(store, slow),
      replicaId: 'replica-fleet',
      clusterIds: fleet,
      ttlMs: TTL,
      onGained: (c) => gained.push(c),
      onLost: () => undefined,
    });
    try {
      await keeper.start();
      expect(keeper.owned().length).toBe(fleet.length);
      expect(gained.sort()).toEqual([...fleet].sort());
    } finally {
      await keeper.stop();
    }
  });
});
