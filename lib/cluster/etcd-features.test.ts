import { describe, expect, it } from 'vitest';
import { featureAccess, mayRead, prefixRangeEnd, type EtcdAccess, type EtcdFeature } from './etcd-features';

const reader: EtcdAccess = {
  authEnabled: true,
  user: 'etcd-dashboard',
  userExists: true,
  roles: ['reader'],
  isRoot: false,
  permissions: [{ key: 'health', rangeEnd: '', read: true, write: false }],
};

function allowed(access: EtcdAccess, version: string | null): Record<EtcdFeature, boolean | null> {
  return Object.fromEntries(featureAccess(access, version).map((f) => [f.feature, f.allowed])) as Record<
    EtcdFeature,
    boolean | null
  >;
}

describe('featureAccess: what a non-root etcd user may do, release by release', () => {
  it.each([
    // release, Status, MemberList, AlarmList, MoveLeader, alarm disarm
    ['3.4.23', true, true, true, true, true],
    ['3.5.27', true, true, true, true, true],
    ['3.5.28', false, false, false, false, false],
    ['3.5.30', false, true, true, false, false],
    ['3.6.0', false, true, true, false, true],
    ['3.6.9', false, false, false, false, false],
    ['3.6.10', false, true, true, false, false],
    ['3.6.12', true, true, true, false, false],
    ['3.7.1', true, true, true, false, false],
  ])('etcd %s', (version, status, memberList, alarmList, moveLeader, disarm) => {
    const a = allowed(reader, version);
    expect(a).toMatchObject({
      status,
      'member-list': memberList,
      'alarm-list': alarmList,
      'move-leader': moveLeader,
      'alarm-disarm': disarm,
    });
    // Snapshots, defragmentation and hashes want the root role on every release; a refused health read is healthy.
    expect(a).toMatchObject({ snapshot: false, defragment: false, 'hash-kv': false, health: true });
  });

  it('says who lacks what, so the SRE knows which role to grant', () => {
    const snapshot = featureAccess(reader, '3.6.14').find((f) => f.feature === 'snapshot');
    expect(snapshot?.reason).toBe(
      'etcd 3.6.14 requires the root role for Maintenance.Snapshot; etcd user "etcd-dashboard" (roles reader) lacks it',
    );
  });

  it('auth off, or root: everything; auth state unknown: nothing claimed', () => {
    expect(Object.values(allowed({ ...reader, authEnabled: false }, '3.6.14')).every((v) => v === true)).toBe(true);
    expect(Object.values(allowed({ ...reader, isRoot: true, roles: ['root'] }, '3.5.30')).every((v) => v)).toBe(true);
    expect(Object.values(allowed({ ...reader, authEnabled: null }, '3.4.23')).every((v) => v === null)).toBe(true);
  });

  it('a certificate name that is no etcd user: told the command that adds it', () => {
    const stranger = { ...reader, user: 'kube-etcd-healthcheck-client', userExists: false, roles: [], permissions: [] };
    const features = featureAccess(stranger, '3.7.1');
    expect(features.find((f) => f.feature === 'status')?.allowed).toBe(true);
    expect(features.find((f) => f.feature === 'snapshot')?.reason).toContain(
      'etcdctl user add kube-etcd-healthcheck-client --no-password',
    );
  });

  it('the Secrets census needs read on the whole /registry/secrets/ prefix', () => {
    const census = (permissions: EtcdAccess['permissions']) =>
      allowed({ ...reader, permissions }, '3.6.14')['secrets-census'];
    expect(census(reader.permissions)).toBe(false);
    expect(census([{ key: '/registry/secrets/', rangeEnd: '/registry/secrets0', read: true, write: false }])).toBe(
      true,
    );
    expect(census([{ key: '/registry/', rangeEnd: '/registry0', read: true, write: false }])).toBe(true);
    expect(census([{ key: '/', rangeEnd: '\0', read: true, write: false }])).toBe(true);
    // One namespace's Secrets, or write-only, is not enough.
    expect(census([{ key: '/registry/secrets/a/', rangeEnd: '/registry/secrets/a0', read: true, write: false }])).toBe(
      false,
    );
    expect(census([{ key: '/registry/secrets/', rangeEnd: '/registry/secrets0', read: false, write: true }])).toBe(
      false,
    );
  });
});

describe('key ranges', () => {
  it('prefixRangeEnd is what etcdctl --prefix sends', () => {
    expect(prefixRangeEnd('/registry/secrets/')).toBe('/registry/secrets0');
    expect(prefixRangeEnd('a')).toBe('b');
  });

  it('mayRead: a single-key grant covers that key only', () => {
    expect(mayRead(reader, 'health')).toBe(true);
    expect(mayRead(reader, 'healthz')).toBe(false);
    expect(mayRead(reader, 'health', 'healti')).toBe(false);
  });
});
