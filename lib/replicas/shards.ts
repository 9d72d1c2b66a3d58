// Which clusters this replica polls in a fleet: each live replica's membership lease, and rendezvous hashing over them.
import 'server-only';
import type { LeaseStore } from './lease-store';
import { ownerOf } from './rendezvous';

/*
 * Each replica keeps its membership lease with a LeaseKeeper({ name: membershipLease(id), holder: id, … }); every
 * few seconds it reads liveReplicas() and polls clustersOwnedBy(id, …). Every replica computes the same owners from
 * the same list; a replica that stops renewing drops out of the list when its lease expires, and only its clusters
 * move. While replicas read the list at slightly different moments two of them may poll one cluster for a round:
 * polling is a read, so that costs load, not correctness; work that must happen once is the leader's, fenced.
 */

export const MEMBERSHIP_PREFIX = 'replica:';

/** The name of a replica's membership lease. */
export const membershipLease = (replicaId: string) => `${MEMBERSHIP_PREFIX}${replicaId}`;

/** The ids of the replicas whose membership lease has not expired. */
export async function liveReplicas(store: Pick<LeaseStore, 'liveHolders'>): Promise<string[]> {
  return (await store.liveHolders(MEMBERSHIP_PREFIX)).map((l) => l.holder);
}

/** The clusters among `clusterIds` that `replicaId` owns; none unless it is among `live`. */
export function clustersOwnedBy(replicaId: string, clusterIds: readonly string[], live: readonly string[]): string[] {
  if (!live.includes(replicaId)) return [];
  return clusterIds.filter((c) => ownerOf(c, live) === replicaId);
}
