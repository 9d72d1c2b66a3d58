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
 * `shardLeaseMs`; it renews them every `shardRenewMs`, so a renewal may come 4 s late (a held-up event loop, a slow
 * database) before it loses them. Shorter (4.5 s leases, or renewals every second) made three replicas starting
 * together on a loaded 2-core machine lose and retake clusters without end (measured before the lease pool grew from
 * 2 to 4 connections, with renewals inside the rounds). A dead replica is found gone (no session of its left, its
 * membership a renewal overdue) by the first round after that, every `shardRoundMs`: its clusters are free 2–3 s after
 * its death, not 4–8 s (when its leases run out).
 */
export const shardLeases = { shardLeaseMs: 6_000, shardRenewMs: 2_000, shardRoundMs: 1_000 } as const;
