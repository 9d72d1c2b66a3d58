// The dashboard's roles and their order; shared with the browser, so it imports nothing server-side.

/** Lowest to highest: each role can do everything the ones before it can. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;

export type Role = (typeof ROLES)[number];

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

/** Whether `have` grants what `need` requires; false for anything that is not a role, so a bad value never grants. */
export function roleAtLeast(have: Role, need: Role): boolean {
  if (!isRole(have) || !isRole(need)) return false;
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}
