// Which replica does the work that must happen once (scheduled snapshots and restore tests, automatic defragmenting,
// consistency checks, alert notifications, history writes, housekeeping): the holder of the `leader` lease. One
// process on SQLite takes it at once and keeps it; replicas on PostgreSQL hand it over within LEADER_TTL_MS.
import 'server-only';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { LeaseKeeper } from '@/lib/replicas/lease-keeper';
import type { LeaseStore, WriteFence } from '@/lib/replicas/lease-store';

/** A leader that stops renewing (killed, paused, cut off) is replaced this long after its last renewal, at most. */
export const LEADER_TTL_MS = 6_000;
export const LEADER_LEASE = 'leader';

/** This process's name among the replicas: the host (a pod's name) and a suffix new at every start. */
export function newReplicaId(): string {
  return `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export interface LeaderDuties {
  /** Runs when this replica becomes the leader, before any scheduled work of its term. */
  gained(generation: number): Promise<void>;
  /** Runs when it stops being the leader (its scheduled work checks isLeader() before each run). */
  lost(): void;
}

export class Leadership {
  private readonly keeper: LeaseKeeper;
  /** The gained() under way or done for the current term: scheduled work waits for it. */
  private taking: Promise<void> = Promise.resolve();
  private duties: LeaderDuties | null = null;

  constructor(
    private readonly leases: Pick<LeaseStore, 'tryAcquire' | 'tryAcquireIfFree' | 'release' | 'assertHolding'>,
    readonly replicaId: string,
    ttlMs = LEADER_TTL_MS,
  ) {
    this.keeper = new LeaseKeeper({
      store: leases,
      name: LEADER_LEASE,
      holder: replicaId,
      ttlMs,
      onGained: (generation) => {
        console.log(`etcd-dashboard: replica ${replicaId} leads (generation ${generation})`);
        const duties = this.duties;
        this.taking = duties
          ? duties.gained(generation).catch((err: unknown) => {
              console.error(
                `etcd-dashboard: taking over as leader: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
              );
            })
          : Promise.resolve();
      },
      onLost: (generation, reason) => {
        console.log(`etcd-dashboard: replica ${replicaId} no longer leads (generation ${generation}: ${reason})`);
        this.duties?.lost();
      },
    });
  }

  /** Starts asking for the lease; resolves once the first answer is in and, if it was won, the duties taken up. */
  async start(duties: LeaderDuties): Promise<void> {
    this.duties = duties;
    await this.keeper.start();
    await this.taking;
  }

  isLeader(): boolean {
    return this.keeper.isLeader();
  }

  /** The current term's generation (the fencing token), or null when another replica leads. */
  generation(): number | null {
    return this.keeper.generation();
  }

  /**
   * A check for a write of this term, made inside the write's transaction: it throws LeaseLost once another term has
   * begun (and on PostgreSQL holds the lease row until the transaction ends, so no takeover slips in between).
   * undefined while this replica does not lead.
   */
  fence(): WriteFence | undefined {
    const generation = this.generation();
    if (generation === null) return undefined;
    return (trx) => this.leases.assertHolding(trx, LEADER_LEASE, generation);
  }

  /** Lets the lease go (at shutdown), so another replica takes over at its next try rather than after the ttl. */
  stop(): Promise<void> {
    return this.keeper.stop();
  }
}
