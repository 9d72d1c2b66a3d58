// One action at a time on a cluster across replicas: a snapshot or a maintenance run holds the cluster's `action:<id>`
// lease while it runs, renewed every ttl/3, so a request that reaches another replica is refused with what runs where,
// and a new leader does not take a live run on another replica for one a dead replica left behind.
import 'server-only';
import type { LeaseStore } from './lease-store';

export const ACTION_LEASE_PREFIX = 'action:';
/** A replica that dies mid-run frees the cluster this long after its last renewal, at most. */
export const ACTION_TTL_MS = 15_000;

export type ActionKind = 'snapshot' | 'maintenance';

/** What holds a cluster: the replica, and the run (a snapshot's or a maintenance run's id). */
export interface ActionHolder {
  replicaId: string;
  kind: ActionKind;
  runId: string;
}

export type Held = { held: true; release: () => Promise<void> } | { held: false; by: ActionHolder };

// The lease's holder names all three, so the refusal can say what runs where: "<replica> <kind> <run id>".
const holderOf = (h: ActionHolder) => `${h.replicaId} ${h.kind} ${h.runId}`;
function parseHolder(holder: string): ActionHolder {
  const [replicaId = '', kind = 'snapshot', runId = ''] = holder.split(' ');
  return { replicaId, kind: kind === 'maintenance' ? 'maintenance' : 'snapshot', runId };
}

export class ClusterActionLocks {
  constructor(
    private readonly leases: Pick<LeaseStore, 'tryAcquire' | 'release' | 'liveHolders'>,
    readonly replicaId: string,
    private readonly ttlMs = ACTION_TTL_MS,
  ) {}

  /**
   * Takes the cluster for `runId` unless another run (on any replica) holds it; renews it every ttl/3 until released.
   * A renewal the database refuses is tried again at the next; a run that outlives its lease is not stopped (etcd's
   * own state, not this lease, is what a second action would meet), and says so in the log.
   */
  async hold(clusterId: string, kind: ActionKind, runId: string): Promise<Held> {
    const name = `${ACTION_LEASE_PREFIX}${clusterId}`;
    const holder = holderOf({ replicaId: this.replicaId, kind, runId });
    const first = await this.leases.tryAcquire(name, holder, this.ttlMs);
    if (!first.held) return { held: false, by: parseHolder(first.holder) };
    let generation = first.generation;
    let warned = false;
    const timer = setInterval(
      () => {
        this.leases
          .tryAcquire(name, holder, this.ttlMs)
          .then((r) => {
            if (r.held) generation = r.generation;
            else if (!warned) {
              warned = true;
              console.error(`etcd-dashboard: ${kind} ${runId}: cluster ${clusterId} is now held by ${r.holder}`);
            }
          })
          .catch(() => undefined);
      },
      Math.max(1, Math.floor(this.ttlMs / 3)),
    );
    timer.unref();
    let released = false;
    return {
      held: true,
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        await this.leases.release(name, holder, generation).catch(() => undefined);
      },
    };
  }

  /** The runs holding a cluster now, on any replica (this one included). */
  async live(): Promise<ActionHolder[]> {
    return (await this.leases.liveHolders(ACTION_LEASE_PREFIX)).map((l) => parseHolder(l.holder));
  }
}
