// Prometheus histogram arithmetic: the increase between two scrapes and histogram_quantile over it. Pure; safe in the browser.

export interface HistogramBucket {
  /** Upper bound; Infinity for the +Inf bucket. */
  le: number;
  /** Cumulative: observations ≤ le. */
  count: number;
}

export interface Histogram {
  buckets: HistogramBucket[];
  count: number;
  sum: number;
}

function sameLayout(a: HistogramBucket[], b: HistogramBucket[]): boolean {
  return a.length === b.length && a.every((bucket, i) => bucket.le === b[i]?.le);
}

/**
 * The observations made between two scrapes. A counter that went down means the member restarted:
 * then the delta is everything since the restart (`cur`), as Prometheus's rate() assumes.
 * Without a previous scrape there is no window: the delta is empty (count 0).
 */
export function histogramDelta(prev: Histogram | null, cur: Histogram): { delta: Histogram; reset: boolean } {
  if (prev === null) {
    return { delta: { buckets: cur.buckets.map((b) => ({ le: b.le, count: 0 })), count: 0, sum: 0 }, reset: false };
  }
  const reset =
    cur.count < prev.count ||
    !sameLayout(prev.buckets, cur.buckets) ||
    cur.buckets.some((b, i) => b.count < (prev.buckets[i]?.count ?? 0));
  if (reset) return { delta: cur, reset: true };
  return {
    delta: {
      buckets: cur.buckets.map((b, i) => ({ le: b.le, count: b.count - (prev.buckets[i]?.count ?? 0) })),
      count: cur.count - prev.count,
      sum: cur.sum - prev.sum,
    },
    reset: false,
  };
}

/**
 * histogram_quantile as Prometheus computes it (promql/quantile.go bucketQuantile): linear interpolation
 * inside the bucket that holds the rank, the lowest bucket interpolating from 0, a rank in the +Inf bucket
 * answered with the highest finite bound. null when there is nothing to answer from (no observations,
 * no +Inf bucket, fewer than two buckets), where Prometheus says NaN.
 */
export function histogramQuantile(q: number, h: Histogram): number | null {
  if (Number.isNaN(q)) return null;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (h.count === 0) return null;
  const buckets = [...h.buckets].sort((a, b) => a.le - b.le);
  const last = buckets[buckets.length - 1];
  if (buckets.length < 2 || last === undefined || last.le !== Infinity) return null;
  // A scrape taken mid-update can show a bucket below its predecessor; Prometheus forces them monotonic.
  let max = 0;
  const cumulative = buckets.map((b) => ({ le: b.le, count: (max = Math.max(max, b.count)) }));
  const observations = max;
  if (observations === 0) return null;
  let rank = q * observations;
  const index = cumulative.findIndex((b) => b.count >= rank);
  if (index === cumulative.length - 1) return cumulative[cumulative.length - 2]?.le ?? null;
  const bucket = cumulative[index];
  if (bucket === undefined) return null;
  if (index === 0 && bucket.le <= 0) return bucket.le;
  let start = 0;
  let count = bucket.count;
  const below = cumulative[index - 1];
  if (below !== undefined) {
    start = below.le;
    count -= below.count;
    rank -= below.count;
  }
  const answer = start + (bucket.le - start) * (rank / count);
  return Number.isNaN(answer) ? null : answer;
}
