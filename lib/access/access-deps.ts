// What the access checks work with: the auth settings and stores, handed over by the composition root (lib/app).
import 'server-only';
import type { AuditLog } from '@/lib/auth/audit-log';
import type { LoginLimiter } from '@/lib/auth/login-limiter';
import type { SessionStore } from '@/lib/auth/session-store';
import type { TokenStore } from '@/lib/auth/token-store';
import type { UserStore } from '@/lib/auth/user-store';
import type { AuthConfig } from '@/lib/config/load-config';

export interface AccessDeps {
  settings: Pick<AuthConfig, 'anonymous' | 'proxy' | 'sessionTtlMs' | 'trustedProxies'>;
  users: UserStore;
  sessions: SessionStore;
  tokens: TokenStore;
  audit: AuditLog;
  limiter: LoginLimiter;
}
