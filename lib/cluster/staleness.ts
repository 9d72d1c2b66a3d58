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
