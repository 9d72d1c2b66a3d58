// When the database reaches its quota at the current growth rate: a least-squares line through its size history.

export type GrowthProjection =
  | { kind: 'insufficient-data' }
  | { kind: 'not-growing'; bytesPerDay: number }
  | { kind: 'reaches-quota'; bytesPerDay: number; days: number; at: number }
  | { kind: 'over-quota' };

const DAY_MS = 24 * 3600_000;
/** A fit over less time than this says more about noise than growth. */
export const MIN_SPAN_MS = 10 * 60_000;
/** Slower growth than this is shown as not growing: a quota would be years away. */
export const MIN_GROWTH_BYTES_PER_DAY = 1024 * 1024;

/**
 * Projects [epoch ms, bytes] points onto `quotaBytes`. `days` counts from the latest value; `at` is `now` plus
 * those days, as the chart says "in N days" at `now`.
 */
export function projectGrowth(points: Array<[number, number]>, quotaBytes: number, now: number): GrowthProjection {
  const usable = points.filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v));
  let latest: [number, number] | undefined;
  let earliest = Infinity;
  for (const p of usable) {
    if (!latest || p[0] > latest[0]) latest = p;
    earliest = Math.min(earliest, p[0]);
  }
  if (!latest) return { kind: 'insufficient-data' };
  if (latest[1] >= quotaBytes) return { kind: 'over-quota' };
  if (usable.length < 2 || latest[0] - earliest < MIN_SPAN_MS) return { kind: 'insufficient-data' };

  // Centred on the means so epoch-ms squares do not swallow the precision of the slope.
  const meanT = usable.reduce((a, [t]) => a + t, 0) / usable.length;
  const meanV = usable.reduce((a, [, v]) => a + v, 0) / usable.length;
  let covariance = 0;
  let variance = 0;
  for (const [t, v] of usable) {
    covariance += (t - meanT) * (v - meanV);
    variance += (t - meanT) ** 2;
  }
  const bytesPerDay = (covariance / variance) * DAY_MS;
  if (bytesPerDay < MIN_GROWTH_BYTES_PER_DAY) return { kind: 'not-growing', bytesPerDay };

  const days = (quotaBytes - latest[1]) / bytesPerDay;
  return { kind: 'reaches-quota', bytesPerDay, days, at: Math.round(now + days * DAY_MS) };
}
