// Every member down at once. The dashboard does not go down with them or go quiet: each poll still completes
// (a refused connection is an answer), the page shows three unreachable rows with the reason and "Quorum lost",
// and when the members return the page recovers on its own, with the outage in the event history.
import { expect, test } from '@playwright/test';
import { expectEdges } from './support/events';
import { expectAllBackHealthy, expectPageStaysFresh, expectRowsStayFresh } from './support/freshness';
import { healthyDrill } from './support/healthy-drill';

test(
  'every member killed: three unreachable rows with the reason, quorum lost, the page recovers by itself',
  healthyDrill('all-members-down', async ({ stack, page, status }) => {
    const names = status.members.map((m) => m.name);

    // Events from here on: what the cluster did while it started is not part of the drill.
    const faultAt = new Date().toISOString();
    await Promise.all(names.map((n) => stack.cluster.stopMember(stack.memberIndex(n), 'SIGKILL')));

    const down = Object.fromEntries(names.map((n) => [n, 'unreachable'] as const));
    const last = await expectRowsStayFresh(stack, down, 'lost', { timeoutMs: 15_000 });
    expect(last.leader).toBeNull();
    for (const m of last.members) expect(m.error, m.name).toMatch(/connection refused|connection reset/);
    // The members stay listed under their names and ids from before: the dashboard remembers the cluster.
    expect(last.members.map((m) => m.id).sort()).toEqual(status.members.map((m) => m.id).sort());
    expect(stack.dashboardAlive()).toBe(true);

    await expectPageStaysFresh(page, down);
    await expect(page.getByTestId('quorum-state')).toContainText('Quorum lost');
    await expect(page.getByTestId('member-error')).toHaveCount(3);
    for (const error of await page.getByTestId('member-error').allTextContents()) {
      expect(error).toMatch(/connection refused|connection reset/);
    }

    for (const n of names) stack.cluster.startMember(stack.memberIndex(n));
    await expectAllBackHealthy(stack, page, names, 40_000);
    // The loss first and the return last (a member rejoining may cause one more short election in between).
    await expectEdges(stack.api, ['quorum_lost', 'quorum_restored'], faultAt);
  }),
);
