import { describe, expect, it } from 'vitest';
import { snapshotsToPrune, type RetentionCandidate } from './retention';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-25T12:00:00Z');
const snap = (id: string, daysAgo: number, verified = true): RetentionCandidate => ({
  id,
  startedAt: new Date(NOW - daysAgo * DAY).toISOString(),
  verified,
});

describe('snapshotsToPrune', () => {
  const five = [snap('a', 0.1), snap('b', 1), snap('c', 2), snap('d', 5), snap('e', 10)];

  it('keeps everything when no rule is set', () => {
    expect(snapshotsToPrune(five, {}, NOW)).toEqual([]);
  });

  it('keeps the newest N', () => {
    expect(snapshotsToPrune(five, { keepLast: 2 }, NOW).sort()).toEqual(['c', 'd', 'e']);
  });

  it('keeps those newer than D days', () => {
    expect(snapshotsToPrune(five, { maxAgeDays: 3 }, NOW).sort()).toEqual(['d', 'e']);
  });

  it('with both rules, a snapshot is kept if either rule keeps it', () => {
    expect(snapshotsToPrune(five, { keepLast: 4, maxAgeDays: 1.5 }, NOW)).toEqual(['e']);
  });

  it('never removes the newest verified snapshot, even when every rule would', () => {
    const list = [snap('new-unverified', 0.1, false), snap('old-verified', 30), snap('older', 40)];
    expect(snapshotsToPrune(list, { keepLast: 1 }, NOW)).toEqual(['older']);
    expect(snapshotsToPrune(list, { maxAgeDays: 1 }, NOW)).toEqual(['older']);
  });

  it('does not depend on the order it is given', () => {
    expect(snapshotsToPrune([...five].reverse(), { keepLast: 2 }, NOW).sort()).toEqual(['c', 'd', 'e']);
  });
});
