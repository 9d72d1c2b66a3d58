// A drill file's one test, on its own stack, starting from a healthy cluster that the page shows healthy.
import { expect, type Page } from '@playwright/test';
import { waitForStatus } from '../../e2e/support/status-api';
import type { ClusterStatus, MemberView } from '../../lib/cluster/status-types';
import { CLUSTER_ID, drillStack, type DrillName, type DrillStack, type DrillStackOptions } from './drill-stack';

export interface HealthyStart {
  stack: DrillStack;
  page: Page;
  /** The healthy status the drill starts from. */
  status: ClusterStatus;
}

/**
 * The body of the drill file's one test, on a stack of its own (drillStack): `run` is called once the cluster is
 * healthy and the page is open and says so. Call it at the top level, as `test(title, healthyDrill(name, run))`.
 */
export function healthyDrill(
  name: DrillName,
  run: (start: HealthyStart) => Promise<void>,
  opts: DrillStackOptions = {},
): (fixtures: { page: Page }) => Promise<void> {
  const drill = drillStack(name, opts);
  return async ({ page }) => {
    const stack = drill();
    const { status } = await waitForStatus(stack.api, (s) => s.quorum.state === 'healthy', 30_000, CLUSTER_ID);
    await page.goto(`${stack.url}/`);
    await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'healthy');
    await run({ stack, page, status });
  };
}

export interface FollowerStart extends HealthyStart {
  /** A follower, the member the drill harms. */
  victim: MemberView;
  /** The two members left alone. */
  others: [string, string];
}

/** healthyDrill on one follower. */
export function followerDrill(
  name: DrillName,
  run: (start: FollowerStart) => Promise<void>,
): (fixtures: { page: Page }) => Promise<void> {
  return healthyDrill(name, (start) => {
    const victim = start.status.members.find((m) => !m.status?.isLeader)!;
    const others = start.status.members.filter((m) => m !== victim).map((m) => m.name) as [string, string];
    return run({ ...start, victim, others });
  });
}
