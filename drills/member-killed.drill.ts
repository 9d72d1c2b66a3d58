// A follower killed with SIGKILL: its row turns unreachable with the socket's reason, the other members' rows and
// the page stay fresh, and when it comes back the down and up are both in the event history.
import { expect, test } from '@playwright/test';
import { expectEdges } from './support/events';
import { expectAllBackHealthy, expectOneMemberOut } from './support/freshness';
import { followerDrill } from './support/healthy-drill';

test(
  'a follower killed: its row says why, the other rows and the page stay fresh, its return is recorded',
  followerDrill('member-killed', async ({ stack, page, victim, others }) => {
    const faultAt = new Date().toISOString();
    await stack.cluster.stopMember(stack.memberIndex(victim.name), 'SIGKILL');

    // The process is gone: the socket refuses, and the row says so rather than "timed out".
    const last = await expectOneMemberOut(stack, page, victim.name, others, {
      error: /connection refused|connection reset/,
      shownAs: 'connection refused',
    });
    expect(last.leader?.name).not.toBe(victim.name);
    await expect(page.getByTestId('quorum-summary')).toHaveText('2 of 3 healthy, quorum 2, can lose 0 more');

    // Back again: healthy without touching the page, and the history holds both edges.
    stack.cluster.startMember(stack.memberIndex(victim.name));
    await expectAllBackHealthy(stack, page, [victim.name, ...others]);
    await expectEdges(stack.api, ['member_down', 'member_up'], faultAt, victim.id);
  }),
);
