// The history and events API: validates the query, reads the store, answers in the API's shapes.
import 'server-only';
import { badRequest, notFound } from '@/lib/api/api-error';
import {
  EVENT_TYPES,
  isSeriesName,
  SERIES,
  type EventType,
  type EventsResponse,
  type HistoryResponse,
} from '@/lib/history/series';
import { parseTimeRange } from '@/lib/history/time-range';
import { getRuntime } from './runtime';

const MEMBER_ID = /^[0-9a-f]{1,16}$/;

function historyOf(clusterId: string) {
  const runtime = getRuntime();
  if (!runtime.collectors.has(clusterId)) throw notFound(`no cluster with id "${clusterId}"`);
  return runtime;
}

function range(params: URLSearchParams, now: number) {
  return parseTimeRange({ from: params.get('from'), to: params.get('to') }, now);
}

export function getHistory(clusterId: string, params: URLSearchParams, now = Date.now()): HistoryResponse {
  const runtime = historyOf(clusterId);
  const series = params.get('series');
  if (!series) throw badRequest(`series is required: one of ${Object.keys(SERIES).join(', ')}`);
  if (!isSeriesName(series)) {
    throw badRequest(`series: "${series.slice(0, 60)}" is not one of ${Object.keys(SERIES).join(', ')}`);
  }
  const member = params.get('member');
  if (member !== null && !MEMBER_ID.test(member)) {
    throw badRequest(`member: "${member.slice(0, 60)}" is not a member id (hex, as etcdctl prints it)`);
  }
  const { from, to } = range(params, now);
  const result = runtime.history.samples.query({
    clusterId,
    series,
    from,
    to,
    ...(member ? { memberId: member } : {}),
    rawRetentionMs: runtime.config.history.rawRetentionMs,
    now,
  });
  return {
    series,
    unit: SERIES[series].unit,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    ...result,
  };
}

export function getEvents(clusterId: string, params: URLSearchParams, now = Date.now()): EventsResponse {
  const runtime = historyOf(clusterId);
  const { from, to } = range(params, now);
  const typeParam = params.get('type');
  let types: EventType[] | undefined;
  if (typeParam) {
    types = [];
    for (const t of typeParam.split(',')) {
      if (!(EVENT_TYPES as readonly string[]).includes(t)) {
        throw badRequest(`type: "${t.slice(0, 60)}" is not one of ${EVENT_TYPES.join(', ')}`);
      }
      types.push(t as EventType);
    }
  }
  return { events: runtime.history.events.query({ clusterId, from, to, ...(types ? { types } : {}) }) };
}
