import { describe, expect, it } from 'vitest';
import { FAILURES_QUIET_MS, recentFailedProposals } from './cluster-collector';

const T0 = Date.UTC(2026, 11, 5, 3, 0, 0);

describe('recent failed proposals (the proposals_failed alert)', () => {
  const failed: Array<[number, number]> = [
    [T0 - 4 * 60_000, 3],
    [T0 - 20_000, 2],
  ];

  it('counts the last five minutes while failures go on', () => {
    expect(recentFailedProposals(failed, T0)).toBe(5);
    expect(recentFailedProposals(failed, T0 + 30_000)).toBe(5);
  });

  it('drops to 0 a minute after the last failure, not five minutes later', () => {
    expect(recentFailedProposals(failed, T0 - 20_000 + FAILURES_QUIET_MS + 1)).toBe(0);
    expect(recentFailedProposals([], T0)).toBe(0);
  });

  it('leaves out failures older than five minutes while newer ones go on', () => {
    expect(recentFailedProposals([[T0 - 6 * 60_000, 7], ...failed], T0)).toBe(5);
  });

  it('waits two scrapes when scrapes are more than 30 s apart, so failures at every scrape never look quiet', () => {
    const every90s: Array<[number, number]> = [
      [T0 - 90_000, 1],
      [T0, 1],
    ];
    expect(recentFailedProposals(every90s, T0 + 89_000, 90_000)).toBe(2);
    expect(recentFailedProposals(every90s, T0 + 181_000, 90_000)).toBe(0);
  });
});
