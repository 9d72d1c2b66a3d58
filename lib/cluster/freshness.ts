// Is what the browser shows fresh? Judged on the browser's clock plus the server's own ages, so a wrong
// clock on a wall screen cannot make stale data look fresh.
import type { ClusterStatus } from './status-types';

export type Freshness =
  | { kind: 'waiting' }
  | { kind: 'fresh'; ageMs: number }
  /** `since` is a browser-clock epoch ms of the last good data; null when there never was any. */
  | { kind: 'no-data'; reason: 'dashboard-unreachable' | 'etcd-unreachable'; since: number | null };

export interface FreshnessInput {
  status: ClusterStatus | undefined;
  /** Browser time the status arrived (react-query's dataUpdatedAt); 0 when none has. */
  receivedAt: number;
  now: number;
  /** The last request to the dashboard failed. */
  fetchFailed: boolean;
}

/** The browser gives up on a silent dashboard after this long. */
export function browserStaleAfterMs(pollIntervalMs: number): number {
  return Math.max(5000, 3 * pollIntervalMs);
}

export function deriveFreshness({ status, receivedAt, now, fetchFailed }: FreshnessInput): Freshness {
  if (!status || receivedAt === 0) {
    return fetchFailed ? { kind: 'no-data', reason: 'dashboard-unreachable', since: null } : { kind: 'waiting' };
  }
  const servedAt = Date.parse(status.servedAt);
  const observedAt = status.observedAt ? Date.parse(status.observedAt) : null;
  // The observation's time on the browser's clock.
  const observedLocal = observedAt !== null && !Number.isNaN(servedAt) ? receivedAt - (servedAt - observedAt) : null;
  if (now - receivedAt > browserStaleAfterMs(status.pollIntervalMs)) {
    return { kind: 'no-data', reason: 'dashboard-unreachable', since: observedLocal ?? receivedAt };
  }
  if (status.stale || observedLocal === null) {
    return { kind: 'no-data', reason: 'etcd-unreachable', since: observedLocal };
  }
  return { kind: 'fresh', ageMs: Math.max(0, now - observedLocal) };
}
