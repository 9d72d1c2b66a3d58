import { describe, expect, it } from 'vitest';
import { roleOfProxyGroups } from './proxy-groups';
import type { Role } from './roles';

// As the README's example config maps them.
const GROUP_ROLES: Record<string, Role> = { sre: 'operator', 'platform-admins': 'admin', developers: 'viewer' };

describe("roleOfProxyGroups: the role a trusted proxy's groups header gives", () => {
  it('gives the highest mapped role, from groups separated by commas or spaces', () => {
    expect(roleOfProxyGroups('developers', GROUP_ROLES)).toBe('viewer');
    expect(roleOfProxyGroups('developers,sre', GROUP_ROLES)).toBe('operator');
    expect(roleOfProxyGroups(' sre  platform-admins, developers ', GROUP_ROLES)).toBe('admin');
  });

  it('gives none without a mapped group', () => {
    expect(roleOfProxyGroups(null, GROUP_ROLES)).toBeNull();
    expect(roleOfProxyGroups('', GROUP_ROLES)).toBeNull();
    expect(roleOfProxyGroups('marketing, SRE', GROUP_ROLES)).toBeNull();
  });

  // The security review: these acted as roles (a 403 quoting "function Object()…", 500s with no audit row).
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'])(
    'a group named %s is not in the map, so gives no role',
    (group) => {
      expect(roleOfProxyGroups(group, GROUP_ROLES)).toBeNull();
      expect(roleOfProxyGroups(`developers,${group}`, GROUP_ROLES)).toBe('viewer');
      expect(roleOfProxyGroups(`${group} sre`, GROUP_ROLES)).toBe('operator');
    },
  );
});
