import { describe, expect, it } from 'vitest';
import {
  computeQuorum,
  describeQuorum,
  leaderLine,
  memberTrouble,
  requiredForQuorum,
  sizeWarning,
  troubleText,
  type QuorumInput,
} from './quorum';
import type { MemberHealth } from './status-types';

const voter = (health: MemberHealth): QuorumInput => ({ isLearner: false, health });
const learner = (health: MemberHealth): QuorumInput => ({ isLearner: true, health });
const voters = (...health: MemberHealth[]): QuorumInput[] => health.map(voter);
/** A voter whose health read fails (or that does not answer) while it defragments. */
const defragmenting = (health: MemberHealth = 'unhealthy'): QuorumInput => ({ ...voter(health), defragmenting: true });

describe('requiredForQuorum', () => {
  it('is a strict majority of the voters', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(requiredForQuorum)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });
});

describe('computeQuorum', () => {
  it('1 member, healthy with a leader: healthy, but it can lose nothing', () => {
    expect(computeQuorum(voters('healthy'), true)).toEqual({
      members: 1,
      voting: 1,
      healthy: 1,
      required: 1,
      tolerance: 0,
      state: 'healthy',
    });
  });

  it('1 member down: lost, one short', () => {
    const q = computeQuorum(voters('unreachable'), false);
    expect(q.state).toBe('lost');
    expect(q.tolerance).toBe(-1);
  });

  it('2 members: both are needed, so one failure loses quorum', () => {
    const all = computeQuorum(voters('healthy', 'healthy'), true);
    expect(all).toMatchObject({ voting: 2, healthy: 2, required: 2, tolerance: 0, state: 'healthy' });

    const one = computeQuorum(voters('healthy', 'unreachable'), true);
    expect(one).toMatchObject({ healthy: 1, required: 2, tolerance: -1, state: 'lost' });
  });

  it('3 members: tolerates one failure (degraded is impossible: the first failure is already at-risk)', () => {
    expect(computeQuorum(voters('healthy', 'healthy', 'healthy'), true)).toMatchObject({
      voting: 3,
      healthy: 3,
      required: 2,
      tolerance: 1,
      state: 'healthy',
    });
    expect(computeQuorum(voters('healthy', 'healthy', 'unreachable'), true)).toMatchObject({
      healthy: 2,
      tolerance: 0,
      state: 'at-risk',
    });
    expect(computeQuorum(voters('healthy', 'unreachable', 'unreachable'), true)).toMatchObject({
      healthy: 1,
      tolerance: -1,
      state: 'lost',
    });
  });

  it('4 members: needs 3, so one failure already leaves no room', () => {
    expect(computeQuorum(voters('healthy', 'healthy', 'healthy', 'healthy'), true)).toMatchObject({
      required: 3,
      tolerance: 1,
      state: 'healthy',
    });
    expect(computeQuorum(voters('healthy', 'healthy', 'healthy', 'unreachable'), true)).toMatchObject({
      healthy: 3,
      tolerance: 0,
      state: 'at-risk',
    });
    expect(computeQuorum(voters('healthy', 'healthy', 'unreachable', 'unreachable'), true)).toMatchObject({
      healthy: 2,
      tolerance: -1,
      state: 'lost',
    });
  });

  it('5 members: one down is degraded, two down at-risk, three down lost', () => {
    expect(computeQuorum(voters('healthy', 'healthy', 'healthy', 'healthy', 'healthy'), true)).toMatchObject({
      voting: 5,
      required: 3,
      tolerance: 2,
      state: 'healthy',
    });
    expect(computeQuorum(voters('healthy', 'healthy', 'healthy', 'healthy', 'unreachable'), true)).toMatchObject({
      healthy: 4,
      tolerance: 1,
      state: 'degraded',
    });
    expect(computeQuorum(voters('healthy', 'healthy', 'healthy', 'unreachable', 'unreachable'), true)).toMatchObject({
      healthy: 3,
      tolerance: 0,
      state: 'at-risk',
    });
    expect(
      computeQuorum(voters('healthy', 'healthy', 'unreachable', 'unreachable', 'unreachable'), true),
    ).toMatchObject({ healthy: 2, tolerance: -1, state: 'lost' });
  });

  it('an unhealthy member (answering, but failing its health read) does not count as healthy', () => {
    expect(computeQuorum(voters('healthy', 'healthy', 'unhealthy'), true)).toMatchObject({
      healthy: 2,
      state: 'at-risk',
    });
    expect(computeQuorum(voters('healthy', 'unhealthy', 'unhealthy'), true)).toMatchObject({
      healthy: 1,
      state: 'lost',
    });
  });

  it('learners do not vote and do not raise the number required', () => {
    const q = computeQuorum([...voters('healthy', 'healthy', 'healthy'), learner('healthy')], true);
    // With the learner counted as a voter, 4 would need 3 and tolerate only 1 failure.
    expect(q).toEqual({ members: 4, voting: 3, healthy: 3, required: 2, tolerance: 1, state: 'healthy' });
  });

  it('a dead learner does not degrade the cluster', () => {
    const q = computeQuorum([...voters('healthy', 'healthy', 'healthy'), learner('unreachable')], true);
    expect(q.state).toBe('healthy');
    expect(q.members).toBe(4);
    expect(q.voting).toBe(3);
  });

  it('a healthy learner cannot make up for a dead voter', () => {
    const q = computeQuorum([...voters('healthy', 'unreachable', 'unreachable'), learner('healthy')], true);
    expect(q).toMatchObject({ voting: 3, healthy: 1, required: 2, tolerance: -1, state: 'lost' });
  });

  it('no leader means lost even when every member answers', () => {
    const q = computeQuorum(voters('healthy', 'healthy', 'healthy'), false);
    expect(q.state).toBe('lost');
    expect(q.healthy).toBe(3);
    // q.tolerance is 1 here (healthy − required), although status-types.ts documents it as "negative when quorum is
    // lost"; the two definitions disagree when there is no leader, so it is not asserted (reported separately).
  });

  it('no voters at all (only learners, or no member list) is lost, not healthy', () => {
    expect(computeQuorum([], false)).toMatchObject({ members: 0, voting: 0, state: 'lost' });
    expect(computeQuorum([learner('healthy')], true)).toMatchObject({
      members: 1,
      voting: 0,
      healthy: 0,
      state: 'lost',
    });
  });

  describe('a voter busy defragmenting still votes', () => {
    it('3 members, one busy: healthy with one failure to spare, as before the defragment', () => {
      expect(computeQuorum([...voters('healthy', 'healthy'), defragmenting()], true)).toEqual({
        members: 3,
        voting: 3,
        healthy: 2,
        required: 2,
        tolerance: 1,
        state: 'healthy',
        busy: 1,
      });
      // Without the flag the same member is down and the cluster has nothing to spare.
      expect(computeQuorum(voters('healthy', 'healthy', 'unhealthy'), true)).toMatchObject({
        tolerance: 0,
        state: 'at-risk',
      });
    });

    it('busy whether its health read fails or it does not answer at all', () => {
      expect(computeQuorum([...voters('healthy', 'healthy'), defragmenting('unreachable')], true)).toMatchObject({
        busy: 1,
        tolerance: 1,
        state: 'healthy',
      });
    });

    it('one busy and one down of 3: at risk, not lost', () => {
      expect(computeQuorum([voter('healthy'), voter('unreachable'), defragmenting()], true)).toMatchObject({
        healthy: 1,
        busy: 1,
        tolerance: 0,
        state: 'at-risk',
      });
    });

    it('one busy and one down of 5: degraded, one more may fail', () => {
      const q = computeQuorum([...voters('healthy', 'healthy', 'healthy', 'unreachable'), defragmenting()], true);
      expect(q).toMatchObject({ voting: 5, healthy: 3, busy: 1, tolerance: 1, state: 'degraded' });
    });

    it('one busy and two down of 3: lost (the busy member cannot make a majority alone)', () => {
      const q = computeQuorum([voter('unreachable'), voter('unreachable'), defragmenting()], false);
      expect(q).toMatchObject({ healthy: 0, busy: 1, tolerance: -1, state: 'lost' });
    });

    it('a member defragmenting that still answers its health read is healthy, not busy', () => {
      const q = computeQuorum([...voters('healthy', 'healthy'), defragmenting('healthy')], true);
      expect(q).toEqual({ members: 3, voting: 3, healthy: 3, required: 2, tolerance: 1, state: 'healthy' });
    });

    it('a learner defragmenting is not counted: it does not vote', () => {
      const q = computeQuorum(
        [...voters('healthy', 'healthy', 'healthy'), { ...learner('unhealthy'), defragmenting: true }],
        true,
      );
      expect(q).toEqual({ members: 4, voting: 3, healthy: 3, required: 2, tolerance: 1, state: 'healthy' });
    });
  });

  it('tolerance is negative whenever too few voters are healthy', () => {
    for (const size of [1, 2, 3, 4, 5]) {
      for (let healthy = 0; healthy < requiredForQuorum(size); healthy++) {
        const members = Array.from({ length: size }, (_, i) => voter(i < healthy ? 'healthy' : 'unreachable'));
        const q = computeQuorum(members, true);
        expect(q.state, `${healthy} of ${size}`).toBe('lost');
        expect(q.tolerance, `${healthy} of ${size}`).toBeLessThan(0);
      }
    }
  });
});

describe('describeQuorum', () => {
  it('says "no leader elected" when enough voters are healthy but there is no leader', () => {
    const q = computeQuorum(
      [0, 1, 2].map(() => ({ isLearner: false, health: 'healthy' as const })),
      false,
    );
    expect(q.state).toBe('lost');
    expect(describeQuorum(q)).toBe('3 of 3 healthy, quorum 2, no leader elected');
  });

  it('says how many more may fail', () => {
    expect(describeQuorum(computeQuorum(voters('healthy', 'healthy', 'unreachable'), true))).toBe(
      '2 of 3 healthy, quorum 2, can lose 0 more',
    );
    expect(describeQuorum(computeQuorum(voters('healthy', 'healthy', 'healthy', 'healthy', 'healthy'), true))).toBe(
      '5 of 5 healthy, quorum 3, can lose 2 more',
    );
  });

  it('says how far short of quorum a lost cluster is', () => {
    expect(describeQuorum(computeQuorum(voters('unreachable', 'unreachable', 'unreachable'), false))).toBe(
      '0 of 3 healthy, quorum 2, 2 short of quorum',
    );
    expect(
      describeQuorum(computeQuorum(voters('healthy', 'healthy', 'unreachable', 'unreachable', 'unreachable'), true)),
    ).toBe('2 of 5 healthy, quorum 3, 1 short of quorum');
  });

  it('names the voters busy defragmenting, apart from the healthy ones', () => {
    expect(describeQuorum(computeQuorum([...voters('healthy', 'healthy'), defragmenting()], true))).toBe(
      '2 of 3 healthy, 1 busy defragmenting, quorum 2, can lose 1 more',
    );
    expect(
      describeQuorum(
        computeQuorum([...voters('healthy', 'healthy', 'unreachable'), defragmenting(), defragmenting()], true),
      ),
    ).toBe('2 of 5 healthy, 2 busy defragmenting, quorum 3, can lose 1 more');
    expect(describeQuorum(computeQuorum([voter('unreachable'), voter('unreachable'), defragmenting()], false))).toBe(
      '0 of 3 healthy, 1 busy defragmenting, quorum 2, 1 short of quorum',
    );
  });

  it('counts voters only', () => {
    expect(describeQuorum(computeQuorum([...voters('healthy', 'healthy', 'healthy'), learner('healthy')], true))).toBe(
      '3 of 3 healthy, quorum 2, can lose 1 more',
    );
  });
});

describe('sizeWarning', () => {
  it('warns that a single member tolerates no failure', () => {
    const w = sizeWarning(1);
    expect(w).toMatch(/single-member/i);
    expect(w).toMatch(/no failure/);
  });

  it('warns that an even size tolerates no more than the odd size below it', () => {
    expect(sizeWarning(2)).toBe(
      '2 voting members tolerate no more failures than 1: an even size adds risk, not safety.',
    );
    expect(sizeWarning(4)).toBe(
      '4 voting members tolerate no more failures than 3: an even size adds risk, not safety.',
    );
  });

  it('does not warn about 3 or 5 members', () => {
    expect(sizeWarning(3)).toBeNull();
    expect(sizeWarning(5)).toBeNull();
  });

  it('matches the arithmetic: an even size tolerates exactly as many failures as one member fewer', () => {
    for (const size of [2, 4, 6]) {
      expect(size - requiredForQuorum(size)).toBe(size - 1 - requiredForQuorum(size - 1));
      expect(sizeWarning(size)).not.toBeNull();
    }
  });
});

describe('leaderLine and downMembers', () => {
  it('with quorum lost, a member still reporting itself leader is named only as the last leader', () => {
    expect(leaderLine({ state: 'lost' }, { name: 'm0', id: 'a1' })).toEqual({ kind: 'none', lastLeader: 'm0' });
    expect(leaderLine({ state: 'lost' }, null)).toEqual({ kind: 'none', lastLeader: null });
    expect(leaderLine({ state: 'at-risk' }, { name: 'm0', id: 'a1' })).toEqual({
      kind: 'leader',
      name: 'm0',
      id: 'a1',
    });
    expect(leaderLine({ state: 'healthy' }, null)).toEqual({ kind: 'unnamed' });
  });

  it('names the voting members that are down or unhealthy, not learners nor defragmenting members', () => {
    const members = [
      { name: 'm0', isLearner: false, health: 'healthy' as const },
      { name: 'm1', isLearner: false, health: 'unreachable' as const },
      { name: 'm2', isLearner: false, health: 'unhealthy' as const, defragmenting: true },
      { name: 'l1', isLearner: true, health: 'unreachable' as const },
      { name: 'm3', isLearner: false, health: 'unhealthy' as const },
      { name: 'm4', isLearner: false, health: 'unreachable' as const },
      { name: 'm10', isLearner: false, health: 'unreachable' as const },
    ].reverse();
    expect(memberTrouble(members)).toEqual({ down: ['m1', 'm10', 'm4'], unhealthy: ['m3'] });
    expect(troubleText(members)).toBe('down: m1, m10, m4 · unhealthy: m3');
    expect(troubleText(members.filter((m) => m.name === 'm0'))).toBeNull();
  });
});
