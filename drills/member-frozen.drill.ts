// A follower frozen with SIGSTOP: it keeps its sockets open and answers nothing, so every call to it hangs rather
// than being refused. The dashboard must not wait for it: the other rows and the page stay fresh, the frozen row
// says it did not answer in time, and once thawed the member is healthy again.
import { expect, test } from '@playwright/test';
import { waitForStatus } from '../e2e/support/status-api';
import { CLUSTER_ID, drillStack } from './support/drill-stack';
import { readEvents } from './support/events';
import {
  expectApiStaysFresh,
  expectPageStaysFresh,
  healthyWithFollower,
  quorumIs,
  rowsDiffer,
} from './support/freshness';

const drill = drillStack('member-frozen');

test('a follower frozen: its row says it hangs, the other rows and the page stay fresh, thawed it is back', async ({
  page,
}) => {
  const stack = drill();
  const {
    victim,
    others: [a, b],
  } = await healthyWithFollower(stack, page);

  await stack.freeze(stack.memberIndex(victim.name));
  try {
    const rows = { [victim.name]: 'unreachable', [a]: 'healthy', [b]: 'healthy' } as const;
    await waitForStatus(stack.api, (s) => rowsDiffer(s, rows) === null, 15_000, CLUSTER_ID);
    // Several polls in a row, each fresh: a call hanging on the frozen member never holds a poll back.
    const last = await expectApiStaysFresh(
      stack.api,
      (s) => rowsDiffer(s, rows) ?? quorumIs(s.quorum.state, 'at-risk'),
    );
    expect(last.members.find((m) => m.name === victim.name)?.error).toBe(
      'no answer before the deadline (member hung, overloaded or partitioned)',
    );
    await expectPageStaysFresh(page, rows);
    await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'at-risk');
    await expect(
      page.locator(`[data-testid=member-row][data-member-name="${victim.name}"] [data-testid=member-error]`),
    ).toContainText('no answer before the deadline');
  } finally {
    await stack.thaw(stack.memberIndex(victim.name));
  }

  await waitForStatus(stack.api, (s) => s.quorum.state === 'healthy', 30_000, CLUSTER_ID);
  await expectPageStaysFresh(page, { [victim.name]: 'healthy', [a]: 'healthy', [b]: 'healthy' });
  // Down first, up last; a thawed or restarted member may flap once more while it catches up.
  await expect
    .poll(async () => {
      const types = (await readEvents(stack.api, ['member_down', 'member_up']))
        .filter((e) => e.memberId === victim.id)
        .map((e) => e.type);
      return [types[0], types.at(-1)];
    })
    .toEqual(['member_down', 'member_up']);
});
