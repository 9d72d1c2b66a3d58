// The query strings of the history and events API, read and validated; each message names the parameter and value.
import { invalidInput } from '@/lib/errors/domain-errors';
import { EVENT_TYPES, isSeriesName, SERIES, type EventType, type SeriesName } from './series';
import { parseTimeRange } from './time-range';

const MEMBER_ID = /^[0-9a-f]{1,16}$/;
const POINTS = /^\d{1,4}$/;
export const MIN_POINTS = 10;
export const MAX_POINTS = 1000;

export interface HistoryQuery {
  series: SeriesName;
  memberId?: string;
  from: number;
  to: number;
  /** Most points per member (`points`, 10–1000); the server's default when absent. */
  maxPoints?: number;
}

export interface EventsQuery {
  types?: EventType[];
  from: number;
  to: number;
}

const range = (params: URLSearchParams, now: number) =>
  parseTimeRange({ from: params.get('from'), to: params.get('to') }, now);

export function parseHistoryQuery(params: URLSearchParams, now = Date.now()): HistoryQuery {
  const series = params.get('series');
  if (!series) throw invalidInput(`series is required: one of ${Object.keys(SERIES).join(', ')}`);
  if (!isSeriesName(series)) {
    throw invalidInput(`series: "${series.slice(0, 60)}" is not one of ${Object.keys(SERIES).join(', ')}`);
  }
  const member = params.get('member');
  if (member !== null && !MEMBER_ID.test(member)) {
    throw invalidInput(`member: "${member.slice(0, 60)}" is not a member id (hex, as etcdctl prints it)`);
  }
  const points = params.get('points');
  let maxPoints: number | undefined;
  if (points !== null) {
    maxPoints = POINTS.test(points) ? Number(points) : NaN;
    if (!(maxPoints >= MIN_POINTS && maxPoints <= MAX_POINTS)) {
      throw invalidInput(`points: "${points.slice(0, 60)}" is not a whole number from ${MIN_POINTS} to ${MAX_POINTS}`);
    }
  }
  return {
    series,
    ...(member ? { memberId: member } : {}),
    ...(maxPoints !== undefined ? { maxPoints } : {}),
    ...range(params, now),
  };
}

export function parseEventsQuery(params: URLSearchParams, now = Date.now()): EventsQuery {
  const { from, to } = range(params, now);
  const typeParam = params.get('type');
  if (!typeParam) return { from, to };
  const types: EventType[] = [];
  for (const t of typeParam.split(',')) {
    if (!(EVENT_TYPES as readonly string[]).includes(t)) {
      throw invalidInput(`type: "${t.slice(0, 60)}" is not one of ${EVENT_TYPES.join(', ')}`);
    }
    types.push(t as EventType);
  }
  return { types, from, to };
}
