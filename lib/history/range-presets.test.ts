import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '@/lib/cluster/thresholds';
import { chartThresholds } from './range-presets';

describe('chartThresholds', () => {
  it("draws etcd's guidance and alert levels, named as etcd's, for a cluster on the defaults", () => {
    expect(chartThresholds(DEFAULT_THRESHOLDS)).toEqual({
      wal_fsync_p99_ms: [
        { value: 10, label: 'etcd recommends < 10 ms', severity: 'recommended' },
        { value: 500, label: 'etcd alert 0.5 s', severity: 'alert' },
      ],
      backend_commit_p99_ms: [
        { value: 25, label: 'etcd recommends < 25 ms', severity: 'recommended' },
        { value: 250, label: 'etcd alert 0.25 s', severity: 'alert' },
      ],
      peer_rtt_p99_ms: [{ value: 150, label: 'etcd alert 0.15 s', severity: 'alert' }],
    });
  });

  it("draws a cluster's configured levels where its alerts fire, named for the alert they raise", () => {
    const lines = chartThresholds({
      ...DEFAULT_THRESHOLDS,
      walFsyncP99WarnMs: 20,
      backendCommitP99CritMs: 400,
      peerRttP99WarnMs: 80,
    });
    expect(lines.wal_fsync_p99_ms).toEqual([
      { value: 20, label: 'warning above 20 ms', severity: 'recommended' },
      { value: 500, label: 'etcd alert 0.5 s', severity: 'alert' },
    ]);
    expect(lines.backend_commit_p99_ms).toEqual([
      { value: 25, label: 'etcd recommends < 25 ms', severity: 'recommended' },
      { value: 400, label: 'critical above 0.4 s', severity: 'alert' },
    ]);
    expect(lines.peer_rtt_p99_ms).toEqual([{ value: 80, label: 'warning above 80 ms', severity: 'alert' }]);
  });
});
