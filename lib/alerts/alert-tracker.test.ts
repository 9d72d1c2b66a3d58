import { describe, expect, it } from 'vitest';
import { AlertTracker, findingKey, type TrackedAlert } from './alert-tracker';
import type { RuleName } from '@/lib/cluster/thresholds';
import { RULES, type Finding } from './rules';

const T0 = Date.parse('2025-06-02T09:30:00.000Z');
const SEC = 1_000;
const ETCD_1 = '91bc3c398fb3c146';
const ETCD_2 = 'fd422379fda50e48';

/** `for` durations as the alert service derives them: the rule's default, in ms. */
const forMs = (rule: RuleName) => RULES[rule].forSeconds * SEC;
const tracker = (clusterId = 'prod-eu1') => new AlertTracker(clusterId, forMs);

/** The only element: fails the test unless there is exactly one. */
function one<T>(xs: readonly T[]): T {
  expect(xs).toHaveLength(1);
  return xs[0]!;
}

/** A finding about etcd-1 or etcd-2, named as the rules name it. */
const onMember = (memberId: string, f: Omit<Finding, 'memberId' | 'memberName'>): Finding => ({
  ...f,
  memberId,
  memberName: memberId === ETCD_1 ? 'etcd-1' : 'etcd-2',
});
const walSlow = (severity: 'warning' | 'critical' = 'warning', ms = 38.2, memberId = ETCD_1): Finding =>
  onMember(memberId, {
    rule: 'wal_fsync_slow', // for: 60 s
    severity,
    summary: `${memberId === ETCD_1 ? 'etcd-1' : 'etcd-2'}: WAL fsync p99 ${ms.toFixed(1)} ms (etcd advises < 10 ms)`,
  });
const memberDown = onMember(ETCD_2, {
  rule: 'member_down', // for: 10 s
  severity: 'warning',
  summary: 'etcd-2 is unreachable: connect ECONNREFUSED 127.0.0.1:42379',
});
const nospace = onMember(ETCD_1, {
  rule: 'alarm_active', // for: 0
  severity: 'critical',
  instance: 'NOSPACE',
  summary: 'NOSPACE alarm on etcd-1',
});
const dataStale: Finding = {
  rule: 'data_stale', // for: 0
  severity: 'critical',
  memberId: null,
  memberName: null,
  summary: 'no fresh data from the cluster (none since 2025-06-02T09:29:00.000Z)',
};

/** Brings a finding to firing: pending at `at`, firing once its `for` has held. */
function fire(t: AlertTracker, f: Finding, at = T0): TrackedAlert {
  t.update([f], at);
  const transition = one(t.update([f], at + forMs(f.rule)));
  expect(transition.to).toBe('firing');
  return transition.alert;
}

describe('findingKey', () => {
  it('is rule, severity, member and instance', () => {
    expect(findingKey(nospace)).toBe(`alarm_active|critical|${ETCD_1}|NOSPACE`);
    expect(findingKey(dataStale)).toBe('data_stale|critical||');
  });
});

describe('AlertTracker', () => {
  it('keeps a finding pending until its `for` has held, then makes exactly one firing transition', () => {
    const t = tracker();
    expect(RULES.wal_fsync_slow.forSeconds).toBe(60);

    expect(t.update([walSlow()], T0)).toEqual([]);
    expect(t.current()).toMatchObject([
      { rule: 'wal_fsync_slow', state: 'pending', pendingSince: T0, firingSince: null },
    ]);

    expect(t.update([walSlow()], T0 + 30 * SEC)).toEqual([]);
    expect(t.update([walSlow()], T0 + 60 * SEC - 1)).toEqual([]);
    expect(one(t.current()).state).toBe('pending');

    const transitions = t.update([walSlow()], T0 + 60 * SEC);
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({
      to: 'firing',
      at: T0 + 60 * SEC,
      alert: {
        rule: 'wal_fsync_slow',
        severity: 'warning',
        memberId: ETCD_1,
        memberName: 'etcd-1',
        state: 'firing',
        pendingSince: T0,
        firingSince: T0 + 60 * SEC,
      },
    });

    // Still there: no second firing.
    expect(t.update([walSlow()], T0 + 65 * SEC)).toEqual([]);
    expect(t.update([walSlow()], T0 + 10 * 60 * SEC)).toEqual([]);
    expect(t.current()).toHaveLength(1);
    expect(one(t.current())).toMatchObject({ state: 'firing', firingSince: T0 + 60 * SEC });
  });

  it('a rule with no `for` fires on the first evaluation that finds it', () => {
    const t = tracker();
    const transitions = t.update([nospace], T0);
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ to: 'firing', at: T0, alert: { pendingSince: T0, firingSince: T0 } });
  });

  it('uses the `for` the caller configures per rule', () => {
    const t = new AlertTracker('prod-eu1', (rule) => (rule === 'member_down' ? 30 * SEC : forMs(rule)));
    t.update([memberDown], T0);
    expect(t.update([memberDown], T0 + 10 * SEC)).toEqual([]);
    expect(t.update([memberDown], T0 + 30 * SEC)).toHaveLength(1);
  });

  it('a firing alert whose finding disappears makes one resolved transition', () => {
    const t = tracker();
    const fired = fire(t, walSlow());

    const transitions = t.update([], T0 + 2 * 60 * SEC);
    expect(transitions).toEqual([{ alert: { ...fired }, to: 'resolved', at: T0 + 2 * 60 * SEC }]);
    expect(t.current()).toEqual([]);
    expect(t.update([], T0 + 3 * 60 * SEC)).toEqual([]);
  });

  it('a pending alert that disappears resolves silently; if it returns, its `for` starts over', () => {
    const t = tracker();
    t.update([walSlow()], T0);
    const firstId = one(t.current()).id;

    expect(t.update([], T0 + 50 * SEC)).toEqual([]);
    expect(t.current()).toEqual([]);

    expect(t.update([walSlow()], T0 + 70 * SEC)).toEqual([]);
    expect(one(t.current())).toMatchObject({ state: 'pending', pendingSince: T0 + 70 * SEC });
    expect(one(t.current()).id).not.toBe(firstId);
    expect(t.update([walSlow()], T0 + 129 * SEC)).toEqual([]);
    expect(t.update([walSlow()], T0 + 130 * SEC)).toHaveLength(1);
  });

  it('only the finding that went away resolves; the others carry on', () => {
    const t = tracker();
    fire(t, walSlow());
    t.update([walSlow(), memberDown], T0 + 61 * SEC);
    expect(t.update([walSlow(), memberDown], T0 + 71 * SEC).map((x) => [x.to, x.alert.rule])).toEqual([
      ['firing', 'member_down'],
    ]);

    const transitions = t.update([memberDown], T0 + 80 * SEC);
    expect(transitions.map((x) => [x.to, x.alert.rule])).toEqual([['resolved', 'wal_fsync_slow']]);
    expect(t.current().map((a) => [a.rule, a.state])).toEqual([['member_down', 'firing']]);
  });

  describe('frozen (the data is stale)', () => {
    it('keeps firing and pending alerts instead of resolving them, and fires data_stale', () => {
      const t = tracker();
      const fired = fire(t, walSlow());
      t.update([walSlow(), memberDown], T0 + 61 * SEC); // member_down pending

      const transitions = t.update([dataStale], T0 + 65 * SEC, true);
      expect(transitions.map((x) => [x.to, x.alert.rule])).toEqual([['firing', 'data_stale']]);
      expect(t.current().map((a) => [a.rule, a.state])).toEqual([
        ['wal_fsync_slow', 'firing'],
        ['member_down', 'pending'],
        ['data_stale', 'firing'],
      ]);
      expect(t.current()[0]).toEqual(fired);

      // However long it stays blind: nothing resolves, and the unseen pending alert does not fire either.
      expect(t.update([dataStale], T0 + 30 * 60 * SEC, true)).toEqual([]);
      expect(t.current().map((a) => a.state)).toEqual(['firing', 'pending', 'firing']);
    });

    it('still lets new findings go pending, and fire once their `for` has held', () => {
      const t = tracker();
      fire(t, walSlow());
      expect(t.update([dataStale, memberDown], T0 + 70 * SEC, true).map((x) => x.alert.rule)).toEqual(['data_stale']);
      expect(t.current().find((a) => a.rule === 'member_down')).toMatchObject({
        state: 'pending',
        pendingSince: T0 + 70 * SEC,
      });
      expect(t.update([dataStale, memberDown], T0 + 80 * SEC, true).map((x) => [x.to, x.alert.rule])).toEqual([
        ['firing', 'member_down'],
      ]);
    });

    it('once fresh data returns, what is no longer found resolves (data_stale included)', () => {
      const t = tracker();
      fire(t, walSlow());
      t.update([dataStale], T0 + 70 * SEC, true);

      const transitions = t.update([], T0 + 90 * SEC, false);
      expect(transitions.map((x) => [x.to, x.alert.rule]).sort()).toEqual([
        ['resolved', 'data_stale'],
        ['resolved', 'wal_fsync_slow'],
      ]);
      expect(t.current()).toEqual([]);
    });
  });

  describe('restore', () => {
    const stored = (): TrackedAlert => ({
      id: `prod-eu1:${findingKey(memberDown)}:${T0 - 3_600_000}`,
      key: findingKey(memberDown),
      rule: 'member_down',
      severity: 'warning',
      memberId: ETCD_2,
      memberName: 'etcd-2',
      summary: 'etcd-2 is unreachable: connect ECONNREFUSED 127.0.0.1:42379',
      state: 'firing',
      pendingSince: T0 - 3_600_000,
      firingSince: T0 - 3_600_000 + 10 * SEC,
    });

    it('a restored firing alert resolves, under its stored id, when its finding is absent', () => {
      const t = tracker();
      const a = stored();
      t.restore(a);
      expect(t.current()).toEqual([a]);

      const transitions = t.update([], T0);
      expect(transitions).toHaveLength(1);
      expect(transitions[0]).toMatchObject({ to: 'resolved', at: T0, alert: { id: a.id, rule: 'member_down' } });
      expect(t.current()).toEqual([]);
    });

    it('a restored firing alert whose finding is still there carries on, without firing again', () => {
      const t = tracker();
      const a = stored();
      t.restore(a);
      const later = { ...memberDown, summary: 'etcd-2 is unreachable: no answer before the deadline' };
      expect(t.update([later], T0)).toEqual([]);
      expect(t.current()).toEqual([{ ...a, summary: later.summary }]);
    });

    it('a restored alert is kept while frozen', () => {
      const t = tracker();
      t.restore(stored());
      expect(t.update([dataStale], T0, true).map((x) => [x.to, x.alert.rule])).toEqual([['firing', 'data_stale']]);
      expect(t.current().map((a) => a.rule)).toEqual(['member_down', 'data_stale']);
    });
  });

  it('a severity change is a distinct alert with its own id and its own `for`', () => {
    const t = tracker();
    const warning = fire(t, walSlow('warning', 38.2));

    t.update([walSlow('critical', 612.4)], T0 + 2 * 60 * SEC);
    const critical = t.current().find((a) => a.severity === 'critical');
    expect(critical).toMatchObject({ state: 'pending', pendingSince: T0 + 2 * 60 * SEC });
    expect(critical?.key).not.toBe(warning.key);
    expect(critical?.id).not.toBe(warning.id);

    const transitions = t.update([walSlow('critical', 640)], T0 + 3 * 60 * SEC);
    // The warning fired until now and resolves in the same breath as the critical one fires.
    expect(transitions.map((x) => [x.to, x.alert.severity, x.alert.id])).toEqual([
      ['firing', 'critical', critical?.id],
      ['resolved', 'warning', warning.id],
    ]);
  });

  it('one rule on two members is two alerts', () => {
    const t = tracker();
    t.update([walSlow('warning', 20, ETCD_1), walSlow('warning', 30, ETCD_2)], T0);
    expect(t.current().map((a) => a.memberName)).toEqual(['etcd-1', 'etcd-2']);
    expect(new Set(t.current().map((a) => a.id)).size).toBe(2);
  });

  it('ids are stable across updates, name the cluster, and differ between clusters', () => {
    const t = tracker();
    t.update([walSlow('warning', 20)], T0);
    const id = one(t.current()).id;
    expect(id).toContain('prod-eu1');

    t.update([walSlow('warning', 25)], T0 + 30 * SEC);
    expect(one(t.current()).id).toBe(id);
    const firing = one(t.update([walSlow('warning', 30)], T0 + 60 * SEC));
    expect(firing.alert.id).toBe(id);
    t.update([walSlow('warning', 44)], T0 + 5 * 60 * SEC);
    expect(one(t.current()).id).toBe(id);
    const resolved = one(t.update([], T0 + 6 * 60 * SEC));
    expect(resolved.alert.id).toBe(id);

    const other = tracker('prod-us1');
    other.update([walSlow('warning', 20)], T0);
    expect(one(other.current()).id).not.toBe(id);
  });

  it('keeps the newest summary; a transition is a snapshot that later updates do not change', () => {
    const t = tracker();
    t.update([walSlow('warning', 20)], T0);
    const firing = one(t.update([walSlow('warning', 30)], T0 + 60 * SEC));
    expect(firing.alert.summary).toContain('30.0 ms');

    t.update([walSlow('warning', 48.5)], T0 + 90 * SEC);
    expect(one(t.current()).summary).toContain('48.5 ms');
    expect(firing.alert.summary).toContain('30.0 ms');
    expect(firing.alert.state).toBe('firing');

    const resolved = one(t.update([], T0 + 120 * SEC));
    expect(resolved.alert.summary).toContain('48.5 ms');
  });
});

describe('a finding that changes severity', () => {
  it('keeps the firing alert of the old severity until the new one fires, then resolves it', () => {
    const tracker = new AlertTracker('c1', () => 60_000);
    const f = (severity: 'warning' | 'critical') => ({
      rule: 'wal_fsync_slow' as const,
      severity,
      memberId: 'm1',
      memberName: 'etcd-1',
      summary: `fsync ${severity}`,
    });
    expect(tracker.update([f('warning')], 0)).toEqual([]);
    expect(tracker.update([f('warning')], 60_000).map((t) => [t.alert.severity, t.to])).toEqual([
      ['warning', 'firing'],
    ]);
    // Worse: the critical alert waits its minute while the warning keeps firing.
    expect(tracker.update([f('critical')], 70_000)).toEqual([]);
    expect(tracker.current().map((a) => [a.severity, a.state])).toEqual([
      ['warning', 'firing'],
      ['critical', 'pending'],
    ]);
    expect(tracker.update([f('critical')], 130_000).map((t) => [t.alert.severity, t.to])).toEqual([
      ['critical', 'firing'],
      ['warning', 'resolved'],
    ]);
    expect(tracker.current().map((a) => [a.severity, a.state])).toEqual([['critical', 'firing']]);
  });
});

describe('an alert whose input is not known yet', () => {
  it('is kept, neither resolved nor re-fired, until the input is known again', () => {
    const tracker = new AlertTracker('c1', () => 0);
    const plain = {
      rule: 'secrets_plaintext' as const,
      severity: 'warning' as const,
      memberId: null,
      memberName: null,
      summary: '2 of 5 Secrets are stored unencrypted in etcd',
    };
    const [fired] = tracker.update([plain], 0);
    expect(fired?.to).toBe('firing');
    // The census has not run since a restart: no finding, but the rule's input is unknown.
    expect(tracker.update([], 1000, false, (a) => a.rule === 'secrets_plaintext')).toEqual([]);
    expect(tracker.current().map((a) => [a.id, a.state])).toEqual([[fired!.alert.id, 'firing']]);
    // Known again and clear: now it resolves.
    expect(tracker.update([], 2000, false, () => false).map((t) => t.to)).toEqual(['resolved']);
  });
});
