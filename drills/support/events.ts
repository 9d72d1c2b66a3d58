// The event history as the API serves it: what the timeline on the history page shows.
import { expect, type APIRequestContext } from '@playwright/test';
import type { ClusterEvent, EventType } from '../../lib/history/series';
import { CLUSTER_ID } from './drill-stack';

/**
 * Events of the given types, oldest first: since `since` (an ISO time, e.g. just before the drill's fault; what the
 * cluster did while it started is not part of the drill), or of the last hour.
 */
export async function readEvents(api: APIRequestContext, types: EventType[], since?: string): Promise<ClusterEvent[]> {
  const from = encodeURIComponent(since ?? '-1h');
  const res = await api.get(`/api/clusters/${CLUSTER_ID}/events?from=${from}&type=${types.join(',')}`);
  expect(res.status(), await res.text()).toBe(200);
  const { events } = (await res.json()) as { events: ClusterEvent[] };
  return events.sort((a, b) => a.at.localeCompare(b.at));
}

/**
 * The first and the last of these events are `first` and `last`, polled until they are: a member (or a cluster)
 * may flap once more while it recovers, so what lies between is not judged. Only events from `since` (an ISO time
 * taken just before the drill's fault) count: while the cluster started, the dashboard's first polls may already
 * have recorded a member coming up or quorum being restored. `memberId` keeps one member's events.
 */
export async function expectEdges(
  api: APIRequestContext,
  [first, last]: [EventType, EventType],
  since: string,
  memberId?: string | null,
): Promise<void> {
  await expect
    .poll(async () => {
      const types = (await readEvents(api, [first, last], since))
        .filter((e) => memberId === undefined || e.memberId === memberId)
        .map((e) => e.type);
      return [types[0], types.at(-1)];
    })
    .toEqual([first, last]);
}
