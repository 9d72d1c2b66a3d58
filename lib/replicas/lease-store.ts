// Named leases in the shared store, each with a generation that fences the writes of a holder whose tenure ended.
import 'server-only';
import { createHash } from 'node:crypto';
import { PostgresAdapter, sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { StoreSchema } from '@/lib/db/schema';

/*
 * How the dashboard's replicas agree on one of them (the leader) or on who owns what (lib/replicas/shards.ts):
 *
 *   const leases = new LeaseStore(db, 'database');            // PostgreSQL; on SQLite: new LeaseStore(db, Date.now)
 *   const r = await leases.tryAcquire('leader', replicaId, 10_000);
 *   if (r.held) … r.generation is the fencing token of this tenure
 *   await db.transaction().execute(async (trx) => {
 *     await leases.assertHolding(trx, 'leader', r.generation); // throws LeaseLost once another tenure began
 *     … the side effect's writes, in the same transaction …
 *   });
 *   await leases.release('leader', replicaId, r.generation);
 *
 * LeaseKeeper (lease-keeper.ts) keeps one lease renewed and says whether it is held right now.
 *
 * The clock: on PostgreSQL every time is the database's own (`'database'`), so replicas whose clocks disagree still
 * agree on when a lease expires; only the database's clock decides. On SQLite there is one process, and its clock is
 * the only one. A function clock is also how tests move time without waiting.
 */

/** Where a lease's times come from: PostgreSQL's clock (`'database'`, PostgreSQL only), or a function of epoch ms. */
export type LeaseClock = 'database' | (() => number);

export type Acquired =
  { held: true; generation: number; expiresAt: number } | { held: false; holder: string; expiresAt: number };

/** Checks, inside a write's transaction, that the tenure it belongs to still holds its lease; throws LeaseLost if not. */
export type WriteFence = (trx: Transaction<StoreSchema>) => Promise<void>;

/** Runs `write` on `db`; with a fence, in one transaction after it (so nothing is written once the tenure ended). */
export async function writeFenced(
  db: Kysely<StoreSchema>,
  fence: WriteFence | undefined,
  write: (db: Kysely<StoreSchema>) => Promise<unknown>,
): Promise<void> {
  if (!fence) {
    await write(db);
    return;
  }
  await db.transaction().execute(async (trx) => {
    await fence(trx);
    await write(trx);
  });
}

/**
 * The PostgreSQL application_name of a replica's sessions: its id hashed to a fixed length (a pod's name can be 63
 * characters, and PostgreSQL cuts the name at 63), the same hash the database computes in expireDeparted.
 */
export function presenceName(holder: string): string {
  return `${PRESENCE_PREFIX}${createHash('md5').update(holder).digest('hex')}`;
}
const PRESENCE_PREFIX = 'etcd-dashboard ';

/** Leases released in one statement (2 parameters each and the holder: far below either engine's limit). */
const RELEASE_BATCH = 500;

/** A write guarded by a lease was refused: the lease expired or another tenure began since `generation`. */
export class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
  constructor(
    readonly lease: string,
    readonly generation: number,
  ) {
    super(`lease ${lease}: generation ${generation} no longer holds it`);
  }
}

/** name starts with prefix, exactly (LIKE has wildcards, and ignores case on SQLite). */
const startsWith = (prefix: string) => sql<boolean>`substr(name, 1, ${prefix.length}) = ${prefix}`;

export class LeaseStore {
  constructor(
    private readonly db: Kysely<StoreSchema>,
    private readonly clock: LeaseClock,
  ) {}

  /** Epoch ms now, as one SQL value: evaluated by PostgreSQL, or this process's time as a parameter. */
  private now(): RawBuilder<number> {
    // statement_timestamp(): one value for the whole statement, and the statement's time, not its transaction's.
    if (this.clock === 'database') return sql<number>`floor(extract(epoch from statement_timestamp()) * 1000)::bigint`;
    return sql<number>`CAST(${this.clock()} AS BIGINT)`;
  }

  /**
   * One statement taking or renewing each named lease for `holder`: a free one, an expired one, or one it holds; a new
   * tenure has the next generation, a renewal keeps it. Answers the rows it took.
   */
  private take(names: readonly string[], holder: string, ttlMs: number, db: Kysely<StoreSchema> = this.db) {
    const now = this.now();
    return db
      .insertInto('leases')
      .values(
        names.map((name) => ({ name, holder, generation: 1, expires_at: sql<number>`${now} + ${Math.round(ttlMs)}` })),
      )
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({
            holder: (eb) => eb.ref('excluded.holder'),
            generation: sql<number>`CASE WHEN leases.holder = excluded.holder AND leases.expires_at > ${now}
              THEN leases.generation ELSE leases.generation + 1 END`,
            expires_at: (eb) => eb.ref('excluded.expires_at'),
          })
          .where((eb) => eb.or([eb('leases.expires_at', '<=', now), eb('leases.holder', '=', holder)])),
      )
      .returning(['name', 'generation', 'expires_at']);
  }

  /**
   * Takes the lease, or renews it if `holder` holds it, for `ttlMs` from now; in one statement, so of holders asking
   * at once exactly one gets it. A new tenure (a new lease, another holder's expired one, or one's own after it
   * expired or was released) has the next generation; a renewal keeps it.
   */
  async tryAcquire(name: string, holder: string, ttlMs: number): Promise<Acquired> {
    if (this.db.getExecutor().adapter instanceof PostgresAdapter) {
      // The holder's renewal: one UPDATE, which does not wait for the holder's own fenced writes (they lock the row
      // FOR KEY SHARE; see assertHolding), however many of them overlap.
      const now = this.now();
      const renewed = await this.db
        .updateTable('leases')
        .set({ expires_at: sql<number>`${now} + ${Math.round(ttlMs)}` })
        .where('name', '=', name)
        .where('holder', '=', holder)
        .where('expires_at', '>', now)
        .returning(['generation', 'expires_at'])
        .executeTakeFirst();
      if (renewed) return { held: true, generation: renewed.generation, expiresAt: renewed.expires_at };
      // A new tenure: the row locked FOR UPDATE first, so it begins only once every fenced write of the tenure before
      // it that is under way has committed (none lands after it), then the same upsert.
      return this.db.transaction().execute(async (trx) => {
        await trx.selectFrom('leases').select('name').where('name', '=', name).forUpdate().execute();
        return this.acquireOn(trx, name, holder, ttlMs);
      });
    }
    return this.acquireOn(this.db, name, holder, ttlMs);
  }

  private async acquireOn(db: Kysely<StoreSchema>, name: string, holder: string, ttlMs: number): Promise<Acquired> {
    const row = await this.take([name], holder, ttlMs, db).executeTakeFirst();
    if (row) return { held: true, generation: row.generation, expiresAt: row.expires_at };
    const other = await this.current(name, db);
    return { held: false, holder: other?.holder ?? '', expiresAt: other?.expires_at ?? 0 };
  }

  /**
   * tryAcquire for a holder that does not hold the lease as far as it knows: a plain read first, and the upsert only
   * when the lease is free or expired. The read takes no lock, so the replicas that do not lead are not queued behind
   * the leader's fenced writes (each locks the lease row until its transaction ends) every time they ask.
   */
  async tryAcquireIfFree(name: string, holder: string, ttlMs: number): Promise<Acquired> {
    const current = await this.current(name);
    if (current && current.holder !== holder && Number(current.live) === 1) {
      return { held: false, holder: current.holder, expiresAt: current.expires_at };
    }
    return this.tryAcquire(name, holder, ttlMs);
  }

  /** The lease's row as it stands (no lock taken), and whether it is live now on the lease clock. */
  private current(name: string, db: Kysely<StoreSchema> = this.db) {
    return db
      .selectFrom('leases')
      .select(['holder', 'expires_at', sql<number>`CASE WHEN expires_at > ${this.now()} THEN 1 ELSE 0 END`.as('live')])
      .where('name', '=', name)
      .executeTakeFirst();
  }

  /**
   * tryAcquire for many leases in one statement (a replica taking up a hundred clusters asks once, not a hundred
   * times): returns those `holder` took or renewed, with their generations; one missing from the answer is another's.
   */
  async tryAcquireAll(
    names: readonly string[],
    holder: string,
    ttlMs: number,
  ): Promise<Array<{ name: string; generation: number; expiresAt: number }>> {
    if (names.length === 0) return [];
    const rows = await this.take(names, holder, ttlMs).execute();
    return rows.map((r) => ({ name: r.name, generation: r.generation, expiresAt: r.expires_at }));
  }

  /**
   * Ends every tenure at once, keeping the generations (the next tenure of each is newer than any before), on a SQLite
   * store, synchronously: only one process uses it, so the leases a killed process left behind were its own, and are
   * not waited out (the leader's duties and every cluster are taken up at the first try). Returns how many ended.
   */
  static expireAllOnSqlite(
    db: Kysely<StoreSchema>,
    conn: { prepare(sql: string): { run(...p: unknown[]): { changes: number } } },
  ): number {
    const q = db.updateTable('leases').set({ expires_at: 0 }).where('expires_at', '>', 0).compile();
    return conn.prepare(q.sql).run(...q.parameters).changes;
  }

  /**
   * release() for many in one statement (a replica handing over a hundred clusters when another joins): answers how
   * many ended. One by one they were a hundred queries at once on the four lease connections, and the leader's renewal
   * and the next round waited behind them past their deadlines.
   */
  async releaseAll(leases: ReadonlyArray<{ name: string; generation: number }>, holder: string): Promise<number> {
    let ended = 0;
    for (let i = 0; i < leases.length; i += RELEASE_BATCH) {
      const batch = leases.slice(i, i + RELEASE_BATCH);
      const r = await this.db
        .updateTable('leases')
        .set({ expires_at: 0 })
        .where('holder', '=', holder)
        .where((eb) => eb.or(batch.map((l) => eb.and([eb('name', '=', l.name), eb('generation', '=', l.generation)]))))
        .executeTakeFirst();
      ended += Number(r.numUpdatedRows);
    }
    return ended;
  }

  /** Ends the tenure at once (the next asker gets it) if it is still `holder`'s `generation`; says whether it was. */
  async release(name: string, holder: string, generation: number): Promise<boolean> {
    const r = await this.db
      .updateTable('leases')
      .set({ expires_at: 0 })
      .where('name', '=', name)
      .where('holder', '=', holder)
      .where('generation', '=', generation)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /**
   * Throws LeaseLost unless `generation` holds `name` now. Inside a transaction it also locks the lease row (FOR KEY
   * SHARE, on PostgreSQL) until the transaction ends, so no other tenure can begin before the transaction's writes are
   * in (a new tenure locks the row FOR UPDATE first, see tryAcquire): a write fenced this way is never stored after
   * another holder took over.
   */
  async assertHolding(trx: Transaction<StoreSchema>, name: string, generation: number): Promise<void> {
    if (trx.getExecutor().adapter instanceof PostgresAdapter) {
      // The weakest lock a new tenure's FOR UPDATE waits for. Not FOR UPDATE: the leader's fenced writes queued one
      // after another on the row, holding connections, until its renewal timed out behind them. Not FOR SHARE: the
      // renewal (an UPDATE) conflicts with it, and PostgreSQL lets new share locks in while an UPDATE waits, so a
      // steady stream of overlapping fenced writes (a fleet's consistency checks at start, five a second) starved the
      // leader's renewal until its lease ran out; FOR KEY SHARE does not conflict with an UPDATE that leaves the key
      // alone. Read committed re-reads a row a takeover under way changed, so a fence never passes on a snapshot from
      // before a takeover.
      const r = await trx
        .selectFrom('leases')
        .select('generation')
        .where('name', '=', name)
        .where('generation', '=', generation)
        .where('expires_at', '>', this.now())
        .forKeyShare()
        .executeTakeFirst();
      if (!r) throw new LeaseLost(name, generation);
      return;
    }
    // SQLite has one writer at a time and no row locks: an UPDATE takes the database's write lock for the transaction.
    const r = await trx
      .updateTable('leases')
      .set({ generation })
      .where('name', '=', name)
      .where('generation', '=', generation)
      .where('expires_at', '>', this.now())
      .executeTakeFirst();
    if (r.numUpdatedRows === 0n) throw new LeaseLost(name, generation);
  }

  /**
   * Renews, in one statement, every unexpired lease named `prefix…` that `holder` holds, for `ttlMs` from now;
   * returns those renewed with their generations (one missing from the answer has expired or was taken).
   */
  async renewAll(prefix: string, holder: string, ttlMs: number): Promise<Array<{ name: string; generation: number }>> {
    const now = this.now();
    return this.db
      .updateTable('leases')
      .set({ expires_at: sql<number>`${now} + ${Math.round(ttlMs)}` })
      .where(startsWith(prefix))
      .where('holder', '=', holder)
      .where('expires_at', '>', now)
      .returning(['name', 'generation'])
      .execute();
  }

  /** The holders of the unexpired leases whose names start with `prefix`, by name. */
  async liveHolders(prefix: string): Promise<Array<{ name: string; holder: string }>> {
    return this.db
      .selectFrom('leases')
      .select(['name', 'holder'])
      .where(startsWith(prefix))
      .where('expires_at', '>', this.now())
      .orderBy('name')
      .execute();
  }

  /**
   * Ends at once every lease of the holders that are gone: their membership lease (`membershipPrefix` + holder,
   * renewed for `ttlMs`) not renewed for `overdueMs` or more, and no session of theirs open on the database
   * (presenceName). A replica SIGKILLed or crashed loses its connections with its process, so the others need not wait
   * out its leases; one only slow keeps its sessions, and one cut off from the database stops on its own clock first.
   * Only when `watcher` (the caller) sees a session of its own: behind a pooler that does not pass application_name on
   * (PgBouncer in transaction mode) no replica is seen, and none is taken for gone; the leases' deadlines decide.
   * PostgreSQL only (SQLite has one process); answers the holders whose leases ended.
   */
  async expireDeparted(membershipPrefix: string, ttlMs: number, overdueMs: number, watcher: string): Promise<string[]> {
    if (!(this.db.getExecutor().adapter instanceof PostgresAdapter)) return [];
    const now = this.now();
    const gone = await sql<{ holder: string }>`
      UPDATE leases SET expires_at = 0
      WHERE expires_at > ${now}
        AND EXISTS (SELECT 1 FROM pg_stat_activity w WHERE w.application_name = ${presenceName(watcher)})
        AND holder IN (
          SELECT m.holder FROM leases m
          WHERE substr(m.name, 1, ${membershipPrefix.length}) = ${membershipPrefix}
            AND m.expires_at > ${now}
            AND m.expires_at - ${Math.round(ttlMs)} <= ${now} - ${Math.round(overdueMs)}
            AND NOT EXISTS (
              SELECT 1 FROM pg_stat_activity a WHERE a.application_name = ${PRESENCE_PREFIX} || md5(m.holder)
            )
        )
      RETURNING holder`.execute(this.db);
    return [...new Set(gone.rows.map((r) => r.holder))];
  }

  /** Deletes the leases named `prefix…` that expired more than `graceMs` ago (replicas gone for good). */
  async forgetExpired(prefix: string, graceMs: number): Promise<number> {
    const r = await this.db
      .deleteFrom('leases')
      .where(startsWith(prefix))
      .where('expires_at', '<', sql<number>`${this.now()} - ${Math.round(graceMs)}`)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
