import { describe, expect, it } from 'vitest';
import { isRole, roleAtLeast, ROLES, type Role } from './roles';

describe('roles', () => {
  it('orders viewer < operator < admin', () => {
    expect(ROLES).toEqual(['viewer', 'operator', 'admin']);
    const grants = (have: Role) => ROLES.filter((need) => roleAtLeast(have, need));
    expect(grants('viewer')).toEqual(['viewer']);
    expect(grants('operator')).toEqual(['viewer', 'operator']);
    expect(grants('admin')).toEqual(['viewer', 'operator', 'admin']);
  });

  it('never grants for a value that is not a role', () => {
    expect(roleAtLeast('root' as Role, 'viewer')).toBe(false);
    expect(roleAtLeast('admin', 'root' as Role)).toBe(false);
  });

  it('recognises exactly the three roles', () => {
    for (const r of ROLES) expect(isRole(r)).toBe(true);
    for (const v of ['Admin', 'root', '', null, undefined, 1, ['admin']]) expect(isRole(v)).toBe(false);
  });
});
