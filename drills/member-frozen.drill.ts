// A follower frozen with SIGSTOP: it keeps its sockets open and answers nothing, so every call to it hangs rather
// than being refused. The dashboard must not wait for it: the other rows and the page stay fresh, the frozen row
// says it did not answer in time, and once thawed the member is healthy again.
import { test } from '@playwright/test';
import { expectEdges } from './support/events';
import { expectAllBackHealthy, expectOneMemberOut } from './support/freshness';
import { followerDrill } from './support/healthy-drill';

test(
  'a follower frozen: its row says it hangs, the other rows and the page stay fresh, thawed it is back',
  followerDrill('member-frozen', async ({ stack, page, victim, others }) => {
    const faultAt = new Date().toISOString();
    await stack.freeze(stack.memberIndex(victim.name));
    try {
      // Several polls in a row, each fresh: a call hanging on the frozen member never holds a poll back.
      await expectOneMemberOut(stack, page, victim.name, others, {
        error: /^no answer before the deadline \(member hung, overloaded or partitioned\)$/,
        shownAs: 'no answer before the deadline',
      });
    } finally {
      await stack.thaw(stack.memberIndex(victim.name));
    }

    await expectAllBackHealthy(stack, page, [victim.name, ...others]);
    await expectEdges(stack.api, ['member_down', 'member_up'], faultAt, victim.id);
  }),
);
