// When is the last observation too old to be trusted?

/** Stale after three missed polls, and never before a slow poll (every call at its deadline) could finish. */
export function staleAfterMs(pollIntervalMs: number, probeTimeoutMs: number): number {
  return Math.max(3 * pollIntervalMs, pollIntervalMs + 2 * probeTimeoutMs);
}

export function isStale(observedAt: string | null, nowMs: number, thresholdMs: number): boolean {
  if (observedAt === null) return true;
  const at = Date.parse(observedAt);
  if (Number.isNaN(at)) return true;
  return nowMs - at > thresholdMs;
}

// Replicas sharing a fleet (lib/app/cluster-sharing.ts): how often a replica reads its owners' views, and how old one
// may grow before it polls the cluster itself.

/**
 * How often a replica reads its owners' views: twice a poll, and at least once a second, so an owner that stopped is
 * noticed within half a poll and a view reaches every replica within a second of its owner's poll (one small read).
 */
export const followEveryMs = (pollIntervalMs: number) => Math.min(1000, Math.max(250, Math.floor(pollIntervalMs / 2)));

/**
 * How old an owner's view may be before a replica polls the cluster itself: late enough that an owner polling on time
 * (a view at most a poll old) never sets it off, early enough that the replica's own first poll, one that waits out the
 * probe timeout included, lands before the view would be shown stale.
 */
export function fallbackAfterMs(pollIntervalMs: number, probeTimeoutMs: number, staleAfterMs: number): number {
  const margin = 250;
  return Math.max(
    Math.round(pollIntervalMs * 1.25),
    staleAfterMs - probeTimeoutMs - followEveryMs(pollIntervalMs) - margin,
  );
}

/**
 * A replica that stops renewing its clusters' leases (killed, cut off) loses them to the others after
 * `shardLeaseMs`; it renews them every `shardRoundMs`, so a round may come 4 s late (a held-up event loop, a slow
 * database) before it loses them, and the others find a dead replica's clusters free 4–8 s after its death. Shorter
 * (4.5 s leases, or rounds every second) made three replicas starting together on a loaded 2-core machine lose and
 * retake clusters without end (measured before the lease pool grew from 2 to 4 connections).
 */
export const shardLeases = { shardLeaseMs: 6_000, shardRoundMs: 2_000 } as const;
