// The query strings of the history and events APIs as the history page asks for them; the server's prefetch and the
// benchmark parse and send the same.
import { CHART_MAX_POINTS } from './chart-model';
import type { EventType, SeriesName } from './series';

export interface HistoryWindow {
  clusterId: string;
  from: string;
  to: string;
  live: boolean;
}

/** The history API's query for one chart; the server's prefetch parses the same. */
export function historyParams(w: HistoryWindow, series: SeriesName, memberId?: string): URLSearchParams {
  // A chart is a few hundred pixels wide: more points than that only cost the server, the network and the drawing.
  const params = new URLSearchParams({ series, from: w.from, to: w.to, points: String(CHART_MAX_POINTS) });
  if (memberId) params.set('member', memberId);
  return params;
}

/** The events API's query; the server's prefetch parses the same. */
export function eventsParams(w: HistoryWindow, types?: EventType[]): URLSearchParams {
  const params = new URLSearchParams({ from: w.from, to: w.to });
  if (types && types.length > 0) params.set('type', types.join(','));
  return params;
}
