// The leader killed with SIGKILL: the remaining two elect a new one. Through the election the API never serves a
// stale status, the page names the new leader and shows the old one unreachable, and the change is in the history.
import { expect, test } from '@playwright/test';
import { readStatus, waitForStatus } from '../e2e/support/status-api';
import type { ClusterStatus } from '../lib/cluster/status-types';
import { CLUSTER_ID, drillStack } from './support/drill-stack';
import { readEvents } from './support/events';
import { describeStatus, expectApiStaysFresh, expectPageStaysFresh, quorumIs, rowsDiffer } from './support/freshness';

const drill = drillStack('leader-killed');

test('the leader killed: a new leader shows up, nothing goes stale, the change is recorded', async ({ page }) => {
  const stack = drill();
  const { status } = await waitForStatus(stack.api, (s) => s.quorum.state === 'healthy', 30_000, CLUSTER_ID);
  const old = status.leader!;
  const survivors = status.members.filter((m) => m.name !== old.name).map((m) => m.name) as [string, string];
  await page.goto(`${stack.url}/`);
  await expect(page.getByText(`Leader: ${old.name}`)).toBeVisible();

  await stack.cluster.stopMember(stack.memberIndex(old.name), 'SIGKILL');

  // Every answer from the kill until a survivor leads is a fresh one.
  let elected: ClusterStatus | undefined;
  await expect
    .poll(
      async () => {
        const s = await readStatus(stack.api, CLUSTER_ID);
        expect(s.stale, `stale during the election: ${describeStatus(s)}`).toBe(false);
        if (s.leader && survivors.includes(s.leader.name)) elected = s;
        return elected !== undefined;
      },
      { timeout: 20_000, intervals: [100] },
    )
    .toBe(true);
  const newLeader = elected!.leader!.name;

  const rows = { [old.name]: 'unreachable', [survivors[0]]: 'healthy', [survivors[1]]: 'healthy' } as const;
  await waitForStatus(stack.api, (s) => rowsDiffer(s, rows) === null, 15_000, CLUSTER_ID);
  await expectApiStaysFresh(
    stack.api,
    (s) =>
      rowsDiffer(s, rows) ??
      quorumIs(s.quorum.state, 'at-risk') ??
      (s.leader?.name === newLeader ? null : 'leader changed again'),
  );
  await expectPageStaysFresh(page, rows);
  await expect(page.getByText(`Leader: ${newLeader}`)).toBeVisible();
  await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'at-risk');

  await expect
    .poll(async () =>
      (await readEvents(stack.api, ['leader_changed'])).some(
        (e) => e.details.oldLeaderName === old.name && e.details.newLeaderName === newLeader,
      ),
    )
    .toBe(true);

  // The old leader back: it rejoins as a follower and all three are healthy.
  stack.cluster.startMember(stack.memberIndex(old.name));
  await waitForStatus(stack.api, (s) => s.quorum.state === 'healthy', 30_000, CLUSTER_ID);
  await expectPageStaysFresh(page, { [old.name]: 'healthy', [survivors[0]]: 'healthy', [survivors[1]]: 'healthy' });
});
