import { describe, expect, it } from 'vitest';
import { RULE_NAMES } from '@/lib/cluster/thresholds';
import { groupAlerts, RULE_TITLES, worstFirst } from './alert-groups';
import type { AlertView } from './alert-types';

let seq = 0;
function alert(over: Partial<AlertView>): AlertView {
  const rule = over.rule ?? 'wal_fsync_slow';
  return {
    id: `a${seq++}`,
    clusterId: 'prod',
    rule,
    alertname: 'etcdDashboardWalFsyncSlow',
    severity: 'warning',
    state: 'firing',
    since: '2026-12-06T10:00:00.000Z',
    summary: 'summary',
    advice: `advice for ${rule}`,
    memberId: null,
    memberName: null,
    firedAt: null,
    resolvedAt: null,
    ...over,
  };
}

describe('groupAlerts: one row per cause', () => {
  it('slow disks on three members and commit latency on three: two groups naming the members, advice once', () => {
    const slow = ['m2', 'm0', 'm1'].map((m, i) =>
      alert({ memberName: m, memberId: `id${i}`, summary: `${m}: WAL fsync p99 ${55 + i * 20}.0 ms` }),
    );
    const commit = ['m0', 'm1', 'm2'].map((m) =>
      alert({ rule: 'backend_commit_slow', alertname: 'etcdDashboardBackendCommitSlow', memberName: m }),
    );
    const groups = groupAlerts([...slow, ...commit]);
    expect(groups.map((g) => [g.rule, g.headline, g.alerts.length])).toEqual([
      ['wal_fsync_slow', 'WAL fsync slow on 3 members: m0, m1, m2', 3],
      ['backend_commit_slow', 'Backend commit slow on 3 members: m0, m1, m2', 3],
    ]);
    expect(groups[0]?.alerts.map((a) => a.memberName)).toEqual(['m0', 'm1', 'm2']);
    expect(groups[0]?.advice).toBe('advice for wal_fsync_slow');
  });

  it('a lone alert keeps its own summary; pending and firing, warning and critical of one rule stay apart', () => {
    const groups = groupAlerts([
      alert({ memberName: 'm0', summary: 'm0: WAL fsync p99 600.0 ms (alert level 500 ms)', severity: 'critical' }),
      alert({ memberName: 'm1', state: 'pending' }),
      alert({ memberName: 'm2' }),
    ]);
    expect(groups.map((g) => [g.severity, g.state, g.headline])).toEqual([
      ['critical', 'firing', 'm0: WAL fsync p99 600.0 ms (alert level 500 ms)'],
      ['warning', 'firing', 'summary'],
      ['warning', 'pending', 'summary'],
    ]);
  });

  it('a group that is not only about named members counts its alerts instead of naming', () => {
    const [certs] = groupAlerts([
      alert({ rule: 'cert_expiring', memberName: 'm0', memberId: 'id0' }),
      alert({ rule: 'cert_expiring', memberId: 'id1' }),
      alert({ rule: 'cert_expiring' }),
    ]);
    expect(certs?.headline).toBe('Certificate expiring (3)');
    expect(certs?.members).toEqual([]);
  });

  it('worst first: critical before warning whatever their state, firing before pending, then the oldest', () => {
    const groups = groupAlerts([
      alert({ rule: 'snapshot_stale', since: '2026-12-06T09:00:00.000Z' }),
      alert({ rule: 'member_down', memberName: 'm1' }),
      alert({ rule: 'no_leader', severity: 'critical', state: 'pending' }),
      alert({ rule: 'insufficient_members', severity: 'critical' }),
      alert({ rule: 'cluster_size', severity: 'info' }),
    ]);
    expect(groups.map((g) => g.rule)).toEqual([
      'insufficient_members',
      'no_leader',
      'snapshot_stale',
      'member_down',
      'cluster_size',
    ]);
  });

  it('resolved alerts sort after every active one', () => {
    const list = [alert({ severity: 'critical', state: 'resolved' }), alert({ severity: 'info' })];
    expect([...list].sort(worstFirst).map((a) => a.state)).toEqual(['firing', 'resolved']);
  });

  it('every rule has a title', () => {
    for (const rule of RULE_NAMES) expect(RULE_TITLES[rule], rule).toMatch(/^\S/);
  });
});
