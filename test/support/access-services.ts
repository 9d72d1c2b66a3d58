// The part of the dashboard's services that route handlers' access checks use, over a real database: what a unit
// test of a route hands to a mocked `dashboard()` (lib/app/dashboard.ts) in place of the whole composition root.
import type Database from 'better-sqlite3';
import { AccessControl } from '@/lib/access/access-control';
import { parseTrustedProxies } from '@/lib/auth/address';
import { AuditLog } from '@/lib/auth/audit-log';
import { sqliteStore } from '@/lib/db/sqlite-store';
import { LoginLimiter } from '@/lib/auth/login-limiter';
import { SessionStore } from '@/lib/auth/session-store';
import { TokenStore } from '@/lib/auth/token-store';
import { UserStore } from '@/lib/auth/user-store';
import type { AuthConfig } from '@/lib/config/load-config';

export interface AccessServices {
  auth: { users: UserStore; sessions: SessionStore; tokens: TokenStore; audit: AuditLog; limiter: LoginLimiter };
  access: AccessControl;
}

export function accessServices(
  db: Database.Database,
  settings: Partial<Pick<AuthConfig, 'anonymous' | 'proxy' | 'sessionTtlMs' | 'trustedProxies'>> = {},
): AccessServices {
  const store = sqliteStore(db);
  const auth = {
    users: new UserStore(store),
    sessions: new SessionStore(store),
    tokens: new TokenStore(store),
    audit: new AuditLog(store),
    limiter: new LoginLimiter(store),
  };
  const access = new AccessControl({
    settings: {
      anonymous: 'off',
      proxy: null,
      sessionTtlMs: 3_600_000,
      trustedProxies: parseTrustedProxies(''),
      ...settings,
    },
    ...auth,
  });
  return { auth, access };
}
