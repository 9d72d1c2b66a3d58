// The range picker's choices and the thresholds drawn on the charts; shared with the browser.
import type { SeriesName } from './series';

export const RANGE_PRESETS = {
  '15m': { label: '15 min', ms: 15 * 60_000 },
  '1h': { label: '1 h', ms: 3_600_000 },
  '6h': { label: '6 h', ms: 6 * 3_600_000 },
  '24h': { label: '24 h', ms: 24 * 3_600_000 },
  '7d': { label: '7 d', ms: 7 * 86_400_000 },
} as const;

export type RangePreset = keyof typeof RANGE_PRESETS;

export const DEFAULT_RANGE: RangePreset = '1h';

export function isRangePreset(value: string | undefined): value is RangePreset {
  return value !== undefined && Object.hasOwn(RANGE_PRESETS, value);
}

export interface Threshold {
  value: number;
  label: string;
  severity: 'recommended' | 'alert';
}

/** etcd's guidance (WAL fsync p99 < 10 ms, commit p99 < 25 ms) and the etcd project's own alert levels. */
export const THRESHOLDS: Partial<Record<SeriesName, Threshold[]>> = {
  wal_fsync_p99_ms: [
    { value: 10, label: 'etcd recommends < 10 ms', severity: 'recommended' },
    { value: 500, label: 'etcd alert 0.5 s', severity: 'alert' },
  ],
  backend_commit_p99_ms: [
    { value: 25, label: 'etcd recommends < 25 ms', severity: 'recommended' },
    { value: 250, label: 'etcd alert 0.25 s', severity: 'alert' },
  ],
  peer_rtt_p99_ms: [{ value: 150, label: 'etcd alert 0.15 s', severity: 'alert' }],
};

// The NOC wall still takes the default quota from here; its home is lib/cluster/thresholds.
export { DEFAULT_QUOTA_BYTES } from '@/lib/cluster/thresholds';
