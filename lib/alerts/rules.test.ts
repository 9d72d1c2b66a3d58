import { describe, expect, it } from 'vitest';
import type { ConsistencyCheck } from '@/lib/cluster/consistency-types';
import type { Observation } from '@/lib/cluster/status-types';
import { DEFAULT_THRESHOLDS, type RuleName } from '@/lib/cluster/thresholds';
import type { MemberMetrics } from '@/lib/collector/cluster-collector';
import {
  GiB,
  hashKVs,
  IDS,
  MiB,
  NAMES,
  NOW,
  observation,
  type Index,
  type MemberSpec,
} from '@/test/support/observations';
import { RULES, evaluateRules, type CertificateFact, type Finding, type RuleContext } from './rules';

const HOUR = 3_600_000;
const DAY = 86_400_000;

// ---- builders -------------------------------------------------------------------------------------------------------

/** The finding a rule should report about member i, or (null) about the whole cluster. */
function finding(
  on: Index | null,
  rule: RuleName,
  severity: Finding['severity'],
  summary: string,
  instance?: string,
): Finding {
  const memberId = on === null ? null : IDS[on];
  const memberName = on === null ? null : NAMES[on];
  return { rule, severity, memberId, memberName, ...(instance === undefined ? {} : { instance }), summary };
}

/** A consistency check at revision 1200 of the members' HashKV answers, with its verdict. */
function consistencyCheck(
  hashes: (number | null)[],
  verdict: Pick<ConsistencyCheck, 'agree' | 'suspect' | 'note'>,
): ConsistencyCheck {
  return {
    clusterId: 'prod-eu1',
    checkedAt: new Date(NOW - 60_000).toISOString(),
    revision: 1200,
    members: hashKVs(hashes),
    ...verdict,
  };
}

const goodMetrics = (): MemberMetrics => ({
  walFsyncP99Ms: 2.1,
  backendCommitP99Ms: 4.8,
  worstPeerRttP99Ms: 0.9,
  proposalsFailedRecent: 0,
});

function metricsFor(obs: Observation | null, overrides: Record<string, Partial<MemberMetrics>> = {}) {
  const map = new Map<string, MemberMetrics>();
  for (const m of obs?.members ?? []) if (m.id && m.status) map.set(m.id, { ...goodMetrics(), ...overrides[m.id] });
  return map;
}

const CERTS: CertificateFact[] = [
  { what: "the dashboard's client certificate", memberId: null, validTo: NOW + 300 * DAY },
  { what: 'the CA certificate', memberId: null, validTo: NOW + 3650 * DAY },
  { what: "etcd-0's server certificate", memberId: IDS[0], validTo: NOW + 200 * DAY },
];

/** A healthy 3-member cluster with good metrics, a fresh off-site snapshot, valid certificates, encrypted Secrets. */
function context(overrides: Partial<RuleContext> = {}): RuleContext {
  const obs = overrides.observation !== undefined ? overrides.observation : observation();
  return {
    now: NOW,
    observation: obs,
    stale: false,
    observedAt: NOW - 1_000,
    metrics: metricsFor(obs),
    leaderChangesIn15m: 0,
    hoursToQuota: null,
    snapshots: { lastVerifiedAt: NOW - 2 * HOUR, lastVerifiedOffsite: true },
    certificates: CERTS,
    secrets: { total: 142, plain: 0 },
    thresholds: DEFAULT_THRESHOLDS,
    ...overrides,
  };
}

const rules = (findings: Finding[]): RuleName[] => findings.map((f) => f.rule).sort();
const of = (findings: Finding[], rule: RuleName): Finding[] => findings.filter((f) => f.rule === rule);

/** The only element: fails the test unless there is exactly one. */
function one<T>(xs: readonly T[]): T {
  expect(xs).toHaveLength(1);
  return xs[0]!;
}

/** Evaluates with one member's metrics changed; everything else healthy. */
function withMetrics(member: Index, m: Partial<MemberMetrics>): Finding[] {
  const obs = observation();
  return evaluateRules(context({ observation: obs, metrics: metricsFor(obs, { [IDS[member]]: m }) }));
}

/** Evaluates with one member's DB sizes changed; everything else healthy. */
function withDb(member: Index, status: MemberSpec['status'], quotaBackendBytes?: number | null): Finding[] {
  const members: MemberSpec[] = [{}, {}, {}];
  members[member] = { status };
  return evaluateRules(context({ observation: observation({ members, quotaBackendBytes }) }));
}

// ---- tests ----------------------------------------------------------------------------------------------------------

describe('a healthy cluster', () => {
  it('3 healthy members, good metrics, a fresh off-site snapshot: no findings at all', () => {
    const ctx = context();
    expect(ctx.observation?.quorum).toMatchObject({ voting: 3, healthy: 3, required: 2, tolerance: 1 });
    expect(ctx.observation?.leader).toEqual({ id: IDS[0], name: 'etcd-0' });
    expect(evaluateRules(ctx)).toEqual([]);
  });

  it('no observation yet but not stale: nothing to judge', () => {
    expect(evaluateRules(context({ observation: null, metrics: new Map() }))).toEqual([]);
  });
});

describe('stale data', () => {
  // Everything that could be wrong is wrong, but none of it was observed recently.
  const broken = () =>
    context({
      stale: true,
      observation: observation({ members: [{ health: 'unreachable' }, { health: 'unreachable' }, {}] }),
      leaderChangesIn15m: 9,
      hoursToQuota: { memberId: IDS[2], hours: 1 },
      snapshots: { lastVerifiedAt: null, lastVerifiedOffsite: null },
      certificates: [{ what: 'the CA certificate', memberId: null, validTo: NOW - DAY }],
      secrets: { total: 10, plain: 10 },
    });

  it('yields only data_stale (critical), nothing else judged', () => {
    const observedAt = NOW - 5 * 60_000;
    const findings = evaluateRules({ ...broken(), observedAt });
    expect(findings).toEqual([
      finding(
        null,
        'data_stale',
        'critical',
        `no fresh data from the cluster (none since ${new Date(observedAt).toISOString()})`,
      ),
    ]);
  });

  it('says so when there never was any data', () => {
    const findings = evaluateRules({ ...broken(), observation: null, observedAt: null });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'data_stale', severity: 'critical' });
    expect(one(findings).summary).toContain('never had any');
  });
});

describe('leader and quorum', () => {
  it('no leader: critical no_leader', () => {
    const obs = observation({ leader: null });
    const findings = evaluateRules(context({ observation: obs }));
    expect(findings).toEqual([finding(null, 'no_leader', 'critical', 'no member knows a leader')]);
  });

  it('1 of 3 healthy: insufficient_members (critical), not quorum_at_risk; the two down members are named', () => {
    const obs = observation({
      members: [{ health: 'unreachable' }, {}, { health: 'unreachable' }],
      leader: null,
    });
    expect(obs.quorum).toMatchObject({ voting: 3, healthy: 1, required: 2, tolerance: -1 });
    const findings = evaluateRules(context({ observation: obs }));
    expect(rules(findings)).toEqual(['insufficient_members', 'member_down', 'member_down', 'no_leader']);
    expect(of(findings, 'insufficient_members')[0]).toMatchObject({
      severity: 'critical',
      summary: '1 of 3 voting members healthy, quorum needs 2',
    });
    expect(of(findings, 'member_down').map((f) => f.memberName)).toEqual(['etcd-0', 'etcd-2']);
  });

  it('2 of 3 healthy (tolerance 0): quorum_at_risk (critical) and member_down naming the member', () => {
    const obs = observation({ members: [{}, {}, { health: 'unreachable' }] });
    expect(obs.quorum).toMatchObject({ voting: 3, healthy: 2, required: 2, tolerance: 0 });
    const findings = evaluateRules(context({ observation: obs }));
    expect(rules(findings)).toEqual(['member_down', 'quorum_at_risk']);
    expect(of(findings, 'quorum_at_risk')[0]).toMatchObject({
      severity: 'critical',
      summary: '2 of 3 healthy: one more failure loses quorum',
    });
    expect(of(findings, 'member_down')[0]).toEqual(
      finding(2, 'member_down', 'warning', 'etcd-2 is unreachable: connect ECONNREFUSED 127.0.0.1:42379'),
    );
  });

  it('without a leader, members that run but fail their health read are not member_down; gone ones still are', () => {
    const obs = observation({
      members: [{ health: 'unhealthy' }, { health: 'unhealthy' }, { health: 'unreachable' }],
      leader: null,
    });
    const findings = evaluateRules(context({ observation: obs }));
    expect(rules(findings)).toEqual(['insufficient_members', 'member_down', 'no_leader']);
    expect(one(of(findings, 'member_down')).memberName).toBe('etcd-2');
  });

  it('an unhealthy member without an error says "no answer"', () => {
    const obs = observation({ members: [{}, { health: 'unhealthy', error: null }, {}] });
    const down = of(evaluateRules(context({ observation: obs })), 'member_down');
    expect(down).toHaveLength(1);
    expect(down[0]).toMatchObject({
      memberId: IDS[1],
      memberName: 'etcd-1',
      summary: 'etcd-1 is unhealthy: no answer',
    });
  });

  it('5 members: 4 healthy (tolerance 1) is only member_down; 3 healthy (tolerance 0) is quorum_at_risk', () => {
    const four = observation({ members: [{}, {}, {}, {}, { health: 'unreachable' }] });
    expect(four.quorum).toMatchObject({ voting: 5, healthy: 4, tolerance: 1 });
    expect(rules(evaluateRules(context({ observation: four })))).toEqual(['member_down']);

    const three = observation({ members: [{}, {}, {}, { health: 'unreachable' }, { health: 'unreachable' }] });
    expect(three.quorum).toMatchObject({ voting: 5, healthy: 3, tolerance: 0 });
    expect(rules(evaluateRules(context({ observation: three })))).toEqual([
      'member_down',
      'member_down',
      'quorum_at_risk',
    ]);
  });

  it('a learner that is down is member_down, but does not touch quorum', () => {
    const obs = observation({ members: [{}, {}, {}, { isLearner: true, health: 'unreachable' }] });
    expect(obs.quorum).toMatchObject({ members: 4, voting: 3, healthy: 3, tolerance: 1 });
    expect(rules(evaluateRules(context({ observation: obs })))).toEqual(['member_down']);
  });

  describe('a member busy defragmenting (its reads wait until the defragment ends)', () => {
    const BUSY =
      'busy defragmenting: reads and writes wait until it ends (health read failed: context deadline exceeded)';

    it('is not member_down, and quorum is not at risk: it still votes', () => {
      const obs = observation({ members: [{}, {}, { health: 'unhealthy', defragmenting: true, error: BUSY }] });
      expect(obs.quorum).toMatchObject({ voting: 3, healthy: 2, busy: 1, tolerance: 1, state: 'healthy' });
      expect(evaluateRules(context({ observation: obs }))).toEqual([]);

      // The same member failing its health read for any other reason is down, and leaves no margin.
      const down = observation({ members: [{}, {}, { health: 'unhealthy', error: BUSY }] });
      expect(rules(evaluateRules(context({ observation: down })))).toEqual(['member_down', 'quorum_at_risk']);
    });

    it('in a 2-member cluster: no quorum_at_risk either (it had nothing to spare before the defragment)', () => {
      const obs = observation({ members: [{}, { health: 'unhealthy', defragmenting: true, error: BUSY }] });
      expect(obs.quorum).toMatchObject({ voting: 2, healthy: 1, busy: 1, tolerance: 0, state: 'healthy' });
      expect(rules(evaluateRules(context({ observation: obs })))).toEqual(['cluster_size']);
    });

    it('with another member down: only that one is member_down; quorum is at risk, not lost', () => {
      const obs = observation({
        members: [{}, { health: 'unreachable' }, { health: 'unhealthy', defragmenting: true, error: BUSY }],
      });
      expect(obs.quorum).toMatchObject({ healthy: 1, busy: 1, required: 2, tolerance: 0, state: 'at-risk' });
      const findings = evaluateRules(context({ observation: obs }));
      expect(rules(findings)).toEqual(['member_down', 'quorum_at_risk']);
      expect(one(of(findings, 'member_down')).memberName).toBe('etcd-1');
    });
  });

  it('leader changes in 15 min: 3 → nothing, 4 → warning', () => {
    expect(evaluateRules(context({ leaderChangesIn15m: 3 }))).toEqual([]);
    expect(evaluateRules(context({ leaderChangesIn15m: 4 }))).toEqual([
      finding(null, 'leader_changes_high', 'warning', '4 leader changes in the last 15 minutes'),
    ]);
  });

  it('leader changes follow the configured threshold', () => {
    const thresholds = { ...DEFAULT_THRESHOLDS, leaderChangesIn15m: 10 };
    expect(evaluateRules(context({ leaderChangesIn15m: 9, thresholds }))).toEqual([]);
    expect(rules(evaluateRules(context({ leaderChangesIn15m: 10, thresholds })))).toEqual(['leader_changes_high']);
  });
});

describe('latency and proposals', () => {
  it.each([
    [10, null],
    [10.1, 'warning'],
    [500, 'warning'],
    [500.1, 'critical'],
  ] as const)('WAL fsync p99 %s ms → %s', (ms, severity) => {
    const found = of(withMetrics(1, { walFsyncP99Ms: ms }), 'wal_fsync_slow');
    if (severity === null) return expect(found).toEqual([]);
    expect(found).toEqual([
      {
        rule: 'wal_fsync_slow',
        severity,
        memberId: IDS[1],
        memberName: 'etcd-1',
        summary:
          severity === 'critical'
            ? `etcd-1: WAL fsync p99 ${ms.toFixed(1)} ms (alert level 500 ms)`
            : `etcd-1: WAL fsync p99 ${ms.toFixed(1)} ms (etcd advises < 10 ms)`,
      },
    ]);
  });

  it.each([
    [25, null],
    [25.1, 'warning'],
    [250, 'warning'],
    [250.1, 'critical'],
  ] as const)('backend commit p99 %s ms → %s', (ms, severity) => {
    const found = of(withMetrics(2, { backendCommitP99Ms: ms }), 'backend_commit_slow');
    if (severity === null) return expect(found).toEqual([]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity, memberId: IDS[2], memberName: 'etcd-2' });
    expect(one(found).summary).toContain(`backend commit p99 ${ms.toFixed(1)} ms`);
  });

  it('a slow disk is one finding per rule, only on that member', () => {
    const findings = withMetrics(0, { walFsyncP99Ms: 40, backendCommitP99Ms: 90 });
    expect(findings.map((f) => [f.rule, f.severity, f.memberName])).toEqual([
      ['wal_fsync_slow', 'warning', 'etcd-0'],
      ['backend_commit_slow', 'warning', 'etcd-0'],
    ]);
  });

  it('peer round trip p99: 150 ms → nothing, 151 ms → warning', () => {
    expect(withMetrics(0, { worstPeerRttP99Ms: 150 })).toEqual([]);
    expect(withMetrics(0, { worstPeerRttP99Ms: 151 })).toEqual([
      finding(0, 'peer_rtt_high', 'warning', 'etcd-0: peer round trip p99 151 ms (alert level 150 ms)'),
    ]);
  });

  it('failed proposals: 0 → nothing, 1 → warning', () => {
    expect(withMetrics(2, { proposalsFailedRecent: 0 })).toEqual([]);
    expect(withMetrics(2, { proposalsFailedRecent: 1 })).toEqual([
      finding(2, 'proposals_failed', 'warning', 'etcd-2: 1 failed proposal(s) in the last minutes'),
    ]);
  });

  it('unknown metrics (null) judge nothing', () => {
    const unknown = {
      walFsyncP99Ms: null,
      backendCommitP99Ms: null,
      worstPeerRttP99Ms: null,
      proposalsFailedRecent: null,
    };
    expect(withMetrics(1, unknown)).toEqual([]);
  });

  it('metrics of a member no longer in the observation are named by their id', () => {
    const metrics = new Map([['ef37ad9dc622a7c4', { ...goodMetrics(), walFsyncP99Ms: 22 }]]);
    expect(of(evaluateRules(context({ metrics })), 'wal_fsync_slow')[0]).toMatchObject({
      memberId: 'ef37ad9dc622a7c4',
      memberName: 'ef37ad9dc622a7c4',
    });
  });
});

describe('database size', () => {
  // A quota that 80 % and 95 % of divide exactly, so "at" the boundary is exactly at it.
  const Q = 8_000_000_000;

  it.each([
    [0.8 * Q, null],
    [0.8 * Q + MiB, 'warning'],
    [0.95 * Q, 'warning'],
    [0.95 * Q + MiB, 'critical'],
  ] as const)('DB of %s bytes against an 8 GB quota → %s', (dbSize, severity) => {
    const found = of(withDb(1, { dbSize, dbSizeInUse: dbSize * 0.9 }, Q), 'db_size_quota');
    if (severity === null) return expect(found).toEqual([]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ rule: 'db_size_quota', severity, memberId: IDS[1], memberName: 'etcd-1' });
  });

  it('says how full, of which quota', () => {
    const f = one(of(withDb(0, { dbSize: 0.8 * Q + MiB, dbSizeInUse: 0.8 * Q }, Q), 'db_size_quota'));
    expect(f.summary).toBe('etcd-0: DB 6.0 GiB is 80 % of the 7.5 GiB quota');
  });

  it('with the quota unknown, judges against the 2 GiB default', () => {
    const warn = 0.8 * 2 * GiB + MiB; // ≈ 1.6 GiB
    const crit = 0.95 * 2 * GiB + MiB; // ≈ 1.9 GiB

    expect(of(withDb(2, { dbSize: 0.8 * 2 * GiB, dbSizeInUse: GiB }, null), 'db_size_quota')).toEqual([]);
    const w = one(of(withDb(2, { dbSize: warn, dbSizeInUse: GiB }, null), 'db_size_quota'));
    expect(w).toMatchObject({ severity: 'warning', memberName: 'etcd-2' });
    expect(w.summary).toContain('of the 2.0 GiB quota');
    expect(one(of(withDb(2, { dbSize: crit, dbSizeInUse: GiB }, null), 'db_size_quota')).severity).toBe('critical');

    // The same DB against a known 8 GiB quota is fine: the default is only for an unknown quota.
    expect(of(withDb(2, { dbSize: crit, dbSizeInUse: GiB }, 8 * GiB), 'db_size_quota')).toEqual([]);
  });

  it('a member that did not answer Status is not judged by size', () => {
    const obs = observation({ members: [{}, { status: null, health: 'unhealthy' }, {}] });
    expect(rules(evaluateRules(context({ observation: obs })))).toEqual(['member_down', 'quorum_at_risk']);
  });

  it('growth reaching the quota within 4 h: warning naming the member; 4.1 h → nothing', () => {
    expect(evaluateRules(context({ hoursToQuota: { memberId: IDS[1], hours: 4.1 } }))).toEqual([]);
    expect(evaluateRules(context({ hoursToQuota: { memberId: IDS[1], hours: 4 } }))).toEqual([
      finding(1, 'db_growth_quota', 'warning', 'etcd-1: at its growth, the DB reaches the quota in about 4.0 h'),
    ]);
    expect(rules(evaluateRules(context({ hoursToQuota: { memberId: IDS[0], hours: 0.5 } })))).toEqual([
      'db_growth_quota',
    ]);
  });

  describe('fragmentation', () => {
    it('in use < half of the DB, with more than 100 MiB in use: warning', () => {
      const found = of(withDb(0, { dbSize: GiB, dbSizeInUse: 400 * MiB }), 'db_fragmented');
      expect(found).toEqual([finding(0, 'db_fragmented', 'warning', 'etcd-0: only 39 % of 1.0 GiB in use')]);
    });

    it('exactly half in use: not fragmented', () => {
      expect(of(withDb(0, { dbSize: GiB, dbSizeInUse: 512 * MiB }), 'db_fragmented')).toEqual([]);
    });

    it('in use ≤ 100 MiB: not worth a defragmentation, however sparse', () => {
      expect(of(withDb(0, { dbSize: GiB, dbSizeInUse: 100 * MiB }), 'db_fragmented')).toEqual([]);
      expect(of(withDb(0, { dbSize: 800 * MiB, dbSizeInUse: 20 * MiB }), 'db_fragmented')).toEqual([]);
      expect(of(withDb(0, { dbSize: GiB, dbSizeInUse: 100 * MiB + 1 }), 'db_fragmented')).toHaveLength(1);
    });

    it('an empty DB is not fragmented', () => {
      expect(of(withDb(0, { dbSize: 0, dbSizeInUse: 0 }), 'db_fragmented')).toEqual([]);
    });
  });
});

describe('alarms', () => {
  it('NOSPACE on one member: critical alarm_active naming it', () => {
    const obs = observation({ alarms: [{ member: 1, alarm: 'NOSPACE' }] });
    const findings = evaluateRules(context({ observation: obs }));
    expect(of(findings, 'alarm_active')).toEqual([
      finding(1, 'alarm_active', 'critical', 'NOSPACE alarm on etcd-1', 'NOSPACE'),
    ]);
    // The alarm makes the member unhealthy, as etcdctl endpoint health says.
    expect(one(of(findings, 'member_down')).summary).toBe('etcd-1 is unhealthy: alarm active: NOSPACE');
  });

  it('NOSPACE on every member (the usual case): one finding per member', () => {
    const obs = observation({ alarms: ([0, 1, 2] as const).map((member) => ({ member, alarm: 'NOSPACE' as const })) });
    const found = of(evaluateRules(context({ observation: obs })), 'alarm_active');
    expect(found.map((f) => f.summary)).toEqual([
      'NOSPACE alarm on etcd-0',
      'NOSPACE alarm on etcd-1',
      'NOSPACE alarm on etcd-2',
    ]);
  });

  it('CORRUPT: critical', () => {
    const obs = observation({ alarms: [{ member: 2, alarm: 'CORRUPT' }] });
    expect(of(evaluateRules(context({ observation: obs })), 'alarm_active')[0]).toMatchObject({
      severity: 'critical',
      memberName: 'etcd-2',
      summary: 'CORRUPT alarm on etcd-2',
    });
  });

  it('NOSPACE and CORRUPT on one member are two findings that tell each other apart', () => {
    const obs = observation({
      alarms: [
        { member: 0, alarm: 'NOSPACE' },
        { member: 0, alarm: 'CORRUPT' },
      ],
    });
    const found = of(evaluateRules(context({ observation: obs })), 'alarm_active');
    expect(found.map((f) => [f.memberId, f.instance])).toEqual([
      [IDS[0], 'NOSPACE'],
      [IDS[0], 'CORRUPT'],
    ]);
  });

  it('an alarm for a member not in the list is named by its id', () => {
    const obs = { ...observation(), alarms: [{ memberId: 'ef37ad9dc622a7c4', alarm: 'NOSPACE' as const }] };
    expect(of(evaluateRules(context({ observation: obs })), 'alarm_active')[0]).toMatchObject({
      memberId: 'ef37ad9dc622a7c4',
      memberName: 'ef37ad9dc622a7c4',
      summary: 'NOSPACE alarm on ef37ad9dc622a7c4',
    });
  });
});

describe('versions and cluster size', () => {
  it('members on different etcd versions: version_mismatch warning listing them', () => {
    const obs = observation({ members: [{ status: { version: '3.6.4' } }, {}, { status: { version: '3.5.30' } }] });
    expect(evaluateRules(context({ observation: obs }))).toEqual([
      finding(null, 'version_mismatch', 'warning', 'members run etcd 3.5.21, 3.5.30, 3.6.4'),
    ]);
  });

  it('a release the etcd project advises against: one finding per member, its severity from the advisory', () => {
    const obs = observation({
      members: [{ status: { version: '3.5.1' } }, { status: { version: '3.4.23' } }, { status: { version: '3.7.1' } }],
    });
    const found = of(evaluateRules(context({ observation: obs })), 'etcd_version_advisory');
    expect(found.map((f) => [f.severity, f.memberId, f.summary])).toEqual([
      [
        'critical',
        obs.members[0]!.id,
        `etcd 3.5.1 can leave members with different data (the 3.5.0–3.5.2 inconsistency bug) (on ${obs.members[0]!.name})`,
      ],
      ['warning', obs.members[1]!.id, `etcd 3.4.23: 3.4 is end of life (June 2026) (on ${obs.members[1]!.name})`],
    ]);
  });

  it('a member without status does not count as a version', () => {
    const obs = observation({ members: [{}, {}, { health: 'unreachable' }] });
    expect(of(evaluateRules(context({ observation: obs })), 'version_mismatch')).toEqual([]);
  });

  it('a single member: cluster_size (info), and no quorum_at_risk for its zero tolerance', () => {
    const obs = observation({ members: [{}] });
    expect(obs.quorum).toMatchObject({ voting: 1, healthy: 1, tolerance: 0 });
    expect(evaluateRules(context({ observation: obs }))).toEqual([
      finding(null, 'cluster_size', 'info', 'a single voting member: no failure tolerated'),
    ]);
  });

  it.each([2, 4, 6])('%i voting members: cluster_size (info), even size', (n) => {
    const obs = observation({ members: Array.from({ length: n }, () => ({})) });
    expect(evaluateRules(context({ observation: obs }))).toEqual([
      finding(null, 'cluster_size', 'info', `${n} voting members: an even size adds no tolerance`),
    ]);
  });

  it('3 or 5 voters, or 3 voters and a learner: no cluster_size', () => {
    for (const members of [
      [{}, {}, {}],
      [{}, {}, {}, {}, {}],
      [{}, {}, {}, { isLearner: true }],
    ] as MemberSpec[][]) {
      expect(evaluateRules(context({ observation: observation({ members }) }))).toEqual([]);
    }
  });
});

describe('snapshots', () => {
  const snap = (lastVerifiedAt: number | null, lastVerifiedOffsite: boolean | null) =>
    evaluateRules(context({ snapshots: { lastVerifiedAt, lastVerifiedOffsite } }));

  it('none: snapshot_stale', () => {
    expect(snap(null, null)).toEqual([
      finding(null, 'snapshot_stale', 'warning', 'no verified snapshot of this cluster'),
    ]);
  });

  it('older than 24 h: snapshot_stale (whether off-site or not); exactly 24 h: not yet', () => {
    expect(snap(NOW - 24 * HOUR, true)).toEqual([]);
    for (const offsite of [true, false]) {
      const findings = snap(NOW - 24 * HOUR - 1, offsite);
      expect(rules(findings)).toEqual(['snapshot_stale']);
      expect(one(findings).summary).toBe('no verified snapshot in 24 h');
    }
  });

  it('recent but not off-site: snapshot_not_offsite', () => {
    expect(snap(NOW - 23 * HOUR, false)).toEqual([
      finding(null, 'snapshot_not_offsite', 'warning', 'the newest verified snapshot has no off-site copy'),
    ]);
  });

  it('recent and off-site: nothing', () => {
    expect(snap(NOW - 23 * HOUR, true)).toEqual([]);
    expect(snap(NOW - 60_000, true)).toEqual([]);
  });
});

describe('certificates', () => {
  const cert = (validTo: number, what = "the dashboard's client certificate", memberId: string | null = null) =>
    evaluateRules(context({ certificates: [...CERTS, { what, memberId, validTo }] }));

  it('31 days left → nothing; exactly 30 → nothing', () => {
    expect(cert(NOW + 31 * DAY)).toEqual([]);
    expect(cert(NOW + 30 * DAY)).toEqual([]);
  });

  it('29 days left → warning', () => {
    expect(cert(NOW + 29 * DAY)).toEqual([
      finding(
        null,
        'cert_expiring',
        'warning',
        `the dashboard's client certificate expires in 29 day(s) (${new Date(NOW + 29 * DAY).toISOString().slice(0, 10)})`,
        "the dashboard's client certificate",
      ),
    ]);
  });

  it('7 days left → still warning; 6 → critical', () => {
    expect(one(cert(NOW + 7 * DAY)).severity).toBe('warning');
    const f = one(cert(NOW + 6 * DAY, "etcd-1's server certificate", IDS[1]));
    expect(f).toMatchObject({
      rule: 'cert_expiring',
      severity: 'critical',
      memberId: IDS[1],
      instance: "etcd-1's server certificate",
    });
    expect(f.summary).toContain('expires in 6 day(s)');
  });

  it('expired → critical, saying "expired"', () => {
    const f = one(cert(NOW - 2 * DAY, 'the CA certificate'));
    expect(f).toMatchObject({ rule: 'cert_expiring', severity: 'critical', instance: 'the CA certificate' });
    expect(f.summary).toBe(
      `the CA certificate expired 2 day(s) ago (${new Date(NOW - 2 * DAY).toISOString().slice(0, 10)})`,
    );
    expect(one(cert(NOW - HOUR)).summary).toContain('expired 1 day(s) ago');
  });

  it('two expiring certificates of one member are two findings, told apart by instance', () => {
    const findings = evaluateRules(
      context({
        certificates: [
          { what: "etcd-0's server certificate", memberId: IDS[0], validTo: NOW + 20 * DAY },
          { what: "etcd-0's peer certificate", memberId: IDS[0], validTo: NOW + 3 * DAY },
        ],
      }),
    );
    expect(findings.map((f) => [f.instance, f.severity])).toEqual([
      ["etcd-0's server certificate", 'warning'],
      ["etcd-0's peer certificate", 'critical'],
    ]);
  });
});

describe('members diverged (the consistency check)', () => {
  it('one member differs from the majority: critical, naming that member', () => {
    const consistency = consistencyCheck([0x1c2d, 0x1c2d, 0x9f00], {
      agree: false,
      suspect: IDS[2],
      note: 'etcd-2 differs from the other 2 members',
    });
    expect(evaluateRules(context({ consistency }))).toEqual([
      finding(
        2,
        'members_diverged',
        'critical',
        'etcd-2 differs from the majority at revision 1200: its data has diverged',
      ),
    ]);
  });

  it('no majority to tell which one: critical for the cluster, saying why', () => {
    const note = "the members' hashes differ and no majority agrees (1 did not answer)";
    const consistency = consistencyCheck([0x1c2d, 0x9f00, null], { agree: false, suspect: null, note });
    expect(evaluateRules(context({ consistency }))).toEqual([
      finding(null, 'members_diverged', 'critical', `the members' data differs at revision 1200: ${note}`),
    ]);
  });

  it('members that agree, a check that could not compare, or no recent check: nothing', () => {
    const agree = consistencyCheck([0x1c2d, 0x1c2d, 0x1c2d], { agree: true, suspect: null, note: null });
    const unknown = consistencyCheck([0x1c2d, null, null], {
      agree: null,
      suspect: null,
      note: '1 of 3 members answered: nothing to compare',
    });
    for (const consistency of [agree, unknown, null, undefined]) {
      expect(evaluateRules(context({ consistency }))).toEqual([]);
    }
  });
});

describe('Secrets at rest', () => {
  it('plain > 0: secrets_plaintext', () => {
    expect(evaluateRules(context({ secrets: { total: 142, plain: 3 } }))).toEqual([
      finding(null, 'secrets_plaintext', 'warning', '3 of 142 Secrets are stored unencrypted in etcd'),
    ]);
  });

  it('none plain, or no census yet: nothing', () => {
    expect(evaluateRules(context({ secrets: { total: 142, plain: 0 } }))).toEqual([]);
    expect(evaluateRules(context({ secrets: null }))).toEqual([]);
  });
});

describe('RULES', () => {
  const entries = Object.entries(RULES) as [RuleName, (typeof RULES)[RuleName]][];

  it.each(entries)('%s says what it means and what to do', (_name, rule) => {
    expect(rule.advice.trim().length).toBeGreaterThan(40);
    expect(Number.isFinite(rule.forSeconds)).toBe(true);
    expect(rule.forSeconds).toBeGreaterThanOrEqual(0);
  });

  describe('snapshot_restore_test', () => {
    const snap = (over: Partial<RuleContext['snapshots']>): RuleContext =>
      context({
        snapshots: {
          lastVerifiedAt: NOW - 2 * HOUR,
          lastVerifiedOffsite: true,
          restoreTestsEnabled: true,
          newestRestoreTest: { state: 'passed', reason: null },
          lastRestoreTestedAt: NOW - 2 * HOUR,
          ...over,
        },
      });
    const found = (ctx: RuleContext) => evaluateRules(ctx).filter((f) => f.rule === 'snapshot_restore_test');

    it('the newest snapshot passed recently: nothing', () => {
      expect(found(snap({}))).toEqual([]);
    });
    it('the newest snapshot failed its restore test: critical, with the reason', () => {
      expect(found(snap({ newestRestoreTest: { state: 'failed', reason: 'HashKV at revision 9 differs' } }))).toEqual([
        finding(
          null,
          'snapshot_restore_test',
          'critical',
          'the newest snapshot failed its restore test: HashKV at revision 9 differs',
        ),
      ]);
    });
    it('none passed in 24 h: warning; never one, with why the newest was skipped', () => {
      expect(found(snap({ lastRestoreTestedAt: NOW - 25 * HOUR }))).toEqual([
        finding(null, 'snapshot_restore_test', 'warning', 'no snapshot passed a restore test in 24 h'),
      ]);
      expect(
        found(
          snap({
            lastRestoreTestedAt: null,
            newestRestoreTest: { state: 'skipped', reason: 'not restore-tested: no etcd 3.6 binary here' },
          }),
        ),
      ).toEqual([
        finding(
          null,
          'snapshot_restore_test',
          'warning',
          'no snapshot has passed a restore test (not restore-tested: no etcd 3.6 binary here)',
        ),
      ]);
    });
    it('a test running, a snapshot just taken and not yet tested, or restore tests off: nothing', () => {
      expect(found(snap({ lastRestoreTestedAt: null, newestRestoreTest: { state: 'running', reason: null } }))).toEqual(
        [],
      );
      expect(found(snap({ lastVerifiedAt: NOW - 60_000, lastRestoreTestedAt: null, newestRestoreTest: null }))).toEqual(
        [],
      );
      expect(found(snap({ restoreTestsEnabled: false, newestRestoreTest: { state: 'failed', reason: 'x' } }))).toEqual(
        [],
      );
    });
    it('a snapshot never tested for hours: warning', () => {
      expect(
        found(snap({ lastVerifiedAt: NOW - 2 * HOUR, lastRestoreTestedAt: null, newestRestoreTest: null })),
      ).toHaveLength(1);
    });
  });

  it('no rule is dead: across a few broken clusters, every rule in RULES is emitted', () => {
    // Everything that can go wrong at once in a cluster that still has a leader.
    const busy = observation({
      members: [
        { status: { dbSize: 1.95 * GiB, dbSizeInUse: 0.3 * GiB, version: '3.6.4' } },
        { status: { version: '3.5.1' } },
        {},
        {},
      ],
      alarms: [{ member: 1, alarm: 'NOSPACE' }],
    });
    const lost = observation({ members: [{ health: 'unreachable' }, { health: 'unreachable' }, {}], leader: null });
    const scenarios: RuleContext[] = [
      context({
        observation: busy,
        metrics: metricsFor(busy, {
          [IDS[2]]: { walFsyncP99Ms: 20, backendCommitP99Ms: 30, worstPeerRttP99Ms: 200, proposalsFailedRecent: 2 },
        }),
        leaderChangesIn15m: 5,
        hoursToQuota: { memberId: IDS[0], hours: 1 },
        snapshots: { lastVerifiedAt: null, lastVerifiedOffsite: null },
        certificates: [{ what: 'the CA certificate', memberId: null, validTo: NOW + DAY }],
        secrets: { total: 5, plain: 5 },
        consistency: consistencyCheck([1, 1, 2, 1], {
          agree: false,
          suspect: IDS[2],
          note: 'etcd-2 differs from the other 3 members',
        }),
      }),
      context({
        observation: lost,
        snapshots: {
          lastVerifiedAt: NOW - HOUR,
          lastVerifiedOffsite: false,
          restoreTestsEnabled: true,
          newestRestoreTest: { state: 'failed', reason: 'restored 3 live keys, the snapshot holds 4' },
          lastRestoreTestedAt: null,
        },
      }),
      context({ stale: true }),
    ];
    const emitted = new Set(scenarios.flatMap((ctx) => rules(evaluateRules(ctx))));
    expect([...emitted].sort()).toEqual(Object.keys(RULES).sort());
  });

  it('default thresholds are those of etcd guidance and etcd-mixin', () => {
    expect(DEFAULT_THRESHOLDS).toMatchObject({
      walFsyncP99WarnMs: 10,
      walFsyncP99CritMs: 500,
      backendCommitP99WarnMs: 25,
      backendCommitP99CritMs: 250,
      leaderChangesIn15m: 4,
      dbQuotaWarnRatio: 0.8,
      dbQuotaCritRatio: 0.95,
      dbGrowthHoursToQuota: 4,
      fragmentationRatio: 0.5,
      fragmentationMinInUseBytes: 100 * MiB,
      snapshotMaxAgeHours: 24,
      certWarnDays: 30,
      certCritDays: 7,
    });
  });
});
