// react-query resources for the history charts and the event timeline.
import { queryOptions } from '@tanstack/react-query';
import type { EventsResponse, EventType, HistoryResponse, SeriesName } from '@/lib/history/series';
import type { AlertsResponse } from '@/lib/alerts/alert-types';
import { eventsParams, historyParams, type HistoryWindow } from '@/lib/history/history-params';
import { fetchJson } from './fetch-json';

/** A live range ("-1h" to "now") is refreshed; a fixed window in the past is not. */
const LIVE_REFRESH_MS = 10_000;

export function historyQuery(w: HistoryWindow, series: SeriesName, memberId?: string) {
  const params = historyParams(w, series, memberId);
  return queryOptions({
    queryKey: ['clusters', w.clusterId, 'history', series, w.from, w.to, memberId ?? null],
    queryFn: ({ signal }) =>
      fetchJson<HistoryResponse>(`/api/clusters/${encodeURIComponent(w.clusterId)}/history?${params}`, signal),
    refetchInterval: w.live ? LIVE_REFRESH_MS : false,
    staleTime: w.live ? 5_000 : Infinity,
  });
}

export function eventsQuery(w: HistoryWindow, types?: EventType[]) {
  const params = eventsParams(w, types);
  return queryOptions({
    queryKey: ['clusters', w.clusterId, 'events', w.from, w.to, types?.join(',') ?? ''],
    queryFn: ({ signal }) =>
      fetchJson<EventsResponse>(`/api/clusters/${encodeURIComponent(w.clusterId)}/events?${params}`, signal),
    refetchInterval: w.live ? 5_000 : false,
    staleTime: w.live ? 2_000 : Infinity,
  });
}

/** The alerts that fired in the window or were firing during it. */
export function alertHistoryQuery(w: HistoryWindow) {
  const params = new URLSearchParams({ cluster: w.clusterId, from: w.from, to: w.to });
  return queryOptions({
    queryKey: ['alerts', w.clusterId, 'history', w.from, w.to],
    queryFn: ({ signal }) => fetchJson<AlertsResponse>(`/api/alerts?${params}`, signal),
    refetchInterval: w.live ? LIVE_REFRESH_MS : false,
    staleTime: w.live ? 5_000 : Infinity,
  });
}
