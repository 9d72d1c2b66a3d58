// Every member down at once. The dashboard does not go down with them or go quiet: each poll still completes
// (a refused connection is an answer), the page shows three unreachable rows with the reason and "Quorum lost",
// and when the members return the page recovers on its own, with the outage in the event history.
import { expect, test } from '@playwright/test';
import { waitForStatus } from '../e2e/support/status-api';
import { CLUSTER_ID, drillStack } from './support/drill-stack';
import { expectEdges } from './support/events';
import {
  expectApiStaysFresh,
  expectPageStaysFresh,
  quorumIs,
  rowsDiffer,
  expectAllBackHealthy,
} from './support/freshness';

const drill = drillStack('all-members-down');

test('every member killed: three unreachable rows with the reason, quorum lost, the page recovers by itself', async ({
  page,
}) => {
  const stack = drill();
  const { status } = await waitForStatus(stack.api, (s) => s.quorum.state === 'healthy', 30_000, CLUSTER_ID);
  const names = status.members.map((m) => m.name);
  await page.goto(`${stack.url}/`);
  await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'healthy');

  // Events from here on: what the cluster did while it started is not part of the drill.
  const faultAt = new Date().toISOString();
  await Promise.all(names.map((n) => stack.cluster.stopMember(stack.memberIndex(n), 'SIGKILL')));

  const down = Object.fromEntries(names.map((n) => [n, 'unreachable'] as const));
  await waitForStatus(stack.api, (s) => rowsDiffer(s, down) === null, 15_000, CLUSTER_ID);
  const last = await expectApiStaysFresh(stack.api, (s) => rowsDiffer(s, down) ?? quorumIs(s.quorum.state, 'lost'));
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
});
