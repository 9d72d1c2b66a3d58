// A follower killed with SIGKILL: its row turns unreachable with the socket's reason, the other members' rows and
// the page stay fresh, and when it comes back the down and up are both in the event history.
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

const drill = drillStack('member-killed');

test('a follower killed: its row says why, the other rows and the page stay fresh, its return is recorded', async ({
  page,
}) => {
  const stack = drill();
  const { victim, others } = await healthyWithFollower(stack, page);

  await stack.cluster.stopMember(stack.memberIndex(victim.name), 'SIGKILL');

  const rows = { [victim.name]: 'unreachable', [others[0]!]: 'healthy', [others[1]!]: 'healthy' } as const;
  await waitForStatus(stack.api, (s) => rowsDiffer(s, rows) === null, 15_000, CLUSTER_ID);
  const last = await expectApiStaysFresh(stack.api, (s) => rowsDiffer(s, rows) ?? quorumIs(s.quorum.state, 'at-risk'));
  // The process is gone: the socket refuses, and the row says so rather than "timed out".
  expect(last.members.find((m) => m.name === victim.name)?.error).toMatch(/connection refused|connection reset/);
  expect(last.leader?.name).not.toBe(victim.name);

  await expectPageStaysFresh(page, rows);
  await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'at-risk');
  await expect(page.getByTestId('quorum-summary')).toHaveText('2 of 3 healthy, quorum 2, can lose 0 more');
  await expect(
    page.locator(`[data-testid=member-row][data-member-name="${victim.name}"] [data-testid=member-error]`),
  ).toContainText('connection refused');

  // Back again: healthy without touching the page, and the history holds both edges.
  stack.cluster.startMember(stack.memberIndex(victim.name));
  await waitForStatus(stack.api, (s) => s.quorum.state === 'healthy', 30_000, CLUSTER_ID);
  await expectPageStaysFresh(page, { [victim.name]: 'healthy', [others[0]!]: 'healthy', [others[1]!]: 'healthy' });
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
