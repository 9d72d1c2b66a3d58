// A follower frozen with SIGSTOP: it keeps its sockets open and answers nothing, so every call to it hangs rather
// than being refused. The dashboard must not wait for it: the other rows and the page stay fresh, the frozen row
// says it did not answer in time, and once thawed the member is healthy again.
import { test } from '@playwright/test';
import { drillStack } from './support/drill-stack';
import { expectEdges } from './support/events';
import { expectAllBackHealthy, expectOneMemberOut, healthyWithFollower } from './support/freshness';

const drill = drillStack('member-frozen');

test('a follower frozen: its row says it hangs, the other rows and the page stay fresh, thawed it is back', async ({
  page,
}) => {
  const stack = drill();
  const { victim, others } = await healthyWithFollower(stack, page);

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
});
