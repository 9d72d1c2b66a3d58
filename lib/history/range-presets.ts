// The range picker's choices and the thresholds drawn on the charts; shared with the browser.
import { DEFAULT_THRESHOLDS, type Thresholds } from '@/lib/cluster/thresholds';
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

/** As etcd's guidance writes them: milliseconds below a tenth of a second (10 ms), seconds above (0.5 s). */
function duration(ms: number): string {
  return ms < 100 ? `${ms} ms` : `${ms / 1000} s`;
}

/**
 * The lines drawn on the latency charts: the levels the cluster's alerts fire at. At etcd's own values they say whose
 * they are (its guidance, WAL fsync p99 < 10 ms and commit p99 < 25 ms, and the etcd project's alert levels); a
 * configured level is named for the alert it raises.
 */
export function chartThresholds(t: Thresholds): Partial<Record<SeriesName, Threshold[]>> {
  const d = DEFAULT_THRESHOLDS;
  const recommended = (value: number, etcd: number): Threshold => ({
    value,
    label: value === etcd ? `etcd recommends < ${duration(value)}` : `warning above ${duration(value)}`,
    severity: 'recommended',
  });
  const alert = (value: number, etcd: number, raises: 'warning' | 'critical'): Threshold => ({
    value,
    label: value === etcd ? `etcd alert ${duration(value)}` : `${raises} above ${duration(value)}`,
    severity: 'alert',
  });
  return {
    wal_fsync_p99_ms: [
      recommended(t.walFsyncP99WarnMs, d.walFsyncP99WarnMs),
      alert(t.walFsyncP99CritMs, d.walFsyncP99CritMs, 'critical'),
    ],
    backend_commit_p99_ms: [
      recommended(t.backendCommitP99WarnMs, d.backendCommitP99WarnMs),
      alert(t.backendCommitP99CritMs, d.backendCommitP99CritMs, 'critical'),
    ],
    peer_rtt_p99_ms: [alert(t.peerRttP99WarnMs, d.peerRttP99WarnMs, 'warning')],
  };
}

// The NOC wall still takes the default quota from here; its home is lib/cluster/thresholds.
export { DEFAULT_QUOTA_BYTES } from '@/lib/cluster/thresholds';
