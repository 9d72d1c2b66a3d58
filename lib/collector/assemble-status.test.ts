import { describe, expect, it } from 'vitest';
import type { AlarmEntry, MemberListEntry } from '@/lib/etcd/cluster-calls';
import type { EtcdFailure } from '@/lib/etcd/etcd-error';
import type { HealthReading, MemberProbeResult, MemberStatusReading } from '@/lib/etcd/member-probe';
import type { MemberView } from '@/lib/cluster/status-types';
import { assembleStatus, normalizeUrl, type PollOutcome } from './assemble-status';

// Three members on loopback, as scripts/local-cluster.ts runs them; ids as etcdctl prints them.
const ENDPOINTS = ['https://127.0.0.1:2379', 'https://127.0.0.1:22379', 'https://127.0.0.1:32379'] as const;
const IDS = ['8211f1d0f64f3269', '91bc3c398fb3c146', 'fd422379fda50e48'] as const;
const NAMES = ['etcd-0', 'etcd-1', 'etcd-2'] as const;
const LEARNER_ID = 'ef37ad9dc622a7c4';
const LEARNER_ENDPOINT = 'https://127.0.0.1:42379';

type Index = 0 | 1 | 2;

const REFUSED: EtcdFailure = { kind: 'unreachable', message: 'connect ECONNREFUSED 127.0.0.1:22379' };
const TIMEOUT: EtcdFailure = {
  kind: 'timeout',
  message: 'no answer before the deadline (member hung, overloaded or partitioned)',
};

function listed(i: Index, overrides: Partial<MemberListEntry> = {}): MemberListEntry {
  return {
    id: IDS[i],
    name: NAMES[i],
    peerURLs: [`https://127.0.0.1:${2380 + i * 20000}`],
    clientURLs: [ENDPOINTS[i]],
    isLearner: false,
    ...overrides,
  };
}

const learnerListed: MemberListEntry = {
  id: LEARNER_ID,
  name: 'etcd-learner',
  peerURLs: ['https://127.0.0.1:42380'],
  clientURLs: [LEARNER_ENDPOINT],
  isLearner: true,
};

function reading(memberId: string, overrides: Partial<MemberStatusReading> = {}): MemberStatusReading {
  return {
    memberId,
    clusterId: 'cdf818194e3a8c32',
    version: '3.4.23',
    dbSize: 20480,
    dbSizeInUse: 16384,
    leader: IDS[0],
    raftTerm: 2,
    raftIndex: 42,
    raftAppliedIndex: 42,
    revision: 17,
    isLearner: false,
    errors: [],
    dbSizeQuota: null,
    storageVersion: null,
    downgrade: null,
    ...overrides,
  };
}

const healthyRead = (tookMs = 2.5): HealthReading => ({ ok: true, tookMs, failure: null });
const failedRead = (failure: EtcdFailure): HealthReading => ({ ok: false, tookMs: null, failure });

/** A member that answered Status and the health read. */
function answered(i: Index, status: Partial<MemberStatusReading> = {}, health = healthyRead()): MemberProbeResult {
  return { endpoint: ENDPOINTS[i], status: reading(IDS[i], status), statusFailure: null, health };
}

/** A member that answered nothing. */
function dead(endpoint: string, failure: EtcdFailure = REFUSED): MemberProbeResult {
  return { endpoint, status: null, statusFailure: failure, health: failedRead(failure) };
}

function poll(overrides: Partial<PollOutcome> = {}): PollOutcome {
  return {
    clusterId: 'default',
    name: 'default',
    pollIntervalMs: 1000,
    observedAt: '2025-03-01T12:00:00.000Z',
    memberList: [listed(0), listed(1), listed(2)],
    probes: [answered(0), answered(1), answered(2)],
    endpointMembers: new Map(),
    alarms: [],
    warnings: [],
    ...overrides,
  };
}

function member(members: MemberView[], id: string): MemberView {
  const m = members.find((x) => x.id === id);
  if (!m) throw new Error(`no row for member ${id}: ${JSON.stringify(members.map((x) => x.id))}`);
  return m;
}

const leaders = (members: MemberView[]) => members.filter((m) => m.status?.isLeader).map((m) => m.id);

const DENIED: EtcdFailure = { kind: 'permission-denied', message: 'permission denied' };

/** etcd refused Status for auth (3.5.28+ without the root role); the health read is what it says. */
function statusRefused(i: Index, health = healthyRead()): MemberProbeResult {
  return { endpoint: ENDPOINTS[i], status: null, statusFailure: DENIED, statusRefused: true, health };
}

describe('assembleStatus', () => {
  it('Status refused for auth: members judged by the health read, quorum held, the leader elected but unnamed', () => {
    const obs = assembleStatus(
      poll({ probes: [statusRefused(0), statusRefused(1), statusRefused(2, failedRead(TIMEOUT))] }),
    );
    expect(obs.members.map((m) => m.health)).toEqual(['healthy', 'healthy', 'unhealthy']);
    expect(obs.quorum.state).toBe('at-risk');
    expect(obs.leader).toBeNull();
    expect(obs.warnings.join(' ')).toContain("etcd refuses Status to the dashboard's etcd user");
    // Refused and unable to read: no quorum is claimed.
    const none = assembleStatus(poll({ probes: [0, 1, 2].map((i) => statusRefused(i as Index, failedRead(TIMEOUT))) }));
    expect(none.quorum.state).toBe('lost');
  });

  it('three healthy members: healthy, with the leader they agree on marked on exactly one row', () => {
    const obs = assembleStatus(poll());
    expect(obs.quorum).toEqual({ members: 3, voting: 3, healthy: 3, required: 2, tolerance: 1, state: 'healthy' });
    expect(obs.leader).toEqual({ id: IDS[0], name: 'etcd-0' });
    expect(leaders(obs.members)).toEqual([IDS[0]]);
    expect(obs.members.map((m) => [m.id, m.name, m.endpoint, m.health, m.error])).toEqual([
      [IDS[0], 'etcd-0', ENDPOINTS[0], 'healthy', null],
      [IDS[1], 'etcd-1', ENDPOINTS[1], 'healthy', null],
      [IDS[2], 'etcd-2', ENDPOINTS[2], 'healthy', null],
    ]);
    expect(member(obs.members, IDS[1]).status).toMatchObject({ version: '3.4.23', raftIndex: 42, isLeader: false });
  });

  it('passes the poll’s identity, time, alarms and warnings through', () => {
    const warnings = ['alarm list unavailable from https://127.0.0.1:2379: permission denied'];
    const obs = assembleStatus(poll({ clusterId: 'prod', name: 'Production', pollIntervalMs: 2000, warnings }));
    expect(obs).toMatchObject({
      clusterId: 'prod',
      name: 'Production',
      pollIntervalMs: 2000,
      observedAt: '2025-03-01T12:00:00.000Z',
      warnings,
      alarms: [],
    });
  });

  it('shows the health read’s time to a tenth of a millisecond', () => {
    const obs = assembleStatus(poll({ probes: [answered(0, {}, healthyRead(3.14159)), answered(1), answered(2)] }));
    expect(member(obs.members, IDS[0]).probeMs).toBe(3.1);
  });

  it('a member that does not answer is unreachable with the reason, and the cluster is at risk', () => {
    const obs = assembleStatus(poll({ probes: [answered(0), dead(ENDPOINTS[1]), answered(2)] }));
    expect(obs.members).toHaveLength(3);
    const m = member(obs.members, IDS[1]);
    expect(m).toMatchObject({
      name: 'etcd-1',
      endpoint: ENDPOINTS[1],
      health: 'unreachable',
      error: 'connect ECONNREFUSED 127.0.0.1:22379',
      status: null,
      probeMs: null,
    });
    expect(obs.quorum).toMatchObject({ healthy: 2, tolerance: 0, state: 'at-risk' });
    expect(obs.leader).toEqual({ id: IDS[0], name: 'etcd-0' });
  });

  it('a member that answers Status but fails the health read is unhealthy, and its status is still shown', () => {
    const obs = assembleStatus(poll({ probes: [answered(0), answered(1), answered(2, {}, failedRead(TIMEOUT))] }));
    const m = member(obs.members, IDS[2]);
    expect(m.health).toBe('unhealthy');
    expect(m.error).toBe(TIMEOUT.message);
    expect(m.probeMs).toBeNull();
    expect(m.status?.version).toBe('3.4.23');
    expect(obs.quorum).toMatchObject({ healthy: 2, state: 'at-risk' });
  });

  it('an active NOSPACE alarm makes that member unhealthy, as etcdctl endpoint health does', () => {
    const alarms: AlarmEntry[] = [{ memberId: IDS[2], alarm: 'NOSPACE' }];
    const obs = assembleStatus(poll({ alarms }));
    const m = member(obs.members, IDS[2]);
    expect(m.health).toBe('unhealthy');
    expect(m.error).toMatch(/^alarm active: .*NOSPACE/);
    expect(member(obs.members, IDS[0]).health).toBe('healthy');
    expect(member(obs.members, IDS[1]).health).toBe('healthy');
    expect(obs.alarms).toEqual(alarms);
    expect(obs.quorum.healthy).toBe(2);
  });

  it('names every active alarm of a member', () => {
    const obs = assembleStatus(
      poll({
        alarms: [
          { memberId: IDS[1], alarm: 'NOSPACE' },
          { memberId: IDS[1], alarm: 'CORRUPT' },
        ],
      }),
    );
    const error = member(obs.members, IDS[1]).error ?? '';
    expect(error).toContain('NOSPACE');
    expect(error).toContain('CORRUPT');
  });

  it('shows the errors a member reports about itself', () => {
    const obs = assembleStatus(
      poll({ probes: [answered(0), answered(1, { errors: ['etcdserver: no leader'] }), answered(2)] }),
    );
    expect(member(obs.members, IDS[1])).toMatchObject({ health: 'unhealthy', error: 'etcdserver: no leader' });
  });

  it('quorum lost: members that know no leader (leader "0") give state lost and no leader', () => {
    const noLeader = { leader: '0', raftTerm: 7, errors: ['etcdserver: no leader'] };
    const obs = assembleStatus(
      poll({
        probes: [answered(0, noLeader, failedRead(TIMEOUT)), dead(ENDPOINTS[1]), dead(ENDPOINTS[2])],
      }),
    );
    expect(obs.quorum).toMatchObject({ voting: 3, healthy: 0, state: 'lost' });
    expect(obs.quorum.tolerance).toBeLessThan(0);
    expect(obs.leader).toBeNull();
    expect(leaders(obs.members)).toEqual([]);
    expect(member(obs.members, IDS[0]).health).toBe('unhealthy');
  });

  it('quorum lost even when every member still answers Status, if none knows a leader', () => {
    const noLeader = { leader: '0', errors: ['etcdserver: no leader'] };
    const obs = assembleStatus(
      poll({
        probes: [
          answered(0, noLeader, failedRead(TIMEOUT)),
          answered(1, noLeader, failedRead(TIMEOUT)),
          answered(2, noLeader, failedRead(TIMEOUT)),
        ],
      }),
    );
    expect(obs.quorum.state).toBe('lost');
    expect(obs.leader).toBeNull();
    expect(obs.members.every((m) => m.health === 'unhealthy')).toBe(true);
  });

  it('no member list and nothing answering: one row per endpoint, unreachable, without ids', () => {
    const obs = assembleStatus(
      poll({ memberList: null, probes: ENDPOINTS.map((e) => dead(e)), endpointMembers: new Map() }),
    );
    expect(obs.members).toHaveLength(3);
    expect(obs.members.map((m) => m.endpoint)).toEqual([...ENDPOINTS]);
    expect(obs.members.map((m) => m.name)).toEqual(['127.0.0.1:2379', '127.0.0.1:22379', '127.0.0.1:32379']);
    for (const m of obs.members) {
      expect(m.id).toBeNull();
      expect(m.health).toBe('unreachable');
      expect(m.error).toBe(REFUSED.message);
    }
    expect(obs.quorum).toMatchObject({ healthy: 0, state: 'lost' });
    expect(obs.leader).toBeNull();
  });

  it('no member list: a remembered id is kept on the row of a member that stopped answering', () => {
    const obs = assembleStatus(
      poll({
        memberList: null,
        probes: [answered(0), answered(1), dead(ENDPOINTS[2])],
        endpointMembers: new Map([[ENDPOINTS[2], IDS[2]]]),
      }),
    );
    expect(obs.members).toHaveLength(3);
    expect(member(obs.members, IDS[2])).toMatchObject({ endpoint: ENDPOINTS[2], health: 'unreachable' });
    expect(obs.quorum).toMatchObject({ voting: 3, healthy: 2, state: 'at-risk' });
  });

  it('a dead member is matched to its endpoint through the remembered id, even when the URLs differ', () => {
    // Configured by DNS name; the member advertises its IP. Only the remembered id ties the two together.
    const dnsEndpoint = 'https://etcd-2.etcd.kube-system.svc:2379';
    const obs = assembleStatus(
      poll({
        memberList: [listed(0), listed(1), listed(2, { clientURLs: ['https://10.0.0.13:2379'] })],
        probes: [answered(0), answered(1), dead(dnsEndpoint)],
        endpointMembers: new Map([[dnsEndpoint, IDS[2]]]),
      }),
    );
    expect(obs.members).toHaveLength(3);
    expect(member(obs.members, IDS[2])).toMatchObject({
      name: 'etcd-2',
      endpoint: dnsEndpoint,
      health: 'unreachable',
      error: REFUSED.message,
    });
    expect(obs.quorum).toMatchObject({ voting: 3, healthy: 2, state: 'at-risk' });
  });

  it('a dead member is matched to its endpoint through its advertised client URL', () => {
    const obs = assembleStatus(
      poll({
        // Advertised with a trailing slash and an upper-case host: still the same endpoint.
        memberList: [listed(0), listed(1, { clientURLs: ['https://LOCALHOST:22379/'] }), listed(2)],
        probes: [answered(0), dead('https://localhost:22379'), answered(2)],
        endpointMembers: new Map(),
      }),
    );
    expect(obs.members).toHaveLength(3);
    expect(member(obs.members, IDS[1])).toMatchObject({
      name: 'etcd-1',
      endpoint: 'https://localhost:22379',
      health: 'unreachable',
      error: REFUSED.message,
    });
  });

  it('a listed member with no endpoint to probe is unreachable, not silently healthy', () => {
    const obs = assembleStatus(poll({ probes: [answered(0), answered(1)] }));
    const m = member(obs.members, IDS[2]);
    expect(m.health).toBe('unreachable');
    expect(m.endpoint).toBeNull();
    expect(m.error).toMatch(/not probed/);
    expect(obs.quorum).toMatchObject({ healthy: 2, state: 'at-risk' });
  });

  it('the leader that followers name but that does not answer is not counted as a leader', () => {
    // It has most likely just died and its followers have not noticed yet (see the comment in assembleStatus).
    const obs = assembleStatus(poll({ probes: [dead(ENDPOINTS[0]), answered(1), answered(2)] }));
    expect(member(obs.members, IDS[0]).health).toBe('unreachable');
    expect(leaders(obs.members)).toEqual([]);
    expect(obs.quorum).toMatchObject({ voting: 3, healthy: 2, state: 'lost' });
    // The page must not name a dead member as leader beside "no leader" advice.
    expect(obs.leader).toBeNull();
  });

  it('after an election, the leader of the newest term wins over a member still naming the old one', () => {
    const obs = assembleStatus(
      poll({
        probes: [
          answered(0, { leader: IDS[0], raftTerm: 2 }),
          answered(1, { leader: IDS[1], raftTerm: 3 }),
          answered(2, { leader: IDS[1], raftTerm: 3 }),
        ],
      }),
    );
    expect(obs.leader).toEqual({ id: IDS[1], name: 'etcd-1' });
    expect(leaders(obs.members)).toEqual([IDS[1]]);
  });

  it('a newer term wins even when fewer members report it', () => {
    const obs = assembleStatus(
      poll({
        probes: [
          answered(0, { leader: IDS[0], raftTerm: 2 }),
          answered(1, { leader: IDS[0], raftTerm: 2 }),
          answered(2, { leader: IDS[2], raftTerm: 4 }),
        ],
      }),
    );
    expect(obs.leader?.id).toBe(IDS[2]);
  });

  it('a learner is shown but does not vote', () => {
    const learnerProbe: MemberProbeResult = {
      endpoint: LEARNER_ENDPOINT,
      status: reading(LEARNER_ID, { isLearner: true }),
      statusFailure: null,
      health: healthyRead(),
    };
    const obs = assembleStatus(
      poll({
        memberList: [listed(0), listed(1), listed(2), learnerListed],
        probes: [answered(0), answered(1), answered(2), learnerProbe],
      }),
    );
    expect(obs.members).toHaveLength(4);
    expect(member(obs.members, LEARNER_ID)).toMatchObject({ isLearner: true, health: 'healthy' });
    expect(obs.quorum).toEqual({ members: 4, voting: 3, healthy: 3, required: 2, tolerance: 1, state: 'healthy' });
  });

  it('a dead learner does not put the cluster at risk', () => {
    const obs = assembleStatus(
      poll({
        memberList: [listed(0), listed(1), listed(2), learnerListed],
        probes: [answered(0), answered(1), answered(2), dead(LEARNER_ENDPOINT)],
      }),
    );
    expect(member(obs.members, LEARNER_ID)).toMatchObject({ isLearner: true, health: 'unreachable' });
    expect(obs.quorum).toMatchObject({ members: 4, voting: 3, healthy: 3, state: 'healthy' });
  });

  it('a member added but not started yet is shown as unstarted and unreachable', () => {
    const obs = assembleStatus(
      poll({
        memberList: [listed(0), listed(1), listed(2), { ...learnerListed, name: '', clientURLs: [], isLearner: false }],
      }),
    );
    const m = member(obs.members, LEARNER_ID);
    expect(m.name).toBe('(unstarted)');
    expect(m.health).toBe('unreachable');
    // It votes once added: 3 of 4 healthy, quorum 3.
    expect(obs.quorum).toMatchObject({ voting: 4, healthy: 3, required: 3, state: 'at-risk' });
  });
});

describe('assembleStatus: what etcd 3.6+ adds to Status', () => {
  const MiB = 1024 * 1024;
  const v36 = (quota: number | null): Partial<MemberStatusReading> => ({
    version: '3.6.14',
    dbSizeQuota: quota,
    storageVersion: '3.6.0',
    downgrade: { enabled: false, targetVersion: '' },
  });

  it('takes the quota from Status where members send it, the smallest of them, over the metric', () => {
    const obs = assembleStatus(
      poll({
        probes: [answered(0, v36(64 * MiB)), answered(1, v36(48 * MiB)), dead(ENDPOINTS[2])],
        quotaBackendBytes: 2048 * MiB,
      }),
    );
    expect(obs.quotaBackendBytes).toBe(48 * MiB);
    expect(obs.quotaSource).toBe('status');
  });

  it('falls back to the metric when no member sends a quota (etcd 3.4/3.5, or none answered)', () => {
    const old = assembleStatus(poll({ quotaBackendBytes: 96 * MiB }));
    expect([old.quotaBackendBytes, old.quotaSource]).toEqual([96 * MiB, 'metrics']);
    const none = assembleStatus(
      poll({ probes: [dead(ENDPOINTS[0]), dead(ENDPOINTS[1]), dead(ENDPOINTS[2])], quotaBackendBytes: 96 * MiB }),
    );
    expect([none.quotaBackendBytes, none.quotaSource]).toEqual([96 * MiB, 'metrics']);
    const unknown = assembleStatus(poll());
    expect([unknown.quotaBackendBytes, unknown.quotaSource]).toEqual([null, null]);
  });

  it('passes each member’s storage version and downgrade state through, null before 3.6', () => {
    const downgrading = {
      ...v36(64 * MiB),
      storageVersion: '3.5.0',
      downgrade: { enabled: true, targetVersion: '3.5.0' },
    };
    const obs = assembleStatus(poll({ probes: [answered(0, downgrading), answered(1), answered(2, v36(64 * MiB))] }));
    expect(member(obs.members, IDS[0]).status).toMatchObject({
      storageVersion: '3.5.0',
      downgrade: { enabled: true, targetVersion: '3.5.0' },
    });
    expect(member(obs.members, IDS[1]).status).toMatchObject({ storageVersion: null, downgrade: null });
    expect(member(obs.members, IDS[2]).status?.storageVersion).toBe('3.6.0');
  });

  it('marks the members whose metrics say they are defragmenting, even one that does not answer Status', () => {
    const obs = assembleStatus(
      poll({ probes: [answered(0), answered(1), dead(ENDPOINTS[2], TIMEOUT)], defragmenting: new Set([IDS[2]]) }),
    );
    expect(obs.members.map((m) => [m.id, m.defragmenting])).toEqual([
      [IDS[0], false],
      [IDS[1], false],
      [IDS[2], true],
    ]);
  });
});

describe('normalizeUrl', () => {
  it('makes the same endpoint compare equal however it is written', () => {
    expect(normalizeUrl('https://LOCALHOST:2379/')).toBe('https://localhost:2379');
    expect(normalizeUrl('https://127.0.0.1:2379')).toBe('https://127.0.0.1:2379');
  });

  it('fills in the default port of the scheme', () => {
    expect(normalizeUrl('https://etcd.example.com')).toBe('https://etcd.example.com:443');
    expect(normalizeUrl('https://etcd.example.com:443')).toBe('https://etcd.example.com:443');
    expect(normalizeUrl('http://etcd.example.com')).toBe('http://etcd.example.com:80');
  });

  it('keeps http and https apart', () => {
    expect(normalizeUrl('http://127.0.0.1:2379')).not.toBe(normalizeUrl('https://127.0.0.1:2379'));
  });

  it('returns a value that is not a URL unchanged', () => {
    expect(normalizeUrl('127.0.0.1:2379 ')).toBe('127.0.0.1:2379 ');
    expect(normalizeUrl('')).toBe('');
  });
});
