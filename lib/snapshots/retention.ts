// Which snapshot files retention removes: kept if among the newest N or newer than D days (whichever rules are
// set); the newest verified snapshot is never removed, whatever the rules say.

export interface RetentionPolicy {
  keepLast?: number | undefined;
  maxAgeDays?: number | undefined;
}

export interface RetentionCandidate {
  id: string;
  startedAt: string;
  verified: boolean;
}

/** `snapshots`: those that still have a file, any order. Returns the ids whose files go. */
export function snapshotsToPrune(snapshots: RetentionCandidate[], policy: RetentionPolicy, now: number): string[] {
  if (policy.keepLast === undefined && policy.maxAgeDays === undefined) return [];
  const newestFirst = [...snapshots].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
  const newestVerified = newestFirst.find((s) => s.verified)?.id;
  const prune: string[] = [];
  newestFirst.forEach((s, i) => {
    if (s.id === newestVerified) return;
    const byCount = policy.keepLast !== undefined && i < policy.keepLast;
    const byAge = policy.maxAgeDays !== undefined && now - Date.parse(s.startedAt) < policy.maxAgeDays * 86_400_000;
    if (!byCount && !byAge) prune.push(s.id);
  });
  return prune;
}
