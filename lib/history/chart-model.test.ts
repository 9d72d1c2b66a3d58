import { describe, expect, it } from 'vitest';
import {
  fitTimeAxis,
  fitValueScale,
  firstSample,
  largestLatest,
  memberLines,
  MIN_FITTED_SPAN_MS,
  niceCeil,
  outagesFrom,
  timeTicks,
  type LevelLine,
} from './chart-model';
import type { ClusterEvent, SeriesMemberPoints } from './series';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 11, 5, 3, 0, 0);
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

const member = (memberId: string, points: Array<[number, number]>): SeriesMemberPoints => ({
  memberId,
  name: `m-${memberId}`,
  points,
});
const event = (type: ClusterEvent['type'], at: number, memberId: string | null = null): ClusterEvent => ({
  type,
  at: new Date(at).toISOString(),
  memberId,
  details: {},
});

describe('time axis', () => {
  it('keeps the chosen range when history covers it', () => {
    const axis = fitTimeAxis([T0 - 24 * HOUR, T0], T0 - 30 * HOUR);
    expect(axis.domain).toEqual([T0 - 24 * HOUR, T0]);
    expect(axis.fitted).toBe(false);
  });

  it('starts shortly before the first sample when history began inside the range', () => {
    const axis = fitTimeAxis([T0 - 24 * HOUR, T0], T0 - 40 * MIN);
    expect(axis.fitted).toBe(true);
    expect(axis.domain[1]).toBe(T0);
    expect(axis.domain[0]).toBeLessThan(T0 - 40 * MIN);
    expect(axis.domain[0]).toBeGreaterThan(T0 - 45 * MIN);
  });

  it('never fits to less than a minute, nor beyond the range', () => {
    expect(MIN_FITTED_SPAN_MS).toBe(MIN);
    expect(fitTimeAxis([T0 - HOUR, T0], T0 - 20_000).domain).toEqual([T0 - MIN, T0]);
    expect(fitTimeAxis([T0 - 40_000, T0], T0 - 20_000).domain).toEqual([T0 - 40_000, T0]);
    expect(fitTimeAxis([T0 - HOUR, T0], null).domain).toEqual([T0 - HOUR, T0]);
  });

  it('ticks are round, inside the domain, distinct and at most seven', () => {
    for (const span of [MIN, 5 * MIN, 15 * MIN, HOUR, 6 * HOUR, 24 * HOUR, 7 * 24 * HOUR, 31 * 24 * HOUR]) {
      const domain: [number, number] = [T0 - span + 12_345, T0 + 6_789];
      const ticks = timeTicks(domain, 6, 0);
      expect(ticks.length, `${span}`).toBeGreaterThanOrEqual(2);
      expect(ticks.length, `${span}`).toBeLessThanOrEqual(7);
      expect(new Set(ticks).size).toBe(ticks.length);
      for (const t of ticks) {
        expect(t).toBeGreaterThanOrEqual(domain[0]);
        expect(t).toBeLessThanOrEqual(domain[1]);
        expect(t % (span <= 5 * MIN ? 10_000 : MIN)).toBe(0);
      }
    }
  });

  it('ticks fall on whole hours of the wall clock the labels are read in (UTC+5:30 here), not of UTC', () => {
    const ist = 5.5 * HOUR;
    const ticks = timeTicks([T0, T0 + 6 * HOUR], 6, ist);
    expect(ticks.length).toBeGreaterThanOrEqual(5);
    for (const t of ticks) expect((t + ist) % HOUR).toBe(0);
  });

  it('the first sample is the earliest point of any series and member', () => {
    expect(firstSample([undefined, { members: [] }])).toBeNull();
    expect(
      firstSample([
        { members: [member('a', [[T0 - 5, 1]])] },
        { members: [member('b', []), member('c', [[T0 - 9, 1]])] },
      ]),
    ).toBe(T0 - 9);
  });
});

describe('value scale', () => {
  const quota: LevelLine = { value: 2 * GiB, label: 'quota 2 GiB', kind: 'quota' };

  it('a 7.5 MiB database is drawn on its own scale; the 2 GiB quota is listed, not drawn', () => {
    const scale = fitValueScale(
      [
        member('a', [
          [T0, 7 * MiB],
          [T0 + 1, 7.5 * MiB],
        ]),
      ],
      [quota],
    );
    expect(scale.domain[1]).toBeGreaterThanOrEqual(7.5 * MiB);
    expect(scale.domain[1]).toBeLessThan(10 * MiB);
    expect(scale.shown).toEqual([]);
    expect(scale.offScale).toEqual([quota]);
    expect(scale.peak).toBe(7.5 * MiB);
  });

  it('a database at 1.5 GiB draws the quota line and stretches the axis to it', () => {
    const scale = fitValueScale([member('a', [[T0, 1.5 * GiB]])], [quota]);
    expect(scale.shown).toEqual([quota]);
    expect(scale.domain[1]).toBeGreaterThanOrEqual(2 * GiB);
  });

  it('latency thresholds: 10 ms drawn for data at 6 ms, 500 ms listed', () => {
    const warn: LevelLine = { value: 10, label: 'etcd recommends < 10 ms', kind: 'recommended' };
    const crit: LevelLine = { value: 500, label: 'etcd alert 0.5 s', kind: 'alert' };
    const scale = fitValueScale([member('a', [[T0, 6]]), member('b', [[T0, 2]])], [warn, crit]);
    expect(scale.shown).toEqual([warn]);
    expect(scale.offScale).toEqual([crit]);
    expect(scale.domain[1]).toBeGreaterThanOrEqual(10);
    expect(scale.domain[1]).toBeLessThanOrEqual(12);
  });

  it('no data: nothing drawn, every level listed', () => {
    const scale = fitValueScale([], [quota]);
    expect(scale.peak).toBeNull();
    expect(scale.offScale).toEqual([quota]);
  });

  it('round maxima', () => {
    expect(niceCeil(0)).toBe(1);
    expect(niceCeil(7.3)).toBe(8);
    expect(niceCeil(1.01)).toBe(1.2);
    expect(niceCeil(1000)).toBe(1000);
    expect(niceCeil(1234)).toBe(1500);
  });
});

describe('outages', () => {
  const domain: [number, number] = [T0, T0 + HOUR];

  it('pairs losses with restores, runs an open one to the end, and clips to the domain', () => {
    const o = outagesFrom(
      [
        event('quorum_lost', T0 + 10 * MIN),
        event('quorum_restored', T0 + 12 * MIN),
        event('member_down', T0 + 9 * MIN, 'a'),
        event('member_up', T0 + 13 * MIN, 'a'),
        event('member_down', T0 + 50 * MIN, 'b'),
        event('member_up', T0 + 5 * MIN, 'c'), // down since before the window
      ],
      domain,
    );
    expect(o.quorumLost).toEqual([{ from: T0 + 10 * MIN, to: T0 + 12 * MIN }]);
    expect(o.memberDown.get('a')).toEqual([{ from: T0 + 9 * MIN, to: T0 + 13 * MIN }]);
    expect(o.memberDown.get('b')).toEqual([{ from: T0 + 50 * MIN, to: T0 + HOUR }]);
    expect(o.memberDown.get('c')).toEqual([{ from: T0, to: T0 + 5 * MIN }]);
  });
});

describe('outages still going on', () => {
  it('a live range shades a quorum loss or a member outage that began before it and has no event in it', () => {
    const domain: [number, number] = [T0, T0 + HOUR];
    const o = outagesFrom([], domain, { quorumLost: true, downMemberIds: ['b'] });
    expect(o.quorumLost).toEqual([{ from: T0, to: T0 + HOUR }]);
    expect(o.memberDown.get('b')).toEqual([{ from: T0, to: T0 + HOUR }]);
    // With its events in the range, the events decide.
    const seen = outagesFrom([event('member_down', T0 + 10 * MIN, 'b')], domain, {
      quorumLost: false,
      downMemberIds: ['b'],
    });
    expect(seen.memberDown.get('b')).toEqual([{ from: T0 + 10 * MIN, to: T0 + HOUR }]);
    expect(seen.quorumLost).toEqual([]);
  });
});

describe('member lines', () => {
  it('a member sampled all through an outage keeps its line; it breaks only where the outage starts or ends', () => {
    const outages = outagesFrom(
      [event('quorum_lost', T0 + 10_500), event('quorum_restored', T0 + 40_500)],
      [T0, T0 + HOUR],
    );
    const points: Array<[number, number]> = Array.from({ length: 60 }, (_, i) => [T0 + i * 1000, i]);
    const [line] = memberLines([member('a', points)], { stepMs: 1000, continuous: true, outages });
    const breaks = line!.points.filter((p) => p.v === null).map((p) => p.t);
    expect(breaks).toEqual([T0 + 10_500, T0 + 40_500]);
    expect(line!.points.filter((p) => p.v !== null)).toHaveLength(60);
  });

  const none = { quorumLost: [], memberDown: new Map() };
  const every5s = (from: number, to: number, v = 1): Array<[number, number]> => {
    const out: Array<[number, number]> = [];
    for (let t = from; t <= to; t += 5000) out.push([t, v]);
    return out;
  };

  it('a 75 s gap in a sampled series breaks the line; regular points do not', () => {
    const points = [...every5s(T0, T0 + MIN), ...every5s(T0 + MIN + 75_000, T0 + 3 * MIN)];
    const [line] = memberLines([member('a', points)], { stepMs: 1000, continuous: true, outages: none });
    const breaks = line!.points.filter((p) => p.v === null);
    expect(breaks).toHaveLength(1);
    expect(breaks[0]!.t).toBeGreaterThan(T0 + MIN);
    expect(breaks[0]!.t).toBeLessThan(T0 + MIN + 75_000);
    expect(line!.points.filter((p) => p.v !== null)).toHaveLength(points.length);
  });

  it('a quantile series joins across quiet gaps but breaks across an outage of its member or of quorum', () => {
    const points: Array<[number, number]> = [
      [T0, 3],
      [T0 + 2 * MIN, 4],
      [T0 + 6 * MIN, 5],
      [T0 + 9 * MIN, 5],
    ];
    const quiet = memberLines([member('a', points)], { stepMs: 1000, continuous: false, outages: none });
    expect(quiet[0]!.points.some((p) => p.v === null)).toBe(false);
    const outages = outagesFrom(
      [event('member_down', T0 + 3 * MIN, 'a'), event('member_up', T0 + 4 * MIN, 'a')],
      [T0, T0 + HOUR],
    );
    const [a, b] = memberLines([member('a', points), member('b', points)], {
      stepMs: 1000,
      continuous: false,
      outages,
    });
    expect(a!.points.filter((p) => p.v === null)).toHaveLength(1);
    expect(b!.points.some((p) => p.v === null)).toBe(false); // another member's outage does not break it
    const lost = outagesFrom(
      [event('quorum_lost', T0 + 7 * MIN), event('quorum_restored', T0 + 8 * MIN)],
      [T0, T0 + HOUR],
    );
    const [c] = memberLines([member('c', points)], { stepMs: 1000, continuous: false, outages: lost });
    expect(c!.points.filter((p) => p.v === null)).toHaveLength(1);
  });
});

describe('largest latest', () => {
  it('names the member whose newest value is largest and its share of the quota', () => {
    const members = [
      member('a', [
        [T0, 9 * MiB],
        [T0 + 1, 7.5 * MiB],
      ]),
      member('b', [[T0 + 1, 8 * MiB]]),
      member('c', []),
    ];
    expect(largestLatest(members, 2 * GiB)).toEqual({ name: 'm-b', value: 8 * MiB, share: 8 / 2048 });
    expect(largestLatest([], 2 * GiB)).toBeNull();
    // A member last sampled an hour before the others (removed, or down) is not the one named.
    const stale = [member('old', [[T0 - HOUR, 6 * GiB]]), member('b', [[T0, 8 * MiB]])];
    expect(largestLatest(stale, 8 * GiB)?.name).toBe('m-b');
  });
});
