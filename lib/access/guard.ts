// The one check every route handler makes: who is asking, may they, and (for cookie sessions changing
// something) did the request come from this dashboard's own pages. Refusals that matter are audited.
import 'server-only';
import { ApiError } from '@/lib/api/api-error';
import type { AuditMethod } from '@/lib/auth/audit-log';
import { roleAtLeast, type Role } from '@/lib/auth/roles';
import type { AccessDeps } from './access-deps';
import { resolveIdentity, type Identity } from './identity';
import { isStateChanging, requestContext, type RequestContext } from './request-context';
import { crossOriginRefusal } from './same-origin';

export interface GuardOptions {
  /**
   * The audit action, e.g. "token.create" or "snapshot.download": a refusal of a request that names one is audited
   * whatever its method (a refused download is a GET).
   */
  action?: string;
  clusterId?: string;
}

/** Who a refusal is recorded against: an identity, a revoked or expired token that was presented, or nobody. */
interface Refused {
  actor: string;
  role: Role | null;
  method: AuditMethod;
  source: string | null;
  tokenId?: string | undefined;
}

function auditRefusal(deps: AccessDeps, describe: () => string, who: Refused, reason: string, opts: GuardOptions) {
  deps.audit.append({
    at: Date.now(),
    actor: who.actor,
    role: who.role,
    method: who.method,
    source: who.source,
    action: opts.action ?? describe(),
    clusterId: opts.clusterId ?? null,
    outcome: 'denied',
    details: { reason, ...(who.tokenId ? { actorTokenId: who.tokenId } : {}) },
  });
}

/** Throws ApiError 401 (no identity), 403 (wrong role, or a cross-site request riding a session). */
export function requireRole(deps: AccessDeps, req: Request, need: Role, opts: GuardOptions = {}): Promise<Identity> {
  return requireRoleIn(deps, requestContext(req), () => `${req.method} ${new URL(req.url).pathname}`, need, opts);
}

/**
 * The same check on a request already reduced to its context (server/server.mjs's fast path for the status route);
 * `describe` names the request in the audit log when a refusal without an action is audited.
 *
 * Audited: every refusal of a state-changing request or of one naming an action, and every 403 (someone known asking
 * for more than their role). Not audited: a 401 on a plain read, which is what a signed-out page polling looks like.
 * The audit log folds floods of refusals into counts (AuditLog.append).
 */
export async function requireRoleIn(
  deps: AccessDeps,
  ctx: RequestContext,
  describe: () => string,
  need: Role,
  opts: GuardOptions = {},
): Promise<Identity> {
  const audit = isStateChanging(ctx.method) || opts.action !== undefined;
  const result = await resolveIdentity(deps, ctx);
  const who = result.identity;
  // Anonymous viewing is not an identity: anything beyond looking needs a real one.
  if (!who || (who.method === 'anonymous' && need !== 'viewer')) {
    const reason = who ? 'sign in: anonymous users may only look' : result.identity === null ? result.reason : '';
    if (audit) {
      const presented = result.identity === null ? result.presented : undefined;
      const source = who?.source ?? (result.identity === null ? result.source : null);
      auditRefusal(
        deps,
        describe,
        presented
          ? { actor: presented.actor, role: null, method: 'token', source, tokenId: presented.tokenId }
          : { actor: 'anonymous', role: null, method: 'none', source },
        reason,
        opts,
      );
    }
    throw new ApiError(401, 'unauthenticated', reason);
  }
  if (!roleAtLeast(who.role, need)) {
    const reason = `the ${need} role is needed; ${who.actor} is ${who.role}`;
    auditRefusal(deps, describe, who, reason, opts);
    throw new ApiError(403, 'forbidden', reason);
  }
  // Both ride on something the browser sends by itself: our cookie, or the proxy's cookie turned into headers.
  if (isStateChanging(ctx.method) && (who.method === 'session' || who.method === 'proxy')) {
    const refusal = crossOriginRefusal(ctx, deps.settings.trustedProxies);
    if (refusal) {
      auditRefusal(deps, describe, who, refusal, opts);
      throw new ApiError(403, 'cross_origin', refusal);
    }
  }
  return who;
}
