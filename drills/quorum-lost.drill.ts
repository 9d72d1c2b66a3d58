// Quorum lost and regained: two of three members killed. The dashboard keeps serving fresh observations that say
// so (lost is a verdict, not missing data), the page says "Quorum lost", and as the members return it goes
// at-risk, then healthy, with the loss and the return in the event history.
import { expect, test } from '@playwright/test';
import { waitForStatus } from '../e2e/support/status-api';
import { CLUSTER_ID } from './support/drill-stack';
import { expectEdges } from './support/events';
import { expectAllBackHealthy, expectPageStaysFresh, expectRowsStayFresh } from './support/freshness';
import { healthyDrill } from './support/healthy-drill';

test(
  'two of three killed: quorum lost on a fresh page; both back: at-risk, then healthy, all recorded',
  healthyDrill('quorum-lost', async ({ stack, page, status }) => {
    const followers = status.members.filter((m) => !m.status?.isLeader).map((m) => m.name) as [string, string];
    const survivor = status.leader!.name;

    // Events from here on: what the cluster did while it started is not part of the drill.
    const faultAt = new Date().toISOString();
    await Promise.all(followers.map((name) => stack.cluster.stopMember(stack.memberIndex(name), 'SIGKILL')));

    // The survivor steps down once it cannot hear a quorum: it answers, but knows no leader.
    const rows = { [followers[0]]: 'unreachable', [followers[1]]: 'unreachable', [survivor]: 'unhealthy' } as const;
    const lost = await expectRowsStayFresh(stack, rows, 'lost', { timeoutMs: 20_000, until: (s) => s.leader === null });
    expect(lost.quorum).toMatchObject({ voting: 3, healthy: 0, required: 2, state: 'lost' });
    expect(lost.members.find((m) => m.name === survivor)?.error).toMatch(/no leader/);

    await expectPageStaysFresh(page, rows);
    await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'lost');
    await expect(page.getByTestId('quorum-state')).toContainText('Quorum lost');
    await expect(page.getByTestId('quorum-card')).toContainText('No leader');

    // One back: a quorum again, with nothing to spare.
    stack.cluster.startMember(stack.memberIndex(followers[0]));
    await waitForStatus(stack.api, (s) => s.quorum.state === 'at-risk' && s.leader !== null, 30_000, CLUSTER_ID);
    await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'at-risk');
    // Both back: healthy.
    stack.cluster.startMember(stack.memberIndex(followers[1]));
    await expectAllBackHealthy(stack, page, [...followers, survivor]);
    await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'healthy');

    // The loss first and the return last (a member rejoining may cause one more short election in between).
    await expectEdges(stack.api, ['quorum_lost', 'quorum_restored'], faultAt);
  }),
);
