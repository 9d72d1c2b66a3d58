// Which clusters this replica polls: it keeps a lease per cluster it should own (rendezvous hashing over the live
// replicas), so each cluster is polled for the record by exactly one replica at a time, and moves within seconds
// when its replica dies or another joins.
import 'server-only';
import type { LeaseStore } from './lease-store';
import { clustersOwnedBy, liveReplicas, MEMBERSHIP_PREFIX, membershipLease } from './shards';

/*
 *   const shards = new ShardKeeper({ leases, replicaId, clusterIds, ttlMs: 6000,
 *     onGained: (id) => …poll it, record it, judge its alerts…, onLost: (id) => …stop… });
 *   await shards.start();  …  shards.owns(id)  …  await shards.stop();
 *
 * Every ttl/3 it renews in one statement every cluster lease it holds, then its membership lease (`replica:<id>`); and,
 * on a chain of its own (every roundEveryMs), a round ends the leases of replicas found gone, reads the live replicas,
 * lets go of the clusters another replica should now own, and asks for those it should own. A cluster whose lease it
 * holds is its own until ttl after the renewal that last renewed it was SENT (on this process's monotonic clock),
 * whether or not the database answers meanwhile: a replica cut off from the database stops owning its clusters before
 * another can take them (the database counts the same ttl from later).
 */

export const CLUSTER_LEASE_PREFIX = 'cluster:';
export const clusterLease = (clusterId: string) => `${CLUSTER_LEASE_PREFIX}${clusterId}`;

/** Cluster leases asked for in one statement (4 parameters each: far below either engine's limit). */
const ACQUIRE_BATCH = 500;

export interface ShardKeeperOptions {
  leases: Pick<LeaseStore, 'tryAcquire' | 'tryAcquireAll' | 'release' | 'releaseAll' | 'liveHolders' | 'renewAll'> &
    Partial<Pick<LeaseStore, 'expireDeparted'>>;
  replicaId: string;
  clusterIds: readonly string[];
  ttlMs: number;
  /** How often the leases are renewed: a third of the ttl unless set. */
  everyMs?: number;
  /**
   * How often a round runs (the departed check, the live read, handovers, asks); everyMs unless set. Shorter than the
   * renewals, a dead replica's clusters are found free sooner: each round is two small statements when nothing moves.
   */
  roundEveryMs?: number;
  onGained: (clusterId: string) => void;
  onLost: (clusterId: string) => void;
  /** Monotonic ms; performance.now unless a test moves it. */
  monotonic?: () => number;
  /**
   * Replicas sharing a database: the first round only stores this replica's membership and asks for no cluster, so
   * replicas started together (a Deployment rolled out, a fleet restarted) each see the others before they ask and
   * take their own share, instead of the first one taking every cluster and handing two thirds over a round later
   * (polling them all meanwhile: half as many polls again, at the start, when every connection is new). Costs one
   * round (2 s) before a lone replica's first poll.
   */
  joinBeforeAsking?: boolean;
}

export class ShardKeeper {
  /** Per cluster held: its tenure, its deadline, and when the answer granting it came (monotonic ms). */
  private readonly held = new Map<string, { generation: number; until: number; heldAt: number }>();
  private readonly everyMs: number;
  private readonly roundEveryMs: number;
  private readonly monotonic: () => number;
  private renewTimer: NodeJS.Timeout | undefined;
  private roundTimer: NodeJS.Timeout | undefined;
  private round: Promise<void> | null = null;
  private renewal: Promise<void> | null = null;
  private running = false;
  private live: string[] = [];
  /** The generation of this replica's membership lease, once held. */
  private membership: number | null = null;
  /** Rounds still to run before the first ask (see joinBeforeAsking): a renewal period's worth. */
  private joinRounds: number;

  constructor(private readonly opts: ShardKeeperOptions) {
    this.everyMs = opts.everyMs ?? Math.max(1, Math.floor(opts.ttlMs / 3));
    this.roundEveryMs = opts.roundEveryMs ?? this.everyMs;
    this.monotonic = opts.monotonic ?? (() => performance.now());
    this.joinRounds = opts.joinBeforeAsking ? Math.max(1, Math.round(this.everyMs / this.roundEveryMs)) : 0;
  }

  /**
   * Renews and runs the first round at once, and resolves when that round has ended; then renews every everyMs and
   * runs a round every roundEveryMs until stop().
   */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.renewTick();
    this.roundTick();
    return this.round ?? Promise.resolve();
  }

  /** Whether this replica owns the cluster now (false from the deadline on, even between rounds). */
  owns(clusterId: string): boolean {
    this.expire();
    return this.held.has(clusterId);
  }

  /** The clusters this replica owns now. */
  owned(): string[] {
    this.expire();
    return [...this.held.keys()];
  }

  /** The replicas alive at the last round that read them (this one included once its membership is stored). */
  replicas(): readonly string[] {
    return this.live;
  }

  /**
   * Stops asking and lets every cluster go at once, and its membership: the others leave it out of the split and take
   * its clusters at their next round, not when its leases run out.
   */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.renewTimer);
    clearTimeout(this.roundTimer);
    const held = [...this.held];
    for (const [clusterId] of held) this.lose(clusterId);
    // A renewal or round under way would renew or take what is released below: they end first (their answers are
    // ignored, as stopped), or 2 s pass (a database that does not answer would not take the releases either).
    await Promise.race([Promise.all([this.round, this.renewal]), new Promise((r) => setTimeout(r, 2000).unref())]);
    const { leases, replicaId } = this.opts;
    await Promise.allSettled([
      leases.releaseAll(
        held.map(([c, h]) => ({ name: clusterLease(c), generation: h.generation })),
        replicaId,
      ),
      ...(this.membership === null ? [] : [leases.release(membershipLease(replicaId), replicaId, this.membership)]),
    ]);
  }

  private failed(err: unknown): void {
    console.error(`etcd-dashboard: cluster shards: ${err instanceof Error ? err.message.split('\n')[0] : err}`);
  }

  // One renewal and one round at a time, each on its own chain: a round held up (a slow read of the live replicas, a
  // loaded host where each of its statements waits a second) does not hold up the renewals, so the replica keeps its
  // clusters and its membership instead of losing them and trading them with the others while it is slow.
  private renewTick(): void {
    this.expire();
    if (!this.running) return;
    if (!this.renewal) {
      this.renewal = this.renew()
        .catch((err: unknown) => this.failed(err))
        .finally(() => {
          this.renewal = null;
        });
    }
    this.renewTimer = setTimeout(() => this.renewTick(), this.everyMs);
    this.renewTimer.unref();
  }

  private roundTick(): void {
    if (!this.running) return;
    if (!this.round) {
      this.round = this.runRound()
        .catch((err: unknown) => this.failed(err))
        .finally(() => {
          this.round = null;
        });
    }
    this.roundTimer = setTimeout(() => this.roundTick(), this.roundEveryMs);
    this.roundTimer.unref();
  }

  /** Renews every cluster lease held, in one statement, then the membership. */
  private async renew(): Promise<void> {
    const { leases, replicaId, ttlMs } = this.opts;
    const sentAt = this.monotonic();
    // The cluster leases are renewed before the membership, so they run out before it does: a replica that stops
    // (killed) drops out of the others' list of the living only once its clusters are free to take, and they take
    // them in the round that notices, not one round later.
    const renewed = await leases.renewAll(CLUSTER_LEASE_PREFIX, replicaId, ttlMs);
    if (!this.running) return;
    const renewedIds = new Set<string>();
    for (const r of renewed) {
      const clusterId = r.name.slice(CLUSTER_LEASE_PREFIX.length);
      renewedIds.add(clusterId);
      const h = this.held.get(clusterId);
      // Renewed in the database but no longer held here (its deadline passed meanwhile): asked for again by a round.
      if (h && h.generation === r.generation) h.until = sentAt + ttlMs;
    }
    for (const [clusterId, h] of [...this.held]) {
      // Not renewed: another holds it now. Only if it was granted before this renewal was sent: a grant answered
      // later may have committed after the renewal ran (asked before it was sent, answered after), so the renewal's
      // answer does not list it; the next renewal does.
      if (!renewedIds.has(clusterId) && h.heldAt < sentAt) this.lose(clusterId);
    }
    const membership = await leases.tryAcquire(membershipLease(replicaId), replicaId, ttlMs);
    if (membership.held) this.membership = membership.generation;
  }

  private async runRound(): Promise<void> {
    const { leases, replicaId, ttlMs } = this.opts;
    // The live replicas are read once this one's membership is stored (the first renewal), so it counts itself.
    if (this.membership === null) {
      await this.renewal;
      if (this.membership === null) return;
    }
    // A replica that died (no session left on the database, a round overdue) is not waited out: its leases end now,
    // and its clusters are taken below, in this round (and the leader's lease, by the next ask).
    const departed = (await leases.expireDeparted?.(MEMBERSHIP_PREFIX, ttlMs, this.everyMs, replicaId)) ?? [];
    for (const gone of departed) {
      console.error(
        `etcd-dashboard: replica ${gone} is gone (no connection to the database, its lease not renewed for a round): its leases ended`,
      );
    }
    this.live = await liveReplicas(leases);
    const wanted = new Set(clustersOwnedBy(replicaId, this.opts.clusterIds, this.live));
    if (!this.running) return;
    // Another replica should own it now (one joined, or the list changed): let it go so that one takes it at once.
    const handedOver = [...this.held].filter(([clusterId]) => !wanted.has(clusterId));
    for (const [clusterId] of handedOver) this.lose(clusterId);
    if (handedOver.length > 0) {
      await leases.releaseAll(
        handedOver.map(([c, h]) => ({ name: clusterLease(c), generation: h.generation })),
        replicaId,
      );
    }
    if (this.joinRounds > 0) {
      this.joinRounds--;
      return;
    }
    // Every cluster it should own and does not, asked for in one statement per batch: a replica taking up a hundred
    // clusters (another died) holds them all within one round trip, none expiring while the others are asked for.
    const ask = [...wanted].filter((clusterId) => !this.held.has(clusterId));
    for (let i = 0; i < ask.length && this.running; i += ACQUIRE_BATCH) {
      const askedAt = this.monotonic();
      const got = await leases.tryAcquireAll(ask.slice(i, i + ACQUIRE_BATCH).map(clusterLease), replicaId, ttlMs);
      const heldAt = this.monotonic();
      if (askedAt + ttlMs <= heldAt || !this.running) continue;
      for (const r of got) {
        const clusterId = r.name.slice(CLUSTER_LEASE_PREFIX.length);
        this.held.set(clusterId, { generation: r.generation, until: askedAt + ttlMs, heldAt });
        this.notify(() => this.opts.onGained(clusterId));
      }
    }
  }

  private expire(): void {
    const now = this.monotonic();
    for (const [clusterId, h] of [...this.held]) if (now >= h.until) this.lose(clusterId);
  }

  private lose(clusterId: string): void {
    if (!this.held.delete(clusterId)) return;
    this.notify(() => this.opts.onLost(clusterId));
  }

  private notify(callback: () => void): void {
    try {
      callback();
    } catch (err) {
      console.error(`etcd-dashboard: cluster shards: a callback failed: ${String(err)}`);
    }
  }
}
