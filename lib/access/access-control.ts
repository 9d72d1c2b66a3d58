// The access checks bound to the dashboard's auth stores: what a route handler or page calls to learn who asks and
// whether they may, and to audit what they did. Built once by the composition root (lib/app).
import 'server-only';
import type { AuditOutcome } from '@/lib/auth/audit-log';
import type { Role } from '@/lib/auth/roles';
import type { AccessDeps } from './access-deps';
import { audited, auditAction } from './audit-action';
import { requireRole, requireRoleIn, type GuardOptions } from './guard';
import { resolveIdentity, type Identity, type IdentityResult } from './identity';
import { requirePageIdentity } from './page-identity';
import type { RequestContext } from './request-context';
import { signIn, signOut, type SignedIn } from './sessions';

type Target = { clusterId?: string | null; memberId?: string | null };

export class AccessControl {
  constructor(readonly deps: AccessDeps) {}

  /** Who asks, if they have at least `need`; throws 401/403 (audited as guard.ts says). */
  requireRole(req: Request, need: Role, opts: GuardOptions = {}): Promise<Identity> {
    return requireRole(this.deps, req, need, opts);
  }

  requireRoleIn(ctx: RequestContext, describe: () => string, need: Role, opts: GuardOptions = {}): Promise<Identity> {
    return requireRoleIn(this.deps, ctx, describe, need, opts);
  }

  resolveIdentity(ctx: RequestContext, now = Date.now()): Promise<IdentityResult> {
    return resolveIdentity(this.deps, ctx, now);
  }

  /** For server-rendered pages: the identity, or a redirect to sign in. */
  requirePage(path: string): Promise<Identity> {
    return requirePageIdentity(this.deps, path);
  }

  signIn(req: Request, now = Date.now()): Promise<SignedIn> {
    return signIn(this.deps, req, now);
  }

  signOut(req: Request, now = Date.now()): Promise<string> {
    return signOut(this.deps, req, now);
  }

  /** Runs `run` for `who`; when it throws, the failure is audited under `action` with what the caller is answered. */
  audited<T>(who: Identity, action: string, target: Target, run: () => Promise<T> | T): Promise<T> {
    return audited(this.deps.audit, who, action, target, run);
  }

  audit(
    who: Identity,
    action: string,
    outcome: AuditOutcome,
    details: Record<string, unknown> = {},
    target: Target = {},
  ) {
    auditAction(this.deps.audit, who, action, outcome, details, target);
  }
}
