import 'server-only';
// The history page's charts answered on the server, so the page arrives with its data instead of asking for it
// after hydration (ten requests behind the page's own scripts cost about a second on a small machine).
import type { QueryClient } from '@tanstack/react-query';
import type { HistoryReads } from '@/lib/collector/history-reads';
import { eventsQuery, historyQuery } from './history-queries';
import { eventsParams, historyParams, type HistoryWindow } from '@/lib/history/history-params';
import { parseEventsQuery, parseHistoryQuery } from '@/lib/history/history-query';
import { HISTORY_CHARTS, OUTAGE_EVENT_TYPES, type EventType } from '@/lib/history/series';

export function prefetchHistoryCharts(
  client: QueryClient,
  reads: HistoryReads,
  win: HistoryWindow,
  memberId: string | undefined,
  now = Date.now(),
): void {
  for (const series of HISTORY_CHARTS) {
    const q = historyQuery(win, series, memberId);
    client.setQueryData(
      q.queryKey,
      reads.history(win.clusterId, parseHistoryQuery(historyParams(win, series, memberId), now), now),
    );
  }
  const markerTypes: EventType[][] = [['leader_changed'], OUTAGE_EVENT_TYPES];
  for (const types of markerTypes) {
    const q = eventsQuery(win, types);
    client.setQueryData(q.queryKey, reads.events(win.clusterId, parseEventsQuery(eventsParams(win, types), now)));
  }
}
