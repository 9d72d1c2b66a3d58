import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULE_NAMES } from '@/lib/cluster/thresholds';
import { alertName, instanceOf, runbookUrl } from './alert-names';

describe('alert names', () => {
  it('are etcd-style camelCase with the dashboard prefix, one per rule, all different', () => {
    expect(alertName('member_down')).toBe('etcdDashboardMemberDown');
    expect(alertName('no_leader')).toBe('etcdDashboardNoLeader');
    expect(alertName('db_quota')).toBe('etcdDashboardDbQuota');
    const names = RULE_NAMES.map(alertName);
    expect(new Set(names).size).toBe(RULE_NAMES.length);
    for (const n of names) expect(n).toMatch(/^etcdDashboard[A-Z][A-Za-z0-9]*$/);
  });
});

describe('instanceOf: the member as Prometheus names a target', () => {
  it('is host:port of the client URL', () => {
    expect(instanceOf('https://10.0.0.5:2379')).toBe('10.0.0.5:2379');
    expect(instanceOf('https://etcd-0.etcd.kube-system.svc:2379/')).toBe('etcd-0.etcd.kube-system.svc:2379');
    expect(instanceOf('https://[fd00::5]:2379')).toBe('[fd00::5]:2379');
  });
  it('fills in the scheme’s port and refuses what is no URL', () => {
    expect(instanceOf('https://etcd.example')).toBe('etcd.example:443');
    expect(instanceOf('http://etcd.example')).toBe('etcd.example:80');
    expect(instanceOf('not a url')).toBeNull();
    expect(instanceOf(null)).toBeNull();
  });
});

describe('runbookUrl', () => {
  it('points at the rule on the dashboard’s runbook page, when the dashboard’s URL is known', () => {
    expect(runbookUrl('https://etcd-dash.example/', 'member_down')).toBe(
      'https://etcd-dash.example/runbooks#etcdDashboardMemberDown',
    );
    expect(runbookUrl(null, 'member_down')).toBeNull();
    expect(runbookUrl('javascript:alert(1)', 'member_down')).toBeNull();
  });
});

describe('docs/prometheus-alertmanager.md', () => {
  it('lists every rule under the name it is sent with', () => {
    const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'prometheus-alertmanager.md'), 'utf8');
    const rows = new Map(
      [...doc.matchAll(/^\| `([a-z_]+)` +\| `(etcdDashboard[A-Za-z]+)` +\|$/gm)].map((m) => [m[1], m[2]] as const),
    );
    expect([...rows.keys()].sort()).toEqual([...RULE_NAMES].sort());
    for (const rule of RULE_NAMES) expect(rows.get(rule), rule).toBe(alertName(rule));
  });
});
