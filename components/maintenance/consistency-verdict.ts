// What the newest consistency check means now: members agree, one differs, not known, or too old to trust. Shared by
// the overview's card, the maintenance page and the NOC wall, so they never disagree with each other.
import type { ConsistencyCheck } from '@/lib/cluster/consistency-types';

/** The newest check's fields; checkedAt is null before the first check. */
export type CheckFields = Pick<ConsistencyCheck, 'revision' | 'agree' | 'members' | 'suspect' | 'note'> & {
  checkedAt: string | null;
};

/** etcd-dashboard's default interval (maintenance.consistencyCheckMinutes: 5), when nothing better is known. */
export const DEFAULT_CHECK_INTERVAL_MS = 5 * 60_000;

/** A verdict older than this many check intervals is no verdict (the alert rule judges the same way). */
export const STALE_AFTER_INTERVALS = 3;

export type ConsistencyVerdict =
  | { kind: 'agree'; revision: number | null; ageMs: number; note: string | null }
  /** suspect: the member that differs from the majority, by name; null when no majority agrees. */
  | {
      kind: 'differs';
      revision: number | null;
      ageMs: number;
      suspect: string | null;
      note: string | null;
      stale: boolean;
    }
  /** A check that agreed, older than STALE_AFTER_INTERVALS intervals. */
  | { kind: 'stale'; revision: number | null; ageMs: number }
  /** The check could not compare (note says why), or there has been none (ageMs null). */
  | { kind: 'unknown'; ageMs: number | null; note: string | null }
  | { kind: 'off' };

/**
 * `serverNow` is the server's clock as the browser estimates it (its own clock plus the offset a response showed),
 * so a wall screen with a wrong clock cannot make an old check look new. `intervalMs` 0 means checks are off.
 */
export function judgeConsistency(check: CheckFields | null, serverNow: number, intervalMs: number): ConsistencyVerdict {
  if (!check || check.checkedAt === null) {
    return intervalMs <= 0 ? { kind: 'off' } : { kind: 'unknown', ageMs: null, note: null };
  }
  const ageMs = Math.max(0, serverNow - Date.parse(check.checkedAt));
  // With checks off, whatever was found last is old by definition.
  const stale = intervalMs <= 0 || Number.isNaN(ageMs) || ageMs > STALE_AFTER_INTERVALS * intervalMs;
  if (check.agree === false) {
    const suspect = check.suspect ? (check.members.find((m) => m.id === check.suspect)?.name ?? check.suspect) : null;
    return { kind: 'differs', revision: check.revision, ageMs, suspect, note: check.note, stale };
  }
  if (check.agree === null) return { kind: 'unknown', ageMs, note: check.note };
  if (stale) return { kind: 'stale', revision: check.revision, ageMs };
  return { kind: 'agree', revision: check.revision, ageMs, note: check.note };
}

/**
 * The interval between scheduled checks as the history shows it (the median gap between checks), for a page that is
 * not told the configured one. A manual check shortens a gap: the estimate errs towards calling a check old.
 */
export function estimateInterval(history: ReadonlyArray<{ checkedAt: string }>): number {
  const times = history.map((c) => Date.parse(c.checkedAt)).filter((t) => !Number.isNaN(t));
  const gaps = times
    .slice(1)
    .map((t, i) => Math.abs((times[i] as number) - t))
    .filter((g) => g > 0)
    .sort((a, b) => a - b);
  if (gaps.length < 2) return DEFAULT_CHECK_INTERVAL_MS;
  return gaps[Math.floor(gaps.length / 2)] as number;
}
