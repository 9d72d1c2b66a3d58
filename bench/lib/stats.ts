// Summaries of small samples: nearest-rank percentiles, so every figure is a value that was actually measured.

export interface Summary {
  n: number;
  p50: number;
  /** Nearest rank: with fewer than 100 samples this is the maximum. */
  p99: number;
  min: number;
  max: number;
  mean: number;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  const v = sorted[rank - 1];
  if (v === undefined) throw new Error('percentile of an empty sample');
  return v;
}

/** The true median: the middle value, or the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid];
  if (hi === undefined) throw new Error('median of an empty sample');
  return sorted.length % 2 ? hi : ((sorted[mid - 1] as number) + hi) / 2;
}

export function summarize(values: readonly number[]): Summary | null {
  if (values.length === 0) return null;
  const round = (x: number) => Math.round(x);
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
    mean: round(values.reduce((a, b) => a + b, 0) / values.length),
  };
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
