import { describe, expect, it } from 'vitest';
import { histogramDelta, histogramQuantile, type Histogram } from './histogram';

/** Builds a histogram from [le, cumulative count] pairs; count is the +Inf bucket's. */
function hist(pairs: Array<[number, number]>, sum = 0): Histogram {
  const buckets = pairs.map(([le, count]) => ({ le, count }));
  return { buckets, count: buckets[buckets.length - 1]?.count ?? 0, sum };
}

// etcd's WAL fsync bucket bounds (0.001 s doubling).
const WAL_FSYNC_BOUNDS = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, Infinity];

/** A WAL fsync histogram from its cumulative counts, one per bound of WAL_FSYNC_BOUNDS. */
function walFsyncHist(counts: number[], sum = 0): Histogram {
  return hist(
    WAL_FSYNC_BOUNDS.map((le, i): [number, number] => [le, counts[i] ?? 0]),
    sum,
  );
}

// The counts a real single member showed after start.
const walFsync = walFsyncHist([2, 3, 5, 6, 7, 7, 7], 0.0215);

describe('histogramQuantile', () => {
  it('interpolates linearly inside the bucket that holds the rank', () => {
    // p99: rank 6.93 falls in (0.008, 0.016] which holds 1 observation; 0.93 of the way → 0.008 + 0.008 × 0.93.
    expect(histogramQuantile(0.99, walFsync)).toBeCloseTo(0.01544, 10);
    // p50: rank 3.5 falls in (0.002, 0.004] holding 2; 0.5 of 2 → a quarter of the way → 0.0025.
    expect(histogramQuantile(0.5, walFsync)).toBeCloseTo(0.0025, 10);
  });

  it('interpolates the lowest bucket from 0', () => {
    const h = hist([
      [0.1, 90],
      [0.5, 99],
      [1, 100],
      [Infinity, 100],
    ]);
    // rank 50 of the 90 in [0, 0.1] → 0.1 × 50/90.
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.1 * (50 / 90), 12);
    // rank 99 is exactly the top of (0.1, 0.5].
    expect(histogramQuantile(0.99, h)).toBeCloseTo(0.5, 12);
  });

  it('answers a rank in the +Inf bucket with the highest finite bound', () => {
    const h = hist([
      [0.1, 10],
      [0.5, 20],
      [Infinity, 100],
    ]);
    expect(histogramQuantile(0.99, h)).toBe(0.5);
    expect(histogramQuantile(0.5, h)).toBe(0.5);
    expect(histogramQuantile(0.1, h)).toBeCloseTo(0.1, 12);
  });

  it('has no answer without observations, without a +Inf bucket or for a NaN quantile', () => {
    expect(
      histogramQuantile(
        0.99,
        hist([
          [0.1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeNull();
    expect(
      histogramQuantile(
        0.99,
        hist([
          [0.1, 3],
          [0.2, 5],
        ]),
      ),
    ).toBeNull();
    expect(histogramQuantile(0.99, hist([[Infinity, 5]]))).toBeNull();
    expect(histogramQuantile(Number.NaN, walFsync)).toBeNull();
  });

  it('follows Prometheus for quantiles outside [0, 1]', () => {
    expect(histogramQuantile(1.5, walFsync)).toBe(Infinity);
    expect(histogramQuantile(-0.1, walFsync)).toBe(-Infinity);
  });

  it('does not depend on bucket order and tolerates a non-monotonic bucket', () => {
    const shuffled: Histogram = { ...walFsync, buckets: [...walFsync.buckets].reverse() };
    expect(histogramQuantile(0.99, shuffled)).toBeCloseTo(0.01544, 10);
    // 0.004 reads 4 (below 0.002's 5): forced up to 5, so rank 5.5 lands in (0.004, 0.008] → 0.004 + 0.004 × 0.5.
    const torn = hist([
      [0.002, 5],
      [0.004, 4],
      [0.008, 6],
      [Infinity, 6],
    ]);
    expect(histogramQuantile(11 / 12, torn)).toBeCloseTo(0.006, 12);
  });
});

describe('histogramDelta', () => {
  const later = walFsyncHist([2, 3, 5, 6, 7, 9, 10], 2.5);

  it('subtracts bucket by bucket, so the quantile describes only the window', () => {
    const { delta, reset } = histogramDelta(walFsync, later);
    expect(reset).toBe(false);
    expect(delta.count).toBe(3);
    expect(delta.sum).toBeCloseTo(2.4785, 10);
    expect(delta.buckets.map((b) => b.count)).toEqual([0, 0, 0, 0, 0, 2, 3]);
    // Rank 2.97 of the window: (0.016, 0.032] holds 2, the third went to +Inf → highest finite bound.
    expect(histogramQuantile(0.99, delta)).toBe(0.032);
    // Over all time the slow ones would be hidden below p99's old value: the window is what matters.
    expect(histogramQuantile(0.5, delta)).toBeCloseTo(0.016 + 0.016 * 0.75, 12);
  });

  it('treats a lower count as a restart and counts from the restart', () => {
    const afterRestart = walFsyncHist([1, 1, 1, 1, 1, 1, 1]);
    const { delta, reset } = histogramDelta(later, afterRestart);
    expect(reset).toBe(true);
    expect(delta).toEqual(afterRestart);
  });

  it('treats a lower bucket as a restart even when the total grew', () => {
    const moved = walFsyncHist([0, 3, 5, 6, 7, 9, 12]);
    expect(histogramDelta(later, moved).reset).toBe(true);
  });

  it('treats a changed bucket layout as a restart', () => {
    const relaid = hist([
      [0.001, 5],
      [0.01, 20],
      [Infinity, 30],
    ]);
    const { delta, reset } = histogramDelta(later, relaid);
    expect(reset).toBe(true);
    expect(delta).toEqual(relaid);
  });

  it('has an empty window without a previous scrape', () => {
    const { delta, reset } = histogramDelta(null, later);
    expect(reset).toBe(false);
    expect(delta.count).toBe(0);
    expect(delta.buckets.map((b) => b.le)).toEqual(later.buckets.map((b) => b.le));
    expect(histogramQuantile(0.99, delta)).toBeNull();
  });

  it('gives no quantile for a window with no new observations', () => {
    const { delta, reset } = histogramDelta(later, later);
    expect(reset).toBe(false);
    expect(delta.count).toBe(0);
    expect(histogramQuantile(0.99, delta)).toBeNull();
  });
});
