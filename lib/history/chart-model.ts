// What the history charts draw, decided apart from the drawing: the time axis every chart shares, fitted to the
// history that exists; value scales that fit the data (a threshold or the quota drawn only when it is in range);
// lines broken where a member was not sampled; outages to shade. Shared with the browser; pure, unit-tested.
import type { ClusterEvent, SeriesMemberPoints } from './series';

const MINUTE = 60_000;

/** A fitted axis never spans less than this, so a few seconds of history are not stretched across the whole chart. */
export const MIN_FITTED_SPAN_MS = MINUTE;

export interface TimeAxis {
  /** The [from, to] every chart draws, in epoch ms. */
  domain: [number, number];
  /** Tick positions, the same on every chart. */
  ticks: number[];
  /** True when the domain starts after the chosen range because there is no history before it. */
  fitted: boolean;
}

const TICK_STEPS_MS = [
  10_000,
  15_000,
  30_000,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  60 * MINUTE,
  2 * 60 * MINUTE,
  3 * 60 * MINUTE,
  6 * 60 * MINUTE,
  12 * 60 * MINUTE,
  24 * 60 * MINUTE,
  2 * 24 * 60 * MINUTE,
];

/**
 * Round ticks (whole seconds, minutes, hours or days of the wall clock the labels are read in: `utcOffsetMs` ahead
 * of UTC, the browser's by default) for a domain, about `target` of them and never more than target + 1.
 */
export function timeTicks(
  domain: [number, number],
  target = 6,
  utcOffsetMs = -new Date(domain[0]).getTimezoneOffset() * MINUTE,
): number[] {
  const [from, to] = domain;
  if (!(to > from)) return [];
  const span = to - from;
  const step =
    TICK_STEPS_MS.find((s) => span / s <= target) ?? Math.ceil(span / target / (24 * 60 * MINUTE)) * 24 * 60 * MINUTE;
  const ticks: number[] = [];
  for (let t = Math.ceil((from + utcOffsetMs) / step) * step - utcOffsetMs; t <= to; t += step) ticks.push(t);
  return ticks;
}

/**
 * The time axis of all charts: the chosen range, or from shortly before the first sample when the history starts
 * inside the range (so a fresh install does not squeeze every line against the right edge).
 */
export function fitTimeAxis(range: [number, number], firstSampleAt: number | null): TimeAxis {
  const [from, to] = range;
  let start = from;
  if (firstSampleAt !== null && firstSampleAt > from) {
    const span = Math.max(MIN_FITTED_SPAN_MS, (to - firstSampleAt) * 1.05);
    start = Math.max(from, to - span);
  }
  const domain: [number, number] = [start, to];
  return { domain, ticks: timeTicks(domain), fitted: start > from };
}

/** The earliest point of any member of any series, or null when there is none. */
export function firstSample(series: ReadonlyArray<{ members: SeriesMemberPoints[] } | undefined>): number | null {
  let first: number | null = null;
  for (const s of series) {
    for (const m of s?.members ?? []) {
      const t = m.points[0]?.[0];
      if (t !== undefined && (first === null || t < first)) first = t;
    }
  }
  return first;
}

export interface LevelLine {
  value: number;
  label: string;
  kind: 'recommended' | 'alert' | 'quota';
}

export interface ValueScale {
  /** [0, max] of the value axis. */
  domain: [number, number];
  /** The level lines inside the domain, drawn. */
  shown: LevelLine[];
  /** The level lines above it, listed in the key as off the scale. */
  offScale: LevelLine[];
  /** The largest value drawn, or null when there are no points. */
  peak: number | null;
}

/** A line this many times the data's peak or closer is drawn (and the axis stretched to it); farther, it is listed. */
export const LEVEL_IN_RANGE_RATIO = 2;

/** 1, 2, 2.5, 5 × a power of ten at or above `v`; for bytes, powers of two times 1, 1.5 above 1 KiB read as well. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const exp = Math.floor(Math.log10(v));
  const base = 10 ** exp;
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (m * base >= v * (1 - 1e-12)) return m * base;
  }
  return 10 * base;
}

/**
 * The value axis of one chart: from zero to a little above the data's peak, stretched to a level line (a threshold
 * or the quota) only when that line is within LEVEL_IN_RANGE_RATIO of the peak.
 */
export function fitValueScale(
  members: ReadonlyArray<SeriesMemberPoints>,
  levels: ReadonlyArray<LevelLine>,
): ValueScale {
  let peak: number | null = null;
  for (const m of members)
    for (const [, v] of m.points) if (Number.isFinite(v) && (peak === null || v > peak)) peak = v;
  const shown: LevelLine[] = [];
  const offScale: LevelLine[] = [];
  let top = peak ?? 0;
  for (const level of levels) {
    if (peak !== null && level.value <= peak * LEVEL_IN_RANGE_RATIO) {
      shown.push(level);
      top = Math.max(top, level.value);
    } else offScale.push(level);
  }
  return { domain: [0, niceCeil(top * 1.08)], shown, offScale, peak };
}

export interface Interval {
  from: number;
  to: number;
}

export interface Outages {
  /** When the cluster had no quorum. */
  quorumLost: Interval[];
  /** When each member (by id) was down. */
  memberDown: Map<string, Interval[]>;
}

/**
 * Quorum losses and member outages from the events, clipped to the domain; one still open at the end runs to it,
 * one already open before the first event starts at the domain's start.
 */
export function outagesFrom(
  events: ReadonlyArray<ClusterEvent>,
  domain: [number, number],
  /** For a live range: the state now, so an outage that began before the range and goes on is shaded throughout. */
  now?: { quorumLost: boolean; downMemberIds: readonly string[] },
): Outages {
  const [start, end] = domain;
  const sorted = [...events].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const quorumLost: Interval[] = [];
  const memberDown = new Map<string, Interval[]>();
  let lostAt: number | null = null;
  let quorumSeen = false;
  const downAt = new Map<string, number>();
  const memberSeen = new Set<string>();
  const push = (list: Interval[], from: number, to: number) => {
    const f = Math.max(from, start);
    const t = Math.min(to, end);
    if (t > f) list.push({ from: f, to: t });
  };
  const downList = (id: string) => {
    let list = memberDown.get(id);
    if (!list) memberDown.set(id, (list = []));
    return list;
  };
  for (const e of sorted) {
    const at = Date.parse(e.at);
    if (e.type === 'quorum_lost') {
      lostAt ??= at;
      quorumSeen = true;
    } else if (e.type === 'quorum_restored') {
      // Restored with no loss seen: it was lost before the window.
      push(quorumLost, lostAt ?? (quorumSeen ? at : start), at);
      lostAt = null;
      quorumSeen = true;
    } else if (e.memberId && e.type === 'member_down') {
      if (!downAt.has(e.memberId)) downAt.set(e.memberId, at);
      memberSeen.add(e.memberId);
    } else if (e.memberId && e.type === 'member_up') {
      const from = downAt.get(e.memberId) ?? (memberSeen.has(e.memberId) ? at : start);
      push(downList(e.memberId), from, at);
      downAt.delete(e.memberId);
      memberSeen.add(e.memberId);
    }
  }
  if (lostAt !== null) push(quorumLost, lostAt, end);
  else if (now?.quorumLost && !quorumSeen) push(quorumLost, start, end);
  for (const [id, at] of downAt) push(downList(id), at, end);
  for (const id of now?.downMemberIds ?? []) if (!memberSeen.has(id)) push(downList(id), start, end);
  return { quorumLost, memberDown };
}

export interface LinePoint {
  t: number;
  v: number | null;
}

export interface MemberLine {
  memberId: string;
  name: string;
  /** The member's points, with a { v: null } where its line must break. */
  points: LinePoint[];
}

/**
 * Each member's line, with a null where it must break: where the member was down (or the cluster had no quorum)
 * between two of its points, and, for a series sampled on every poll (`continuous`), wherever two points are farther
 * apart than three times the usual spacing (a gap in sampling, such as the dashboard itself being down). Quantile
 * series only have points when there was activity, so only outages break them.
 */
export function memberLines(
  members: ReadonlyArray<SeriesMemberPoints>,
  opts: { stepMs: number; continuous: boolean; outages: Outages },
): MemberLine[] {
  return members.map((m) => {
    const gapMs = 3 * Math.max(opts.stepMs, medianSpacing(m.points));
    const down = [...opts.outages.quorumLost, ...(opts.outages.memberDown.get(m.memberId) ?? [])];
    const points: LinePoint[] = [];
    let prev: number | null = null;
    for (const [t, v] of m.points) {
      if (prev !== null) {
        const from = prev;
        // Only where an outage starts or ends between the two points: a member sampled during an outage (it answers
        // but is unhealthy, as every member without quorum) keeps its line there.
        const inside = (x: number) => x > from && x < t;
        const outage = down.some((i) => inside(i.from) || inside(i.to));
        if (outage || (opts.continuous && t - from > gapMs)) points.push({ t: Math.round((from + t) / 2), v: null });
      }
      points.push({ t, v });
      prev = t;
    }
    return { memberId: m.memberId, name: m.name, points };
  });
}

function medianSpacing(points: ReadonlyArray<[number, number]>): number {
  if (points.length < 2) return 0;
  const gaps: number[] = [];
  for (let i = 1; i < points.length; i++) gaps.push(points[i]![0] - points[i - 1]![0]);
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)]!;
}

/** Points a chart asks for: about one per two pixels of a wide chart; the server buckets to at most this many. */
export const CHART_MAX_POINTS = 400;

/**
 * The member whose latest value is largest, and that value as a share of `quota` (0–1+); null without points. Only
 * members sampled lately count (within `staleMs` of the newest point): a member removed or down days ago does not.
 */
export function largestLatest(
  members: ReadonlyArray<SeriesMemberPoints>,
  quota: number,
  staleMs = 5 * MINUTE,
): { name: string; value: number; share: number } | null {
  const newest = Math.max(...members.map((m) => m.points.at(-1)?.[0] ?? -Infinity));
  let best: { name: string; value: number; share: number } | null = null;
  for (const m of members) {
    const last = m.points.at(-1);
    if (!last || last[0] < newest - staleMs) continue;
    if (best === null || last[1] > best.value) best = { name: m.name, value: last[1], share: last[1] / quota };
  }
  return best;
}
