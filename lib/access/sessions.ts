// Signing in and out with a local user's password: rate-limited, audited, a session in an HttpOnly cookie.
import 'server-only';
import { z } from 'zod';
import { ApiError, failureDetails } from '@/lib/api/api-error';
import { parseJsonBody } from '@/lib/api/parse-body';
import { hashPassword, verifyPassword } from '@/lib/auth/password';
import type { Role } from '@/lib/auth/roles';
import type { AccessDeps } from './access-deps';
import { auditAction } from './audit-action';
import { clientAddress, resolveIdentity } from './identity';
import { requestContext, SESSION_COOKIE, type RequestContext } from './request-context';
import { crossOriginRefusal } from './same-origin';

const loginSchema = z.strictObject({
  username: z.string().min(1, 'is required').max(64, 'is too long'),
  password: z.string().min(1, 'is required').max(1024, 'is too long'),
});

// Checked against when the user does not exist, so the answer takes as long as for a real user.
let decoy: Promise<string> | null = null;
const decoyHash = () => (decoy ??= hashPassword(`decoy-${Math.random()}-${Date.now()}`));

/** Secure cookies when the browser reached us over HTTPS (through a trusted TLS-terminating proxy). */
function overHttps(deps: AccessDeps, ctx: RequestContext): boolean {
  const trusted = deps.settings.trustedProxies;
  return ctx.peer !== null && trusted.isTrusted(ctx.peer) && ctx.headers.get('x-forwarded-proto') === 'https';
}

function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

export interface SignedIn {
  actor: string;
  role: Role;
  expiresAt: string;
  cookie: string;
}

export async function signIn(deps: AccessDeps, req: Request, now = Date.now()): Promise<SignedIn> {
  const { settings } = deps;
  const ctx = requestContext(req);
  const source = clientAddress(deps, ctx);
  let recorded = false;
  const audit = (
    actor: string,
    role: Role | null,
    outcome: 'success' | 'failure' | 'denied',
    details?: Record<string, unknown>,
  ) => {
    recorded = true;
    deps.audit.append({ at: now, actor, role, method: 'password', source, action: 'auth.login', outcome, details });
  };
  let username = 'anonymous';
  try {
    // A sign-in form on another site must not sign the browser in (login CSRF).
    const refusal = crossOriginRefusal(ctx, settings.trustedProxies);
    if (refusal) {
      audit('anonymous', null, 'denied', { reason: refusal });
      throw new ApiError(403, 'cross_origin', refusal);
    }
    const body = await parseJsonBody(req, loginSchema);
    username = body.username;
    const check = await deps.limiter.check(username, source);
    if (!check.allowed) {
      const reason = `too many failed sign-ins for this ${check.reason === 'user' ? 'user' : 'address'}`;
      audit(username, null, 'denied', { reason });
      throw new ApiError(429, 'rate_limited', `too many failed sign-ins; try again in ${check.retryAfterSeconds} s`, {
        'Retry-After': String(check.retryAfterSeconds),
      });
    }
    const user = await deps.users.get(username);
    const ok = user
      ? await verifyPassword(body.password, user.passwordHash)
      : (await verifyPassword(body.password, await decoyHash()), false);
    if (!user || !ok) {
      await deps.limiter.recordFailure(username, source);
      audit(username, null, 'failure', { reason: 'wrong username or password' });
      throw new ApiError(401, 'invalid_credentials', 'wrong username or password');
    }
    await deps.limiter.recordSuccess(username, source);
    const session = await deps.sessions.create(
      { username, role: user.role },
      { ttlMs: settings.sessionTtlMs, source },
      now,
    );
    audit(username, user.role, 'success');
    return {
      actor: username,
      role: user.role,
      expiresAt: new Date(session.expiresAt).toISOString(),
      cookie: sessionCookie(session.token, Math.floor(settings.sessionTtlMs / 1000), overHttps(deps, ctx)),
    };
  } catch (err) {
    // A failure of ours (a 500, the database) leaves a row. A body that is not a sign-in (400, 413) does not: it
    // names no one, and anyone could write rows without end by sending them.
    const details = failureDetails(err);
    if (!recorded && Number(details.status) >= 500) audit(username, null, 'failure', details);
    throw err;
  }
}

/** Ends the session in the cookie (if any) and returns the cookie that clears it. */
export async function signOut(deps: AccessDeps, req: Request, now = Date.now()): Promise<string> {
  const ctx = requestContext(req);
  const refusal = crossOriginRefusal(ctx, deps.settings.trustedProxies);
  if (refusal) throw new ApiError(403, 'cross_origin', refusal);
  const who = (await resolveIdentity(deps, ctx, now)).identity;
  if (ctx.sessionToken && (await deps.sessions.revoke(ctx.sessionToken)) && who) {
    auditAction(deps.audit, who, 'auth.logout', 'success', {}, {}, now);
  }
  return sessionCookie('', 0, overHttps(deps, ctx));
}
