import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveMetricsSample, parseEtcdMetrics } from './etcd-metrics';

// Trimmed from the leader of a real 3-member etcd 3.4.23 cluster (scripts/lib/local-cluster.ts): 3 s after start,
// then again after 50 puts. Both keep a few unrelated families (a summary, a near-named histogram, a labelled gauge).
const fixture = (name: string) => readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');
const afterWrites = fixture('etcd-3.4-metrics.txt');
const beforeWrites = fixture('etcd-3.4-metrics-before-writes.txt');

const PEER_A = '99d008084c052bbd';
const PEER_B = 'e79543805ddcbc24';

/** Exposition text for one histogram; each series is [labels, [le, cumulative count][], sum]. */
function histogramText(name: string, series: Array<[string, Array<[string, number]>, number]>): string {
  const lines = [`# HELP ${name} test histogram`, `# TYPE ${name} histogram`];
  for (const [labels, buckets, sum] of series) {
    const sep = labels === '' ? '' : ',';
    for (const [le, count] of buckets) lines.push(`${name}_bucket{${labels}${sep}le="${le}"} ${count}`);
    const braces = labels === '' ? '' : `{${labels}}`;
    lines.push(`${name}_sum${braces} ${sum}`, `${name}_count${braces} ${buckets[buckets.length - 1]?.[1] ?? 0}`);
  }
  return lines.join('\n') + '\n';
}

function scalarText(name: string, type: 'counter' | 'gauge', value: number): string {
  return `# HELP ${name} test ${type}\n# TYPE ${name} ${type}\n${name} ${value}\n`;
}

describe('parseEtcdMetrics on real etcd 3.4 text', () => {
  const scrape = parseEtcdMetrics(afterWrites, 1_700_000_000_000);

  it('reads the disk histograms with their cumulative buckets', () => {
    expect(scrape.at).toBe(1_700_000_000_000);
    expect(scrape.walFsync?.count).toBe(62);
    expect(scrape.walFsync?.sum).toBeCloseTo(0.060654433, 9);
    expect(scrape.walFsync?.buckets).toHaveLength(15);
    expect(scrape.walFsync?.buckets[0]).toEqual({ le: 0.001, count: 36 });
    expect(scrape.walFsync?.buckets[2]).toEqual({ le: 0.004, count: 62 });
    expect(scrape.walFsync?.buckets[14]).toEqual({ le: Infinity, count: 62 });
    expect(scrape.backendCommit?.count).toBe(24);
    expect(scrape.backendCommit?.buckets[1]).toEqual({ le: 0.002, count: 20 });
  });

  it('keeps each peer’s round-trip histogram apart, keyed by the To label', () => {
    expect(Object.keys(scrape.peerRtt).sort()).toEqual([PEER_A, PEER_B]);
    const a = scrape.peerRtt[PEER_A];
    const b = scrape.peerRtt[PEER_B];
    expect(a?.sum).toBeCloseTo(0.001393135, 12);
    expect(b?.sum).toBeCloseTo(0.00172688, 12);
    expect(a?.count).toBe(2);
    // The two peers differ at 0.0008 s: merging them (the parser's own histogram handling does) would lose that.
    expect(a?.buckets.find((x) => x.le === 0.0008)?.count).toBe(2);
    expect(b?.buckets.find((x) => x.le === 0.0008)?.count).toBe(1);
    expect(b?.buckets[0]?.le).toBe(0.0001);
    expect(b?.buckets).toHaveLength(17);
  });

  it('reads the leader and proposal signals and the quota', () => {
    expect(scrape.hasLeader).toBe(true);
    expect(scrape.isLeader).toBe(true);
    expect(scrape.leaderChangesSeen).toBe(1);
    expect(scrape.proposalsFailed).toBe(0);
    expect(scrape.proposalsPending).toBe(0);
    expect(scrape.quotaBackendBytes).toBe(2 * 1024 ** 3);
  });

  it('has no peer round trips before the first probe', () => {
    const early = parseEtcdMetrics(beforeWrites, 0);
    expect(early.peerRtt).toEqual({});
    expect(early.walFsync?.count).toBe(12);
  });
});

describe('parseEtcdMetrics on other texts', () => {
  it('does not mistake near-named families for the ones it reads', () => {
    const text = [
      histogramText('etcd_debugging_disk_backend_commit_write_duration_seconds', [
        [
          '',
          [
            ['0.001', 3],
            ['+Inf', 3],
          ],
          0.001,
        ],
      ]),
      scalarText('etcd_server_is_learner', 'gauge', 1),
      scalarText('etcd_server_proposals_pending_total', 'counter', 9),
      scalarText('etcd_server_leader_changes_seen_total_extra', 'counter', 9),
    ].join('');
    const scrape = parseEtcdMetrics(text, 0);
    expect(scrape).toEqual({
      at: 0,
      walFsync: null,
      backendCommit: null,
      peerRtt: {},
      leaderChangesSeen: null,
      proposalsFailed: null,
      proposalsPending: null,
      hasLeader: null,
      isLeader: null,
      quotaBackendBytes: null,
      defragInflight: null,
    });
  });

  it('reports a family that an older member lacks as null and still reads the rest', () => {
    const text = scalarText('etcd_server_has_leader', 'gauge', 0) + scalarText('etcd_server_is_leader', 'gauge', 0);
    const scrape = parseEtcdMetrics(text, 0);
    expect(scrape.hasLeader).toBe(false);
    expect(scrape.isLeader).toBe(false);
    expect(scrape.walFsync).toBeNull();
    expect(scrape.leaderChangesSeen).toBeNull();
  });

  it('says whether a defragmentation is running, and null where the member does not export it', () => {
    const inflight = (v: number) => scalarText('etcd_disk_defrag_inflight', 'gauge', v);
    expect(parseEtcdMetrics(inflight(1), 0).defragInflight).toBe(true);
    expect(parseEtcdMetrics(inflight(0), 0).defragInflight).toBe(false);
    // The trimmed 3.4 fixture has no such family, as 3.4 releases before 3.4.18 do not.
    expect(parseEtcdMetrics(afterWrites, 0).defragInflight).toBeNull();
    expect(deriveMetricsSample(null, parseEtcdMetrics(inflight(1), 0)).defragInflight).toBe(true);
  });

  it('reads the last line of a text that does not end in a newline', () => {
    const text = scalarText('etcd_server_quota_backend_bytes', 'gauge', 8.589934592e9).trimEnd();
    expect(parseEtcdMetrics(text, 0).quotaBackendBytes).toBe(8 * 1024 ** 3);
  });

  it('loses only the family with a line it cannot read', () => {
    const text =
      '# TYPE etcd_server_proposals_pending gauge\netcd_server_proposals_pending{broken=label} 3\n' +
      scalarText('etcd_server_has_leader', 'gauge', 1);
    const scrape = parseEtcdMetrics(text, 0);
    expect(scrape.proposalsPending).toBeNull();
    expect(scrape.hasLeader).toBe(true);
  });

  it('reads a histogram among unrelated lines and comments', () => {
    const text = histogramText('etcd_disk_wal_fsync_duration_seconds', [
      [
        '',
        [
          ['0.001', 4],
          ['0.002', 9],
          ['+Inf', 10],
        ],
        0.05,
      ],
    ]);
    const scrape = parseEtcdMetrics(`# just a comment\n${text}go_goroutines 42\n`, 0);
    expect(scrape.walFsync).toEqual({
      buckets: [
        { le: 0.001, count: 4 },
        { le: 0.002, count: 9 },
        { le: Infinity, count: 10 },
      ],
      count: 10,
      sum: 0.05,
    });
  });
});

describe('deriveMetricsSample', () => {
  it('gives the p99 of what happened between two real scrapes', () => {
    const sample = deriveMetricsSample(parseEtcdMetrics(beforeWrites, 0), parseEtcdMetrics(afterWrites, 5000));
    // WAL fsync window: 27 ≤ 1 ms, 20 in (1, 2], 3 in (2, 4] of 50. Rank 49.5 is 2.5 of the 3 in (2, 4] ms.
    expect(sample.walFsyncP99Ms).toBeCloseTo(2 + 2 * (2.5 / 3), 9);
    // Backend commit window: 6, 15, 17, 18 cumulative at 1, 2, 4, 8 ms. Rank 17.82 is 0.82 of (4, 8] ms.
    expect(sample.backendCommitP99Ms).toBeCloseTo(4 + 4 * 0.82, 9);
    // The peers' histograms appeared only in the later scrape: no window for them yet.
    expect(sample.peerRttP99Ms).toEqual({});
    expect(sample.worstPeerRttP99Ms).toBeNull();
    expect(sample.leaderChanges).toBe(0);
    expect(sample.proposalsFailed).toBe(0);
    expect(sample.proposalsPending).toBe(0);
    expect(sample.hasLeader).toBe(true);
    expect(sample.quotaBackendBytes).toBe(2 * 1024 ** 3);
    expect(sample.counterReset).toBe(false);
  });

  it('has no quantiles or increases from a first scrape, but passes the gauges through', () => {
    const sample = deriveMetricsSample(null, parseEtcdMetrics(afterWrites, 0));
    expect(sample).toEqual({
      walFsyncP99Ms: null,
      backendCommitP99Ms: null,
      peerRttP99Ms: {},
      worstPeerRttP99Ms: null,
      leaderChanges: null,
      proposalsFailed: null,
      proposalsPending: 0,
      hasLeader: true,
      quotaBackendBytes: 2 * 1024 ** 3,
      defragInflight: null,
      counterReset: false,
    });
  });

  const rttName = 'etcd_network_peer_round_trip_time_seconds';
  const les = ['0.0001', '0.0002', '0.0004', '0.0008', '+Inf'];
  const rtt = (a: number[], b: number[]) =>
    histogramText(rttName, [
      ['To="a1"', les.map((le, i): [string, number] => [le, a[i] ?? 0]), 0.01],
      ['To="b2"', les.map((le, i): [string, number] => [le, b[i] ?? 0]), 0.01],
    ]);

  it('gives each peer’s round-trip p99 over the window and the worst of them', () => {
    const prev = parseEtcdMetrics(rtt([0, 0, 2, 4, 4], [0, 0, 1, 1, 1]), 0);
    const cur = parseEtcdMetrics(rtt([0, 0, 2, 8, 10], [0, 0, 3, 3, 3]), 30_000);
    const sample = deriveMetricsSample(prev, cur);
    // a1's window: 4 in (0.4, 0.8] ms, 2 beyond → rank 5.94 is in +Inf → highest finite bound, 0.8 ms.
    expect(sample.peerRttP99Ms.a1).toBeCloseTo(0.8, 12);
    // b2's window: 2 in (0.2, 0.4] ms → rank 1.98 → 0.2 + 0.2 × 0.99.
    expect(sample.peerRttP99Ms.b2).toBeCloseTo(0.398, 12);
    expect(sample.worstPeerRttP99Ms).toBeCloseTo(0.8, 12);
    expect(sample.counterReset).toBe(false);
  });

  it('omits a peer with no probes in the window', () => {
    const text = rtt([0, 0, 2, 4, 4], [0, 0, 1, 1, 1]);
    const sample = deriveMetricsSample(parseEtcdMetrics(text, 0), parseEtcdMetrics(text, 10_000));
    expect(sample.peerRttP99Ms).toEqual({});
    expect(sample.worstPeerRttP99Ms).toBeNull();
  });

  it('counts from the restart when a member restarted between scrapes', () => {
    const fsync = (buckets: Array<[string, number]>) =>
      histogramText('etcd_disk_wal_fsync_duration_seconds', [['', buckets, 0.1]]);
    const prev = parseEtcdMetrics(
      fsync([
        ['0.001', 50],
        ['0.002', 90],
        ['0.004', 100],
        ['+Inf', 100],
      ]) +
        scalarText('etcd_server_leader_changes_seen_total', 'counter', 5) +
        scalarText('etcd_server_proposals_failed_total', 'counter', 3),
      0,
    );
    const cur = parseEtcdMetrics(
      fsync([
        ['0.001', 4],
        ['0.002', 8],
        ['0.004', 10],
        ['+Inf', 10],
      ]) +
        scalarText('etcd_server_leader_changes_seen_total', 'counter', 1) +
        scalarText('etcd_server_proposals_failed_total', 'counter', 7),
      10_000,
    );
    const sample = deriveMetricsSample(prev, cur);
    expect(sample.counterReset).toBe(true);
    expect(sample.leaderChanges).toBe(1);
    expect(sample.proposalsFailed).toBe(4);
    // From the 10 observations since the restart: rank 9.9 is 1.9 of the 2 in (2, 4] ms.
    expect(sample.walFsyncP99Ms).toBeCloseTo(2 + 2 * 0.95, 9);
  });

  it('flags a restart that only a histogram shows', () => {
    const text = (n: number) =>
      histogramText('etcd_disk_backend_commit_duration_seconds', [
        [
          '',
          [
            ['0.001', n],
            ['+Inf', n],
          ],
          0,
        ],
      ]) + scalarText('etcd_server_leader_changes_seen_total', 'counter', 1);
    const sample = deriveMetricsSample(parseEtcdMetrics(text(40), 0), parseEtcdMetrics(text(3), 10_000));
    expect(sample.counterReset).toBe(true);
    expect(sample.leaderChanges).toBe(0);
    expect(sample.backendCommitP99Ms).toBeCloseTo(0.99, 9);
  });
});
