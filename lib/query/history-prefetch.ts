import 'server-only';
// The history page's charts answered on the server, so the page arrives with its data instead of asking for it
// after hydration (ten requests behind the page's own scripts cost about a second on a small machine).
import type { QueryClient } from '@tanstack/react-query';
import type { HistoryReads } from '@/lib/collector/history-reads';
import { eventsQuery, historyQuery } from './history-queries';
import { eventsParams, historyParams, type HistoryWindow } from '@/lib/history/history-params';
import { parseEventsQuery, parseHistoryQuery } from '@/lib/history/history-query';
import { HISTORY_CHARTS, OUTAGE_EVENT_TYPES, type EventType } from '@/lib/history/series';

/**
 * Answers the charts' queries into `client`. Every read is tried; each answer is set, and the first failure (a bad
 * range, an unknown cluster, the database's error) is thrown once all have settled, so the caller decides.
 */
export async function prefetchHistoryCharts(
  client: QueryClient,
  reads: HistoryReads,
  win: HistoryWindow,
  memberId: string | undefined,
  now = Date.now(),
): Promise<void> {
  const markerTypes: EventType[][] = [['leader_changed'], OUTAGE_EVENT_TYPES];
  const results = await Promise.allSettled([
    ...HISTORY_CHARTS.map(async (series) => {
      const q = historyQuery(win, series, memberId);
      const params = parseHistoryQuery(historyParams(win, series, memberId), now);
      client.setQueryData(q.queryKey, await reads.history(win.clusterId, params, now));
    }),
    ...markerTypes.map(async (types) => {
      const q = eventsQuery(win, types);
      const params = parseEventsQuery(eventsParams(win, types), now);
      client.setQueryData(q.queryKey, await reads.events(win.clusterId, params));
    }),
  ]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
