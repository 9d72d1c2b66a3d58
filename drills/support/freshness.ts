// "The dashboard stays fresh": the status API keeps serving new observations, never stale, and the page keeps
// saying Live with the member rows a drill expects — checked over several polls, with deadlines, never a fixed sleep.
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import type { ClusterStatus, MemberHealth } from '../../lib/cluster/status-types';
import { readStatus, waitForStatus } from '../../e2e/support/status-api';
import { CLUSTER_ID, STATUS_PATH, type DrillStack } from './drill-stack';

/** One line per member, for failure messages. */
export function describeStatus(s: ClusterStatus): string {
  const members = s.members.map((m) => `${m.name}=${m.health}${m.error ? ` (${m.error})` : ''}`).join(', ');
  return `stale=${s.stale} quorum=${s.quorum.state} leader=${s.leader?.name ?? 'none'} alarms=${s.alarms.length} [${members}]`;
}

/** What each named member's row must say; members not named are not checked. */
export type ExpectedRows = Record<string, MemberHealth>;

/** Null when every named member has the expected health, else what differs. */
export function rowsDiffer(s: ClusterStatus, rows: ExpectedRows): string | null {
  for (const [name, health] of Object.entries(rows)) {
    const m = s.members.find((x) => x.name === name);
    if (!m) return `${name} is not listed`;
    if (m.health !== health) return `${name} is ${m.health}, expected ${health}`;
    if (health === 'healthy' && m.probeMs === null) return `${name} is healthy without a probe time`;
  }
  return null;
}

export function quorumIs(actual: ClusterStatus['quorum']['state'], wanted: ClusterStatus['quorum']['state']) {
  return actual === wanted ? null : `quorum is ${actual}, expected ${wanted}`;
}

/**
 * Reads the status API until `observations` new polls have been served. Each one must be fresh (not stale, newer
 * than the one before) and pass `check` (null = fine, else what is wrong). Returns the last status.
 */
export async function expectApiStaysFresh(
  api: APIRequestContext,
  check: (s: ClusterStatus) => string | null,
  observations = 4,
): Promise<ClusterStatus> {
  let last = await readStatus(api, CLUSTER_ID);
  let seen = 0;
  // A poll a second; the deadline leaves room for a machine busy with other work.
  const deadline = Date.now() + observations * 5_000 + 10_000;
  while (seen < observations) {
    expect(Date.now(), `only ${seen} of ${observations} new observations before the deadline`).toBeLessThan(deadline);
    const s = await readStatus(api, CLUSTER_ID);
    expect(s.stale, `the API served a stale status: ${describeStatus(s)}`).toBe(false);
    expect(check(s), describeStatus(s)).toBeNull();
    if (s.observedAt !== last.observedAt) {
      expect(Date.parse(s.observedAt ?? '') > Date.parse(last.observedAt ?? ''), 'observedAt went back').toBe(true);
      seen++;
    }
    last = s;
    await new Promise((r) => setTimeout(r, 100)); // the poll interval between reads of a polled value
  }
  return last;
}

/**
 * Waits up to `timeoutMs` for the API's rows to say `rows` (and `until`, when given), then checks that it keeps
 * serving fresh polls with those rows and quorum `quorum`. Returns the last status read.
 */
export async function expectRowsStayFresh(
  stack: DrillStack,
  rows: ExpectedRows,
  quorum: ClusterStatus['quorum']['state'],
  wait: { timeoutMs: number; until?: (s: ClusterStatus) => boolean },
): Promise<ClusterStatus> {
  const ready = (s: ClusterStatus) => rowsDiffer(s, rows) === null && (wait.until?.(s) ?? true);
  await waitForStatus(stack.api, ready, wait.timeoutMs, CLUSTER_ID);
  return expectApiStaysFresh(stack.api, (s) => rowsDiffer(s, rows) ?? quorumIs(s.quorum.state, quorum));
}

/** The page says Live and shows the expected rows, now and after each of the next `polls` status fetches. */
export async function expectPageStaysFresh(page: Page, rows: ExpectedRows, members = 3, polls = 3): Promise<void> {
  const check = async () => {
    await expect(page.getByTestId('freshness')).toHaveAttribute('data-fresh', 'true');
    await expect(page.getByTestId('freshness')).toContainText('Live · updated');
    await expect(page.getByTestId('member-row')).toHaveCount(members);
    for (const [name, health] of Object.entries(rows)) {
      await expect(page.locator(`[data-testid=member-row][data-member-name="${name}"]`)).toHaveAttribute(
        'data-health',
        health,
      );
    }
  };
  await check();
  for (let i = 0; i < polls; i++) {
    // The page's own polling: wait for its next status answer, then look again.
    await page.waitForResponse((r) => r.url().endsWith(STATUS_PATH) && r.status() === 200, { timeout: 15_000 });
    await check();
  }
}

/**
 * One member out (`victim`), the other two healthy: waits for the rows to say so, then checks that the API keeps
 * serving fresh polls with quorum at risk and the page keeps up, and that the victim's row shows `reason` (matched
 * against the API's error, and shown on the page as `shownAs`). Returns the last status read.
 */
export async function expectOneMemberOut(
  stack: DrillStack,
  page: Page,
  victim: string,
  others: [string, string],
  reason: { error: RegExp; shownAs: string; timeoutMs?: number },
): Promise<ClusterStatus> {
  const rows = { [victim]: 'unreachable', [others[0]]: 'healthy', [others[1]]: 'healthy' } as const;
  const last = await expectRowsStayFresh(stack, rows, 'at-risk', { timeoutMs: reason.timeoutMs ?? 15_000 });
  expect(last.members.find((m) => m.name === victim)?.error).toMatch(reason.error);
  await expectPageStaysFresh(page, rows);
  await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'at-risk');
  await expect(
    page.locator(`[data-testid=member-row][data-member-name="${victim}"] [data-testid=member-error]`),
  ).toContainText(reason.shownAs);
  return last;
}

/** Every named member back: the API says healthy within `timeoutMs`, and the page shows each row healthy. */
export async function expectAllBackHealthy(
  stack: DrillStack,
  page: Page,
  names: readonly string[],
  timeoutMs = 30_000,
): Promise<void> {
  await waitForStatus(stack.api, (s) => s.quorum.state === 'healthy', timeoutMs, CLUSTER_ID);
  await expectPageStaysFresh(page, Object.fromEntries(names.map((n) => [n, 'healthy'] as const)));
}
