// Whether a maintenance action may run now, and what it will do in which order: judged from the collector's latest
// observation alone, so every refusal an operator can meet and every plan they confirm is checked here.
import { describe, expect, it } from 'vitest';
import type { Observation } from '@/lib/cluster/status-types';
import {
  GiB,
  IDS,
  MiB,
  memberId,
  observation,
  RAFT_INDEX,
  type MemberSpec,
  type ObservationSpec,
} from '@/test/support/observations';
import {
  buildPlan,
  CAUGHT_UP_ENTRIES,
  compactTarget,
  defragmentOrder,
  refusal,
  type GateContext,
} from './maintenance-plan';
import { MAINTENANCE_ACTIONS, type MaintenanceAction, type MaintenanceRequest } from './maintenance-types';

/** Nothing else running, and the observation fresh. */
const FREE: GateContext = { stale: false, runningMaintenance: null, runningSnapshot: null };

const gate = (obs: Observation | null, req: MaintenanceRequest, ctx: Partial<GateContext> = {}) =>
  refusal(obs, req, { ...FREE, ...ctx });
/** The refusal's code, or null when the action may run. */
const code = (obs: Observation | null, req: MaintenanceRequest, ctx: Partial<GateContext> = {}) =>
  gate(obs, req, ctx)?.code ?? null;

const act = (action: MaintenanceAction, more: Omit<MaintenanceRequest, 'action'> = {}): MaintenanceRequest => ({
  action,
  ...more,
});
/** A request each action would accept on a healthy cluster (move-leader needs a target). */
const request = (action: MaintenanceAction) => act(action, action === 'move-leader' ? { target: IDS[1] } : {});
const EVERY = MAINTENANCE_ACTIONS.map(request);

/** A NOSPACE alarm on the members given: they are unhealthy only because of it (as the collector judges them). */
const nospaceOn = (members: (0 | 1 | 2)[], more: ObservationSpec = {}) =>
  observation({ alarms: members.map((member) => ({ member, alarm: 'NOSPACE' as const })), ...more });

/**
 * NOSPACE on these members, the leader among them: as the collector sees it, it is still elected and named (it
 * answers Status), though its health read counts it unhealthy.
 */
const nospaceOnLeading = (members: (0 | 1 | 2)[]) => nospaceOn(members, { leader: { id: IDS[0], name: 'etcd-0' } });
/** Every member hits the quota at about the same size: the alarm is on two or all three. */
const SPREAD_ALARMS: (0 | 1 | 2)[][] = [
  [0, 1],
  [0, 1, 2],
];

/** Three members, member i as `spec`, the others healthy; etcd-0 leads. */
const withMember = (i: 0 | 1 | 2, spec: MemberSpec, more: ObservationSpec = {}) => {
  const members: MemberSpec[] = [{}, {}, {}];
  members[i] = spec;
  return observation({ members, ...more });
};

const names = (obs: Observation, members?: MaintenanceRequest['members']) =>
  defragmentOrder(obs, members).map((m) => m.name);

describe('refusal: what every action needs', () => {
  it('a healthy cluster: defragment, compact and a leader move may run', () => {
    const obs = observation();
    expect(code(obs, act('defragment'))).toBeNull();
    expect(code(obs, act('compact'))).toBeNull();
    expect(code(obs, act('move-leader', { target: IDS[2] }))).toBeNull();
  });

  it('no observation yet: no_observation, telling to wait for the first poll', () => {
    for (const req of EVERY) {
      expect(gate(null, req)).toEqual({
        code: 'no_observation',
        message: 'the cluster has not been observed yet: wait for the first poll',
      });
      expect(code({ ...observation(), observedAt: null }, req)).toBe('no_observation');
    }
  });

  it('a stale observation: stale_observation, whatever the action', () => {
    for (const req of EVERY) {
      const r = gate(observation(), req, { stale: true });
      expect(r?.code).toBe('stale_observation');
      expect(r?.message).toContain('no fresh view of the cluster');
    }
  });

  it('another maintenance run of the cluster: maintenance_running, naming it', () => {
    for (const req of EVERY) {
      expect(gate(observation(), req, { runningMaintenance: 'defragment by alice (run 01JX3Q)' })).toEqual({
        code: 'maintenance_running',
        message: 'another maintenance run is in progress for this cluster: defragment by alice (run 01JX3Q)',
      });
    }
  });

  it('a snapshot being taken: snapshot_running, naming it; a disarm may still run', () => {
    const runningSnapshot = 'snap-20250602-0930';
    for (const action of ['defragment', 'compact', 'nospace-recovery', 'move-leader'] as const) {
      expect(gate(nospaceOn([1]), request(action), { runningSnapshot })).toEqual({
        code: 'snapshot_running',
        message: 'a snapshot is being taken: snap-20250602-0930; wait for it to finish',
      });
    }
    expect(code(nospaceOn([1]), act('disarm'), { runningSnapshot })).toBeNull();
  });

  it('quorum lost: quorum_lost, whatever the action', () => {
    const obs = observation({ members: [{}, { health: 'unreachable' }, { health: 'unreachable' }], leader: null });
    expect(obs.quorum.state).toBe('lost');
    for (const req of EVERY) {
      expect(gate(obs, req)).toEqual({
        code: 'quorum_lost',
        message: 'the cluster has no quorum: nothing can be changed until it is back',
      });
    }
  });

  it('a member down: cluster_unhealthy, naming the member and why', () => {
    const obs = withMember(2, { health: 'unreachable' });
    expect(obs.quorum.state).toBe('at-risk');
    for (const req of EVERY) {
      expect(gate(obs, req)).toEqual({
        code: 'cluster_unhealthy',
        message: 'not every member is healthy: etcd-2 is unreachable (connect ECONNREFUSED 127.0.0.1:42379)',
      });
    }
  });

  it('a member failing its health read without an error: named without one', () => {
    expect(gate(withMember(1, { health: 'unhealthy', error: null }), act('compact'))?.message).toBe(
      'not every member is healthy: etcd-1 is unhealthy',
    );
  });

  it('a member defragmenting, its health read waiting: refused, naming it as defragmenting', () => {
    const obs = withMember(1, {
      health: 'unhealthy',
      defragmenting: true,
      error: 'busy defragmenting: reads and writes wait until it ends (context deadline exceeded)',
    });
    const r = gate(obs, act('defragment'));
    expect(r).not.toBeNull();
    expect(r?.message).toContain('etcd-1');
    expect(r?.message).toContain('defragmenting');
  });

  it('a member defragmenting that still answers: defragment_in_progress, naming it', () => {
    const obs = withMember(2, { defragmenting: true });
    for (const req of EVERY.filter((r) => r.action !== 'disarm' && r.action !== 'nospace-recovery')) {
      expect(gate(obs, req)).toEqual({
        code: 'defragment_in_progress',
        message: 'etcd-2 is already defragmenting (etcd_disk_defrag_inflight)',
      });
    }
  });

  it('no member says it leads (etcd refuses Status, the leader elected but unnamed): no_leader', () => {
    const obs = observation({ members: [{ status: null }, { status: null }, { status: null }], hasLeader: true });
    expect(obs.quorum.state).toBe('healthy');
    expect(gate(obs, act('defragment'))).toEqual({ code: 'no_leader', message: 'no member reports being the leader' });
  });

  it('a member without Status: status_unavailable, naming it (its size and raft index are unknown)', () => {
    const obs = withMember(2, { status: null });
    expect(obs.members[2]?.health).toBe('healthy');
    for (const req of EVERY.filter((r) => r.action !== 'disarm' && r.action !== 'nospace-recovery')) {
      expect(gate(obs, req)).toEqual({
        code: 'status_unavailable',
        message: 'no Status from etcd-2: sizes and raft indexes are unknown',
      });
    }
  });

  it('a CORRUPT alarm: every action refused, naming the member', () => {
    const obs = observation({
      alarms: [
        { member: 1, alarm: 'NOSPACE' },
        { member: 1, alarm: 'CORRUPT' },
      ],
    });
    for (const action of ['defragment', 'compact', 'disarm', 'nospace-recovery'] as const) {
      expect(gate(obs, act(action))).toEqual({
        code: 'corrupt_alarm',
        message:
          'a CORRUPT alarm is active on etcd-1: its data diverged; replace the member rather than run maintenance on the cluster',
      });
    }
  });
});

describe('refusal: disarm', () => {
  it('no NOSPACE alarm: no_alarm', () => {
    expect(gate(observation(), act('disarm'))).toEqual({ code: 'no_alarm', message: 'no NOSPACE alarm is active' });
  });

  it('the quota unknown: quota_unknown (the alarm could be raised again at once)', () => {
    const r = gate(nospaceOn([1], { quotaBackendBytes: null }), act('disarm'));
    expect(r?.code).toBe('quota_unknown');
    expect(r?.message).toContain('--quota-backend-bytes');
  });

  it('a member still above 95 % of the quota: space_not_reclaimed, naming it and the remedy', () => {
    const quota = 2 * GiB;
    const full = nospaceOn([1], { members: [{}, { status: { dbSize: quota } }, {}], quotaBackendBytes: quota });
    expect(gate(full, act('disarm'))).toEqual({
      code: 'space_not_reclaimed',
      message: 'etcd-1 still above 95 % of the quota: compact and defragment first (run the NOSPACE recovery)',
    });
    // etcd refuses the write that would pass the quota: an alarmed member can sit a value's size below it.
    const justBelow = nospaceOn([1], {
      members: [{}, { status: { dbSize: quota - 64 * 1024 } }, {}],
      quotaBackendBytes: quota,
    });
    expect(code(justBelow, act('disarm'))).toBe('space_not_reclaimed');
    const reclaimed = nospaceOn([1], {
      members: [{}, { status: { dbSize: quota * 0.95 } }, {}],
      quotaBackendBytes: quota,
    });
    expect(code(reclaimed, act('disarm'))).toBeNull();
  });

  it('a member that is not alarmed but full counts too: every member is named', () => {
    const quota = 2 * GiB;
    const obs = nospaceOn([1], {
      members: [{ status: { dbSize: quota + MiB } }, { status: { dbSize: quota } }, {}],
      quotaBackendBytes: quota,
    });
    expect(gate(obs, act('disarm'))?.message).toMatch(/^etcd-0, etcd-1 still above 95 % of the quota/);
  });

  it('the space reclaimed, the NOSPACE alarm on most or every member (the usual case): the disarm may run', () => {
    for (const alarmed of SPREAD_ALARMS) expect(gate(nospaceOnLeading(alarmed), act('disarm'))).toBeNull();
  });
});

describe('refusal: the NOSPACE recovery', () => {
  it('no NOSPACE alarm: no_alarm', () => {
    expect(code(observation(), act('nospace-recovery'))).toBe('no_alarm');
  });

  it('members unhealthy only because of the alarm may be recovered; other actions stay refused', () => {
    const obs = nospaceOn([1]);
    expect(obs.members[1]).toMatchObject({ health: 'unhealthy', error: 'alarm active: NOSPACE' });
    expect(code(obs, act('nospace-recovery'))).toBeNull();
    expect(gate(obs, act('defragment'))).toEqual({
      code: 'cluster_unhealthy',
      message: 'not every member is healthy: etcd-1 is unhealthy (alarm active: NOSPACE)',
    });
  });

  it('another member down for another reason: refused, naming that member and not the alarmed one', () => {
    const obs = nospaceOn([1], { members: [{}, {}, { health: 'unreachable' }, {}, {}] });
    expect(obs.quorum.state).toBe('at-risk');
    expect(gate(obs, act('nospace-recovery'))).toEqual({
      code: 'cluster_unhealthy',
      message: 'not every member is healthy: etcd-2 is unreachable (connect ECONNREFUSED 127.0.0.1:42379)',
    });
  });

  it('the NOSPACE alarm on most or every member (the usual case): the recovery may run', () => {
    const everywhere = nospaceOnLeading([0, 1, 2]);
    expect(everywhere.members.every((m) => m.error === 'alarm active: NOSPACE')).toBe(true);
    for (const alarmed of SPREAD_ALARMS) expect(gate(nospaceOnLeading(alarmed), act('nospace-recovery'))).toBeNull();
  });
});

describe('refusal: NOSPACE as Status reports it on members that did not raise it', () => {
  // etcd puts every active alarm in each member's Status errors: 3.4–3.6 as "memberID:<n> alarm:NOSPACE " (a trailing
  // space), 3.7 with two spaces between; a member with that error alone is unhealthy only because of the alarm.
  for (const text of ['memberID:16705965646633184356 alarm:NOSPACE ', 'memberID:14098537706383001555  alarm:NOSPACE']) {
    it(`"${text}": the recovery may run, a defragment may not`, () => {
      const obs = nospaceOn([0], {
        members: [{}, { health: 'unhealthy', error: text }, { health: 'unhealthy', error: text }],
        leader: { id: IDS[0], name: 'etcd-0' },
      });
      for (const m of obs.members.slice(1)) if (m.status) m.status.errors = [text];
      expect(code(obs, act('nospace-recovery'))).toBeNull();
      expect(code(obs, act('defragment'))).not.toBeNull();
    });
  }
  it('another Status error beside the alarm: refused', () => {
    const obs = nospaceOn([0], {
      members: [{}, { health: 'unhealthy', error: 'etcdserver: no leader' }, {}],
      leader: { id: IDS[0], name: 'etcd-0' },
    });
    if (obs.members[1]?.status) obs.members[1].status.errors = ['etcdserver: no leader'];
    expect(code(obs, act('nospace-recovery'))).toBe('cluster_unhealthy');
  });
});

describe('refusal: move-leader', () => {
  it('no target: bad_request, saying it is required', () => {
    expect(gate(observation(), act('move-leader'))).toEqual({
      code: 'bad_request',
      message: 'target: the member to move the leader to is required',
    });
  });

  it('a target that is not a member: bad_request, naming it', () => {
    expect(gate(observation(), act('move-leader', { target: 'ef37ad9dc622a7c4' }))).toEqual({
      code: 'bad_request',
      message: 'target: "ef37ad9dc622a7c4" is not a member of this cluster',
    });
  });

  it('a learner: target_learner (it cannot lead)', () => {
    const obs = observation({ members: [{}, {}, {}, { isLearner: true }] });
    expect(gate(obs, act('move-leader', { target: memberId(3) }))).toEqual({
      code: 'target_learner',
      message: 'etcd-3 is a learner: it cannot lead',
    });
  });

  it('the leader itself: already_leader', () => {
    expect(gate(observation(), act('move-leader', { target: IDS[0] }))).toEqual({
      code: 'already_leader',
      message: 'etcd-0 is already the leader',
    });
  });

  it(`a member more than ${CAUGHT_UP_ENTRIES} raft entries behind the leader: target_behind, saying by how much`, () => {
    const behind = (entries: number) => withMember(2, { status: { raftAppliedIndex: RAFT_INDEX - entries } });
    expect(gate(behind(CAUGHT_UP_ENTRIES + 1), act('move-leader', { target: IDS[2] }))).toEqual({
      code: 'target_behind',
      message: `etcd-2 is ${CAUGHT_UP_ENTRIES + 1} raft entries behind the leader: wait until it catches up`,
    });
    expect(code(behind(CAUGHT_UP_ENTRIES), act('move-leader', { target: IDS[2] }))).toBeNull();
  });
});

describe('refusal: which members to defragment', () => {
  it('a member id that is not in the cluster: bad_request, naming it', () => {
    expect(gate(observation(), act('defragment', { members: [IDS[0], 'ef37ad9dc622a7c4'] }))).toEqual({
      code: 'bad_request',
      message: 'members: "ef37ad9dc622a7c4" is not a member of this cluster',
    });
  });

  it('an empty list: bad_request', () => {
    expect(code(observation(), act('defragment', { members: [] }))).toBe('bad_request');
  });

  it('members of the cluster, or "all": allowed', () => {
    expect(code(observation(), act('defragment', { members: [IDS[2], IDS[0]] }))).toBeNull();
    expect(code(observation(), act('defragment', { members: 'all' }))).toBeNull();
  });
});

describe('defragmentOrder', () => {
  // etcd-1 leads, a learner etcd-3; the member list in an order of its own.
  const cluster = () => {
    const obs = observation({ members: [{ isLeader: false }, { isLeader: true }, {}, { isLearner: true }] });
    return { ...obs, members: [...obs.members].reverse() };
  };

  it('learners first, then the followers by name, the leader last', () => {
    expect(names(cluster())).toEqual(['etcd-3', 'etcd-0', 'etcd-2', 'etcd-1']);
    expect(names(cluster(), 'all')).toEqual(['etcd-3', 'etcd-0', 'etcd-2', 'etcd-1']);
  });

  it('only the members asked for, in the same order, whatever order they were asked in', () => {
    expect(names(cluster(), [IDS[1], IDS[2], IDS[0]])).toEqual(['etcd-0', 'etcd-2', 'etcd-1']);
    expect(names(cluster(), [IDS[2], memberId(3)])).toEqual(['etcd-3', 'etcd-2']);
    expect(names(cluster(), [IDS[1]])).toEqual(['etcd-1']);
  });
});

describe('buildPlan', () => {
  it('defragment: one step per member, leader last, each with what it should free (dbSize − dbSizeInUse)', () => {
    const obs = observation({
      members: [
        { status: { dbSize: 900 * MiB, dbSizeInUse: 300 * MiB } },
        { status: { dbSize: 800 * MiB, dbSizeInUse: 800 * MiB } },
        { status: { dbSize: GiB, dbSizeInUse: 100 * MiB } },
      ],
    });
    expect(buildPlan(obs, act('defragment'), 5_000, 10_000)).toEqual({
      action: 'defragment',
      clusterId: 'prod-eu1',
      steps: [
        {
          memberId: IDS[1],
          memberName: 'etcd-1',
          step: 'defragment',
          detail: 'a follower',
          expectedReclaimBytes: 0,
        },
        {
          memberId: IDS[2],
          memberName: 'etcd-2',
          step: 'defragment',
          detail: 'a follower',
          expectedReclaimBytes: GiB - 100 * MiB,
        },
        {
          memberId: IDS[0],
          memberName: 'etcd-0',
          step: 'defragment',
          detail: 'the leader, last',
          expectedReclaimBytes: 600 * MiB,
        },
      ],
      warnings: [],
    });
  });

  it('defragment of some members: only those; a learner is called one', () => {
    const obs = observation({ members: [{}, {}, {}, { isLearner: true }] });
    const steps = buildPlan(obs, act('defragment', { members: [IDS[0], memberId(3)] }), 5_000, 10_000).steps;
    expect(steps.map((s) => [s.memberName, s.detail])).toEqual([
      ['etcd-3', 'a learner'],
      ['etcd-0', 'the leader, last'],
    ]);
  });

  it('defragment of a single-member cluster: warns that it answers nothing meanwhile', () => {
    const plan = buildPlan(observation({ members: [{}] }), act('defragment'), 5_000, 10_000);
    expect(plan.steps).toHaveLength(1);
    expect(plan.warnings).toEqual(['a single-member cluster answers nothing while it defragments']);
  });

  it('compact: one cluster-wide step to the target revision; warns about watchers and the space not returned', () => {
    const plan = buildPlan(observation(), act('compact', { keepRevisions: 1_000 }), 25_000, 10_000);
    expect(plan.steps).toEqual([{ memberId: null, memberName: null, step: 'compact', detail: 'to revision 24000' }]);
    expect(plan.warnings).toEqual([
      'watchers and reads of revisions older than 24000 fail with "required revision has been compacted"; clients re-list and watch again',
      'the freed space is returned to the disk only by a defragment',
    ]);
  });

  it('compact with the current revision unknown: says so rather than inventing a number', () => {
    const plan = buildPlan(observation(), act('compact'), null, 10_000);
    expect(plan.steps[0]?.detail).toBe('to revision ?');
    expect(plan.warnings[0]).toContain('older than the target');
  });

  it('NOSPACE recovery: compact to now, defragment every member (leader last), disarm each alarm, check a write', () => {
    const obs = nospaceOn([2, 1], { members: [{}, {}, {}, { isLearner: true }] });
    const plan = buildPlan(obs, act('nospace-recovery'), 31_337, 10_000);
    expect(plan.steps.map((s) => [s.step, s.memberName, s.detail])).toEqual([
      ['compact', null, 'to the current revision 31337: keeps only the newest value of each key'],
      ['defragment', 'etcd-3', 'a learner'],
      ['defragment', 'etcd-1', 'a follower'],
      ['defragment', 'etcd-2', 'a follower'],
      ['defragment', 'etcd-0', 'the leader, last'],
      ['disarm', 'etcd-2', 'NOSPACE'],
      ['disarm', 'etcd-1', 'NOSPACE'],
      ['write-check', null, 'a write succeeds again'],
    ]);
    expect(plan.steps.filter((s) => s.step === 'disarm').map((s) => s.memberId)).toEqual([IDS[2], IDS[1]]);
    expect(plan.warnings).toEqual(['compacting to the current revision drops every older revision: watchers re-list']);
  });

  it('NOSPACE recovery: only NOSPACE alarms are disarmed', () => {
    const obs = observation({
      alarms: [
        { member: 0, alarm: 'NOSPACE' },
        { member: 1, alarm: 'CORRUPT' },
      ],
    });
    const disarms = buildPlan(obs, act('nospace-recovery'), 100, 10_000).steps.filter((s) => s.step === 'disarm');
    expect(disarms.map((s) => s.memberName)).toEqual(['etcd-0']);
  });

  it('disarm: each NOSPACE alarm, then a write check', () => {
    const plan = buildPlan(nospaceOn([0, 2]), act('disarm'), 100, 10_000);
    expect(plan).toEqual({
      action: 'disarm',
      clusterId: 'prod-eu1',
      steps: [
        { memberId: IDS[0], memberName: 'etcd-0', step: 'disarm', detail: 'NOSPACE' },
        { memberId: IDS[2], memberName: 'etcd-2', step: 'disarm', detail: 'NOSPACE' },
        { memberId: null, memberName: null, step: 'write-check', detail: 'a write succeeds again' },
      ],
      warnings: [],
    });
  });

  it('move-leader: one step naming the leader it moves from and the member it moves to', () => {
    expect(buildPlan(observation(), act('move-leader', { target: IDS[2] }), 100, 10_000)).toEqual({
      action: 'move-leader',
      clusterId: 'prod-eu1',
      steps: [{ memberId: IDS[2], memberName: 'etcd-2', step: 'move-leader', detail: 'from etcd-0 to etcd-2' }],
      warnings: [],
    });
  });
});

describe('compactTarget', () => {
  it('the revision asked for, as asked', () => {
    expect(compactTarget(act('compact', { revision: 1_234 }), 50_000, 10_000)).toBe(1_234);
    expect(compactTarget(act('compact', { revision: 1_234 }), null, 10_000)).toBe(1_234);
  });

  it('otherwise the current revision less the revisions kept: the request’s, else the configured default', () => {
    expect(compactTarget(act('compact'), 50_000, 10_000)).toBe(40_000);
    expect(compactTarget(act('compact', { keepRevisions: 500 }), 50_000, 10_000)).toBe(49_500);
    expect(compactTarget(act('compact', { keepRevisions: 0 }), 50_000, 10_000)).toBe(50_000);
  });

  it('never below revision 1, and unknown while the current revision is', () => {
    expect(compactTarget(act('compact'), 3_000, 10_000)).toBe(1);
    expect(compactTarget(act('compact'), null, 10_000)).toBeNull();
  });
});
