// The event history as the API serves it: what the timeline on the history page shows.
import { expect, type APIRequestContext } from '@playwright/test';
import type { ClusterEvent, EventType } from '../../lib/history/series';
import { CLUSTER_ID } from './drill-stack';

/** Events of the last hour of the given types, oldest first. */
export async function readEvents(api: APIRequestContext, types: EventType[]): Promise<ClusterEvent[]> {
  const res = await api.get(`/api/clusters/${CLUSTER_ID}/events?from=-1h&type=${types.join(',')}`);
  expect(res.status(), await res.text()).toBe(200);
  const { events } = (await res.json()) as { events: ClusterEvent[] };
  return events.sort((a, b) => a.at.localeCompare(b.at));
}
