// The one check every route handler makes: who is asking, may they, and (for cookie sessions changing
// something) did the request come from this dashboard's own pages.
import 'server-only';
import { ApiError } from '@/lib/api/api-error';
import { roleAtLeast, type Role } from '@/lib/auth/roles';
import { getRuntime } from '@/lib/collector/runtime';
import { resolveIdentity, type Identity } from './identity';
import { isStateChanging, requestContext, type RequestContext } from './request-context';
import { crossOriginRefusal } from './same-origin';

export interface GuardOptions {
  /** The audit action for a refused state-changing request, e.g. "token.create". */
  action?: string;
  clusterId?: string;
}

function auditRefusal(action: string, who: Identity | null, source: string | null, reason: string, opts: GuardOptions) {
  getRuntime().auth.audit.append({
    at: Date.now(),
    actor: who?.actor ?? 'anonymous',
    role: who?.role ?? null,
    method: who?.method ?? 'none',
    source,
    action: opts.action ?? action,
    clusterId: opts.clusterId ?? null,
    outcome: 'denied',
    details: { reason },
  });
}

/** Throws ApiError 401 (no identity), 403 (wrong role, or a cross-site request riding a session). */
export function requireRole(req: Request, need: Role, opts: GuardOptions = {}): Identity {
  return requireRoleIn(requestContext(req), () => `${req.method} ${new URL(req.url).pathname}`, need, opts);
}

/**
 * The same check on a request already reduced to its context (scripts/server.mjs's fast path for the status route);
 * `describe` names the request in the audit log when a state-changing one is refused.
 */
export function requireRoleIn(
  ctx: RequestContext,
  describe: () => string,
  need: Role,
  opts: GuardOptions = {},
): Identity {
  const changing = isStateChanging(ctx.method);
  const result = resolveIdentity(ctx);
  const who = result.identity;
  // Anonymous viewing is not an identity: anything beyond looking needs a real one.
  if (!who || (who.method === 'anonymous' && need !== 'viewer')) {
    const reason = who ? 'sign in: anonymous users may only look' : result.identity === null ? result.reason : '';
    if (changing)
      auditRefusal(describe(), null, who?.source ?? (result.identity === null ? result.source : null), reason, opts);
    throw new ApiError(401, 'unauthenticated', reason);
  }
  if (!roleAtLeast(who.role, need)) {
    const reason = `the ${need} role is needed; ${who.actor} is ${who.role}`;
    if (changing) auditRefusal(describe(), who, who.source, reason, opts);
    throw new ApiError(403, 'forbidden', reason);
  }
  // Both ride on something the browser sends by itself: our cookie, or the proxy's cookie turned into headers.
  if (changing && (who.method === 'session' || who.method === 'proxy')) {
    const refusal = crossOriginRefusal(ctx, getRuntime().auth.trusted);
    if (refusal) {
      auditRefusal(describe(), who, who.source, refusal, opts);
      throw new ApiError(403, 'cross_origin', refusal);
    }
  }
  return who;
}
