import type { Kysely } from 'kysely';
import { beforeEach, expect, it } from 'vitest';
import type { StoreSchema } from '@/lib/db/schema';
import { describeOnEachEngine, type StoreEngine } from '@/test/support/store-engines';
import { until } from '@/test/support/poll';
import { LeaseKeeper } from './lease-keeper';
import { LeaseLost, LeaseStore, presenceName, type LeaseClock } from './lease-store';
import { clustersOwnedBy, liveReplicas, membershipLease } from './shards';

/** This file's PostgreSQL server. */
const PG_PORT = 25922;

const T0 = Date.UTC(2026, 11, 6, 1, 2, 3);
const TTL = 10_000;

/** A second replica's connection: another pool on PostgreSQL; on SQLite (one process, one connection) the same. */
async function secondConnection(engine: StoreEngine): Promise<Kysely<StoreSchema>> {
  return engine.name === 'PostgreSQL' ? engine.reopen() : engine.db;
}

describeOnEachEngine('LeaseStore', PG_PORT, (engine) => {
  let time = T0;
  const clock = () => time;
  let first: Kysely<StoreSchema>;
  let second: Kysely<StoreSchema>;
  let a: LeaseStore;
  let b: LeaseStore;

  beforeEach(async () => {
    time = T0;
    first = engine.db;
    a = new LeaseStore(first, clock);
    second = await secondConnection(engine);
    b = new LeaseStore(second, clock);
  });

  it('is held by one replica at a time; the other takes it over once it expired, with the next generation', async () => {
    expect(await a.tryAcquire('leader', 'replica-a', TTL)).toEqual({ held: true, generation: 1, expiresAt: T0 + TTL });
    expect(await b.tryAcquire('leader', 'replica-b', TTL)).toEqual({
      held: false,
      holder: 'replica-a',
      expiresAt: T0 + TTL,
    });

    time = T0 + TTL - 1;
    expect((await b.tryAcquire('leader', 'replica-b', TTL)).held).toBe(false);
    time = T0 + TTL;
    expect(await b.tryAcquire('leader', 'replica-b', TTL)).toEqual({
      held: true,
      generation: 2,
      expiresAt: T0 + 2 * TTL,
    });
    expect(await a.tryAcquire('leader', 'replica-a', TTL)).toEqual({
      held: false,
      holder: 'replica-b',
      expiresAt: T0 + 2 * TTL,
    });
  });

  it('a renewal keeps the generation and moves the expiry; taking it again after it expired starts a new one', async () => {
    await a.tryAcquire('leader', 'replica-a', TTL);
    time = T0 + TTL - 1;
    expect(await a.tryAcquire('leader', 'replica-a', TTL)).toEqual({
      held: true,
      generation: 1,
      expiresAt: T0 + 2 * TTL - 1,
    });
    time = T0 + 2 * TTL - 1;
    expect(await a.tryAcquire('leader', 'replica-a', TTL)).toMatchObject({ held: true, generation: 2 });
  });

  it('takes many in one statement: the free, the expired and its own; never another’s live one', async () => {
    await a.tryAcquire('cluster:mine', 'replica-a', TTL);
    await b.tryAcquire('cluster:theirs', 'replica-b', TTL);
    await b.tryAcquire('cluster:lapsed', 'replica-b', TTL / 2);
    time = T0 + TTL / 2;
    const names = ['cluster:free', 'cluster:mine', 'cluster:theirs', 'cluster:lapsed'];
    const got = await a.tryAcquireAll(names, 'replica-a', TTL);
    expect(got.sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { name: 'cluster:free', generation: 1, expiresAt: T0 + TTL / 2 + TTL },
      { name: 'cluster:lapsed', generation: 2, expiresAt: T0 + TTL / 2 + TTL },
      { name: 'cluster:mine', generation: 1, expiresAt: T0 + TTL / 2 + TTL },
    ]);
    expect(await b.tryAcquire('cluster:free', 'replica-b', TTL)).toMatchObject({ held: false, holder: 'replica-a' });
    expect(await b.tryAcquire('cluster:theirs', 'replica-b', TTL)).toMatchObject({ held: true, generation: 1 });
    expect(await a.tryAcquireAll([], 'replica-a', TTL)).toEqual([]);
  });

  it('a release lets another take it at once, but only by the tenure that holds it', async () => {
    await a.tryAcquire('leader', 'replica-a', TTL);
    expect(await b.release('leader', 'replica-b', 1)).toBe(false);
    expect(await a.release('leader', 'replica-a', 2)).toBe(false);
    expect((await b.tryAcquire('leader', 'replica-b', TTL)).held).toBe(false);

    expect(await a.release('leader', 'replica-a', 1)).toBe(true);
    expect(await b.tryAcquire('leader', 'replica-b', TTL)).toMatchObject({ held: true, generation: 2 });
    // The old tenure's release must not end the new one.
    expect(await a.release('leader', 'replica-a', 1)).toBe(false);
    expect((await a.tryAcquire('leader', 'replica-a', TTL)).held).toBe(false);
  });

  it('releases many in one statement, only the tenures named: another takes those at once', async () => {
    for (const name of ['cluster:1', 'cluster:2', 'cluster:3']) await a.tryAcquire(name, 'replica-a', TTL);
    const ended = await a.releaseAll(
      [
        { name: 'cluster:1', generation: 1 },
        { name: 'cluster:2', generation: 1 },
        { name: 'cluster:3', generation: 7 }, // not its tenure: kept
      ],
      'replica-a',
    );
    expect(ended).toBe(2);
    const got = await b.tryAcquireAll(['cluster:1', 'cluster:2', 'cluster:3'], 'replica-b', TTL);
    expect(got.map((g) => g.name).sort()).toEqual(['cluster:1', 'cluster:2']);
  });

  it('refuses a fenced write of a stale generation after a takeover, and stores the holder’s', async () => {
    const writeMeta = (store: LeaseStore, db: Kysely<StoreSchema>, generation: number, value: number) =>
      db.transaction().execute(async (trx) => {
        await store.assertHolding(trx, 'leader', generation);
        await trx
          .insertInto('meta')
          .values({ key: 'fenced', value })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
          .execute();
      });
    const dbA = engine.db;
    await a.tryAcquire('leader', 'replica-a', TTL);
    await writeMeta(a, dbA, 1, 1);

    time = T0 + TTL; // replica-a paused past its lease; replica-b takes over
    await expect(writeMeta(a, dbA, 1, 99)).rejects.toBeInstanceOf(LeaseLost);
    await b.tryAcquire('leader', 'replica-b', TTL);
    await expect(writeMeta(a, dbA, 1, 99)).rejects.toThrow(/lease leader: generation 1 no longer holds it/);
    await writeMeta(b, dbA, 2, 2);
    await expect(writeMeta(b, dbA, 3, 3)).rejects.toBeInstanceOf(LeaseLost);
    await expect(writeMeta(a, dbA, 1, 1)).rejects.toBeInstanceOf(LeaseLost);

    const row = await dbA.selectFrom('meta').select('value').where('key', '=', 'fenced').executeTakeFirst();
    expect(row?.value).toBe(2);
  });

  it('lists the live holders of a prefix and forgets the long-expired ones', async () => {
    await a.tryAcquire('replica:a', 'a', TTL);
    await b.tryAcquire('replica:b', 'b', 2 * TTL);
    await a.tryAcquire('leader', 'a', TTL);
    await a.tryAcquire('REPLICA:c', 'c', TTL);
    expect(await b.liveHolders('replica:')).toEqual([
      { name: 'replica:a', holder: 'a' },
      { name: 'replica:b', holder: 'b' },
    ]);
    time = T0 + TTL;
    expect(await b.liveHolders('replica:')).toEqual([{ name: 'replica:b', holder: 'b' }]);
    expect(await b.forgetExpired('replica:', TTL)).toBe(0);
    time = T0 + 2 * TTL + 1;
    expect(await b.forgetExpired('replica:', TTL)).toBe(1);
    expect(await b.liveHolders('replica:')).toEqual([]);
    expect((await a.tryAcquire('leader', 'b', TTL)).held).toBe(true);
  });

  /** The clock the dashboard runs the engine with: PostgreSQL's own, or this process's. */
  const realClock = (): LeaseClock => (engine.name === 'PostgreSQL' ? 'database' : Date.now);

  it('LeaseKeeper: one of two replicas leads; when it stops, the other leads with the next generation', async () => {
    const events: string[] = [];
    const keeper = (store: LeaseStore, id: string) =>
      new LeaseKeeper({
        store,
        name: 'leader',
        holder: id,
        ttlMs: 3000,
        renewEveryMs: 100,
        onGained: (g) => events.push(`${id} gained ${g}`),
        onLost: (g, why) => events.push(`${id} lost ${g} (${why})`),
      });
    const ka = keeper(new LeaseStore(engine.db, realClock()), 'a');
    const kb = keeper(new LeaseStore(await secondConnection(engine), realClock()), 'b');
    ka.start();
    expect(await until(() => ka.isLeader(), Boolean, 5000)).toBe(true);
    kb.start();
    await new Promise((r) => setTimeout(r, 400)); // b asks a few times meanwhile
    expect([ka.isLeader(), kb.isLeader(), ka.generation()]).toEqual([true, false, 1]);

    await ka.stop();
    expect(ka.isLeader()).toBe(false);
    // Released, not waited out: b takes it at its next try, long before the 3 s ttl.
    expect(await until(() => kb.isLeader(), Boolean, 1000)).toBe(true);
    expect(kb.generation()).toBe(2);
    await kb.stop();
    expect(events).toEqual(['a gained 1', 'a lost 1 (stopped)', 'b gained 2', 'b lost 2 (stopped)']);
  });

  it('shards: three replicas split the clusters; when one stops renewing, only its clusters move', async () => {
    const clusters = Array.from({ length: 30 }, (_, i) => `cluster-${i}`);
    const ids = ['r1', 'r2', 'r3'];
    const stores = [new LeaseStore(engine.db, clock), b, new LeaseStore(await secondConnection(engine), clock)];
    const heartbeat = () => Promise.all(ids.map((id, i) => stores[i]?.tryAcquire(membershipLease(id), id, TTL)));
    await heartbeat();
    const owned = async (store: LeaseStore) => {
      const live = await liveReplicas(store);
      return new Map(ids.map((id) => [id, clustersOwnedBy(id, clusters, live)]));
    };
    const before = await owned(b);
    expect([...before.values()].flat().sort()).toEqual([...clusters].sort());
    expect([...before.values()].every((c) => c.length > 0)).toBe(true);
    expect(await owned(a)).toEqual(before);

    time = T0 + TTL / 2;
    await stores[0]?.tryAcquire(membershipLease('r1'), 'r1', TTL);
    await stores[2]?.tryAcquire(membershipLease('r3'), 'r3', TTL);
    time = T0 + TTL; // r2 missed its renewals
    const after = await owned(a);
    expect(after.get('r2')).toEqual([]);
    expect(after.get('r1')).toEqual(expect.arrayContaining(before.get('r1') ?? []));
    expect(after.get('r3')).toEqual(expect.arrayContaining(before.get('r3') ?? []));
    expect([...after.values()].flat().sort()).toEqual([...clusters].sort());
  });

  if (engine.name === 'PostgreSQL') {
    it('a takeover waits for a fenced transaction under way, so none of its writes lands after the takeover', async () => {
      await a.tryAcquire('leader', 'replica-a', TTL);
      let finish: () => void = () => undefined;
      const slowWork = new Promise<void>((r) => (finish = r));
      let fenced = false;
      const order: string[] = [];
      const work = first.transaction().execute(async (trx) => {
        await a.assertHolding(trx, 'leader', 1);
        fenced = true;
        await slowWork;
        await trx.insertInto('meta').values({ key: 'fenced', value: 1 }).execute();
      });
      await until(() => fenced, Boolean, 5000);
      time = T0 + TTL; // a's lease has expired; b tries to take over on its own connection
      // What the database holds when the takeover is answered: the fenced write, committed before the lease moved.
      const takeover = b.tryAcquire('leader', 'replica-b', TTL).then(async (r) => {
        const row = await second.selectFrom('meta').select('key').where('key', '=', 'fenced').executeTakeFirst();
        order.push(row ? 'takeover after the work committed' : 'takeover before the work committed');
        return r;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(order).toEqual([]);
      finish();
      await work;
      expect(await takeover).toMatchObject({ held: true, generation: 2 });
      expect(order).toEqual(['takeover after the work committed']);
    });

    it('the holder’s fenced writes go on side by side, and never hold up its renewal', async () => {
      await a.tryAcquire('leader', 'replica-a', TTL);
      let finish: () => void = () => undefined;
      const slowWork = new Promise<void>((r) => (finish = r));
      let firstFenced = false;
      const work = first.transaction().execute(async (trx) => {
        await a.assertHolding(trx, 'leader', 1);
        firstFenced = true;
        await slowWork;
        await trx.insertInto('meta').values({ key: 'first', value: 1 }).execute();
      });
      await until(() => firstFenced, Boolean, 5000);
      const other = new LeaseStore(second, clock);
      let renewal: Promise<unknown> = Promise.resolve();
      try {
        // Another of the leader's writes, on another connection, while the first is open: fenced and stored at once.
        let secondStored = false;
        const next = second
          .transaction()
          .execute(async (trx) => {
            await other.assertHolding(trx, 'leader', 1);
            await trx.insertInto('meta').values({ key: 'second', value: 1 }).execute();
          })
          .then(() => (secondStored = true));
        expect(await until(() => secondStored, Boolean, 5000)).toBe(true);
        await next;
        // The renewal is answered while the first write is still open: a renewal that waited for the fenced writes
        // under way was starved by a steady stream of them (new share locks are let in while an UPDATE waits), and the
        // leader lost its lease to its own consistency checks.
        let renewed = false;
        renewal = other.tryAcquire('leader', 'replica-a', TTL).then((r) => ((renewed = true), r));
        expect(await until(() => renewed, Boolean, 5000)).toBe(true);
        expect(await renewal).toMatchObject({ held: true, generation: 1 });
      } finally {
        finish(); // a failed expectation must not leave the first transaction open
      }
      await work;
      expect(await renewal).toMatchObject({ held: true, generation: 1 });
    });

    it('a replica not leading asks without queueing behind the leader’s fenced write; once it expired, takes it after', async () => {
      await a.tryAcquire('leader', 'replica-a', TTL);
      let finish: () => void = () => undefined;
      const slowWork = new Promise<void>((r) => (finish = r));
      let fenced = false;
      const work = first.transaction().execute(async (trx) => {
        await a.assertHolding(trx, 'leader', 1);
        fenced = true;
        await slowWork;
      });
      await until(() => fenced, Boolean, 5000);
      // The lease row is locked by the fenced transaction: b's ask is answered at once, from a plain read.
      let answered = false;
      const ask = b.tryAcquireIfFree('leader', 'replica-b', TTL).then((r) => ((answered = true), r));
      expect(await until(() => answered, Boolean, 5000)).toBe(true);
      expect(await ask).toMatchObject({ held: false, holder: 'replica-a' });
      // Expired: it asks in earnest, and so waits for the fenced write under way, as any takeover does.
      time = T0 + TTL;
      const takeover = b.tryAcquireIfFree('leader', 'replica-b', TTL);
      finish();
      await work;
      expect(await takeover).toMatchObject({ held: true, generation: 2 });
    });

    it('a holder with no session left and a round overdue loses every lease at once; one still connected keeps them', async () => {
      const named = async (id: string, urlQuery?: string) => {
        const db = await engine.connect({ applicationName: presenceName(id), ...(urlQuery ? { urlQuery } : {}) });
        return { db, store: new LeaseStore(db, 'database') };
      };
      // b's DATABASE_URL names an application of its own: its sessions still carry its presence name.
      const [dying, alive, watcher] = [
        await named('replica-a'),
        await named('replica-b', '?application_name=ops-dashboard'),
        await named('replica-w'),
      ];
      for (const name of ['replica:replica-a', 'cluster:x', 'leader'])
        expect((await dying.store.tryAcquire(name, 'replica-a', TTL)).held).toBe(true);
      for (const name of ['replica:replica-b', 'cluster:y'])
        expect((await alive.store.tryAcquire(name, 'replica-b', TTL)).held).toBe(true);
      const OVERDUE = 1000;
      // Replica c renews every round but no session of its own is seen (one reconnecting): never taken for gone.
      const renewC = () => watcher.store.tryAcquire('replica:replica-c', 'replica-c', TTL);
      await renewC();
      // All just renewed: nothing ends, whoever is connected.
      expect(await watcher.store.expireDeparted('replica:', TTL, OVERDUE, 'replica-w')).toEqual([]);
      // Replica a's process ends (its connections with it); b goes on, connected, but renews no more.
      await dying.db.destroy();
      // Once a's membership is a round overdue its leases end (asked again until then: within a few seconds).
      let ended: string[] = [];
      const deadline = Date.now() + 8000;
      while (ended.length === 0 && Date.now() < deadline) {
        await renewC();
        ended = await watcher.store.expireDeparted('replica:', TTL, OVERDUE, 'replica-w');
        if (ended.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ended).toEqual(['replica-a']);
      // Taken at once, long before the ttl (10 s) ran out, each with the next generation.
      expect(await watcher.store.tryAcquire('cluster:x', 'replica-w', TTL)).toMatchObject({
        held: true,
        generation: 2,
      });
      expect(await watcher.store.tryAcquire('leader', 'replica-w', TTL)).toMatchObject({ held: true, generation: 2 });
      // b is as overdue, but its sessions are open (slow, not dead): it keeps what it holds.
      await renewC();
      expect(await watcher.store.expireDeparted('replica:', TTL, OVERDUE, 'replica-w')).toEqual([]);
      expect(await watcher.store.tryAcquire('cluster:y', 'replica-w', TTL)).toMatchObject({
        held: false,
        holder: 'replica-b',
      });
      // Behind a pooler that does not pass application_name on, a replica sees no session of its own: it takes no one
      // for gone, however long one has been overdue; a replica that sees its own does.
      const blind = new LeaseStore(await engine.connect(), 'database');
      const d = await named('replica-d');
      expect((await d.store.tryAcquire('replica:replica-d', 'replica-d', TTL)).held).toBe(true);
      await d.db.destroy();
      const overdueAt = Date.now() + OVERDUE + 300;
      while (Date.now() < overdueAt) {
        await renewC();
        expect(await blind.expireDeparted('replica:', TTL, OVERDUE, 'replica-blind')).toEqual([]);
        await new Promise((r) => setTimeout(r, 100));
      }
      await renewC();
      expect(await blind.expireDeparted('replica:', TTL, OVERDUE, 'replica-blind')).toEqual([]);
      expect(await watcher.store.expireDeparted('replica:', TTL, OVERDUE, 'replica-w')).toEqual(['replica-d']);
    });

    it('LeaseKeeper: steps down within the ttl when PostgreSQL is gone, and leads again when it is back', async () => {
      const server = engine.server;
      if (!server) throw new Error('no server');
      const TTL_MS = 1500;
      const events: string[] = [];
      const k = new LeaseKeeper({
        store: new LeaseStore(engine.db, 'database'),
        name: 'leader',
        holder: 'a',
        ttlMs: TTL_MS,
        onGained: (g) => events.push(`gained ${g}`),
        onLost: (g, why) => events.push(`lost ${g} (${why})`),
      });
      k.start();
      try {
        expect(await until(() => k.isLeader(), Boolean, 5000)).toBe(true);
        const killedAt = performance.now();
        await server.kill();
        expect(
          await until(
            () => k.isLeader(),
            (v) => !v,
            5000,
          ),
        ).toBe(false);
        // The last renewal that succeeded was sent before the kill: its ttl ends before killedAt + ttl.
        expect(performance.now() - killedAt).toBeLessThan(TTL_MS + 150);
        expect(events).toEqual(['gained 1', 'lost 1 (expired)']);

        await server.start();
        expect(await until(() => k.isLeader(), Boolean, 20_000)).toBe(true);
        // Its lease expired in the database meanwhile: a new tenure.
        expect(k.generation()).toBe(2);
        expect(events).toEqual(['gained 1', 'lost 1 (expired)', 'gained 2']);
      } finally {
        await k.stop();
      }
    });

    it('gives it to exactly one of many replicas asking at once, on the database’s clock', async () => {
      const stores: LeaseStore[] = [];
      for (let i = 0; i < 8; i++) stores.push(new LeaseStore(await engine.reopen(), 'database'));
      for (let round = 0; round < 5; round++) {
        const name = `leader-${round}`;
        const answers = await Promise.all(stores.map((s, i) => s.tryAcquire(name, `replica-${i}`, TTL)));
        const holders = answers.flatMap((r, i) => (r.held ? [`replica-${i}`] : []));
        expect(holders).toHaveLength(1);
        const losers = answers.filter((r) => !r.held);
        expect(losers.every((r) => !r.held && r.holder === holders[0])).toBe(true);
        const held = answers.find((r) => r.held);
        expect(held?.generation).toBe(1);
        // The database's clock: the expiry is about now + TTL on this machine's clock too.
        expect(Math.abs((held?.expiresAt ?? 0) - (Date.now() + TTL))).toBeLessThan(2000);
      }
    });

    it('on the database’s clock, a short lease expires by itself and the next holder gets the next generation', async () => {
      const x = new LeaseStore(engine.db, 'database');
      const y = new LeaseStore(await engine.reopen(), 'database');
      expect(await x.tryAcquire('leader', 'x', 300)).toMatchObject({ held: true, generation: 1 });
      expect((await y.tryAcquire('leader', 'y', 300)).held).toBe(false);
      const deadline = Date.now() + 5000;
      let r = await y.tryAcquire('leader', 'y', 300);
      while (!r.held && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        r = await y.tryAcquire('leader', 'y', 300);
      }
      expect(r).toMatchObject({ held: true, generation: 2 });
    });
  }
});
