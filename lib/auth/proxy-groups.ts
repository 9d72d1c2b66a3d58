// Which role a trusted proxy's groups header gives: the highest role the configured map gives any of the groups.
import 'server-only';
import { isRole, roleAtLeast, type Role } from './roles';

function highestRole(roles: Role[]): Role | null {
  let best: Role | null = null;
  for (const r of roles) if (best === null || roleAtLeast(r, best)) best = r;
  return best;
}

/** `header` lists groups separated by commas or spaces, as oauth2-proxy sends them; null when none maps to a role. */
export function roleOfProxyGroups(header: string | null, groupRoles: Record<string, Role>): Role | null {
  const groups = (header ?? '')
    .split(/[,\s]+/)
    .map((g) => g.trim())
    .filter(Boolean);
  // Own keys only: "constructor" or "__proto__" would otherwise find what every object inherits.
  return highestRole(groups.map((g) => (Object.hasOwn(groupRoles, g) ? groupRoles[g] : undefined)).filter(isRole));
}
