import { describe, expect, it } from 'vitest';
import { etcdAdvisory } from './etcd-advisories';
import { parseEtcdVersion } from './etcd-version';

describe('etcdAdvisory', () => {
  it.each([
    ['3.5.0', 'critical', /inconsistency/],
    ['3.5.2', 'critical', /inconsistency/],
    ['3.5.3', 'warning', /3\.5\.6 or later/],
    ['3.5.5', 'warning', /3\.5\.6 or later/],
    ['3.5.6', 'info', /3\.5\.20 or later before upgrading to 3\.6/],
    ['3.5.19', 'info', /3\.5\.20/],
    ['3.4.21', 'warning', /end of life .*below 3\.4\.22/],
    ['3.4.23', 'warning', /end of life/],
    ['3.3.27', 'critical', /end of life/],
  ] as const)('etcd %s: %s', (version, severity, reason) => {
    const a = etcdAdvisory(version);
    expect(a?.severity).toBe(severity);
    expect(a?.reason).toMatch(reason);
    expect(a?.reason).toContain(version);
  });

  it.each(['3.5.20', '3.5.30', '3.6.0', '3.6.14', '3.7.1', 'not a version', ''])('nothing against %s', (version) => {
    expect(etcdAdvisory(version)).toBeNull();
  });

  it('reads the versions Status reports, with or without a leading v', () => {
    expect(parseEtcdVersion('v3.6.14')).toEqual({ major: 3, minor: 6, patch: 14, text: '3.6.14' });
    expect(parseEtcdVersion('3.5.30')).toEqual({ major: 3, minor: 5, patch: 30, text: '3.5.30' });
    expect(parseEtcdVersion('3.6')).toBeNull();
  });
});
