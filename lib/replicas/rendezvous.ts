// Which replica owns a key: rendezvous (highest random weight) hashing, the same answer on every replica. Pure logic
// (the fleet benchmark asks it which clusters a replica polled).
import { createHash } from 'node:crypto';

/** The key's weight on one replica: the first 8 bytes of sha256(replica, key), a uniform 64-bit number. */
function weight(replica: string, key: string): bigint {
  // The NUL keeps ("a", "bc") and ("ab", "c") apart.
  return createHash('sha256').update(replica).update('\0').update(key).digest().readBigUInt64BE(0);
}

/**
 * The replica with the highest weight for `key`, or null with no replicas. A replica that leaves moves only its own
 * keys (each to its runner-up); one that joins takes about 1/n of the keys from the others and moves nothing else.
 */
export function ownerOf(key: string, replicas: readonly string[]): string | null {
  let best: string | null = null;
  let bestWeight = -1n;
  for (const r of replicas) {
    const w = weight(r, key);
    // Ties (a 2^-64 chance) go to the smaller id, so the answer never depends on the order of `replicas`.
    if (w > bestWeight || (w === bestWeight && best !== null && r < best)) {
      best = r;
      bestWeight = w;
    }
  }
  return best;
}

/** Each key's owner among `replicas`; empty when there are none. */
export function assignOwners(keys: readonly string[], replicas: readonly string[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const k of keys) {
    const owner = ownerOf(k, replicas);
    if (owner !== null) owners.set(k, owner);
  }
  return owners;
}
