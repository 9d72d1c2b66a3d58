// Who is asking: an API token, a session cookie, a trusted proxy's headers, or anonymous viewing, in that order.
import 'server-only';
import type { Role } from '@/lib/auth/roles';
import { roleOfProxyGroups } from '@/lib/auth/proxy-groups';
import type { AuditMethod } from '@/lib/auth/audit-log';
import type { AccessDeps } from './access-deps';
import type { RequestContext } from './request-context';

export interface Identity {
  /** Username, "token:<name>", or "anonymous". */
  actor: string;
  role: Role;
  method: Exclude<AuditMethod, 'password' | 'none'>;
  /** The client's address as best known (behind a trusted proxy: the address it forwarded). */
  source: string | null;
  /** The API token's id, for a token: names it in the audit log when two tokens share a name. */
  tokenId?: string;
}

/** A revoked or expired token that was presented: named in the audit row of its refusal, never given a role. */
export interface PresentedToken {
  actor: string;
  tokenId: string;
}

export type IdentityResult =
  { identity: Identity } | { identity: null; reason: string; source: string | null; presented?: PresentedToken };

/** The client address: the peer, or behind trusted proxies the nearest address in X-Forwarded-For they did not add. */
export function clientAddress(deps: Pick<AccessDeps, 'settings'>, ctx: RequestContext): string | null {
  const trusted = deps.settings.trustedProxies;
  if (!ctx.peer || !trusted.isTrusted(ctx.peer)) return ctx.peer;
  const hops = (ctx.headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (!trusted.isTrusted(hop)) return hop;
  }
  return hops[0] ?? ctx.peer;
}

export async function resolveIdentity(
  deps: AccessDeps,
  ctx: RequestContext,
  now = Date.now(),
): Promise<IdentityResult> {
  const { settings, tokens, sessions } = deps;
  const source = clientAddress(deps, ctx);

  // A request that presents a token is judged by it alone: a bad token never falls back to a cookie.
  const authorization = ctx.headers.get('authorization');
  if (authorization !== null) {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (!bearer) return { identity: null, reason: 'Authorization must be "Bearer <token>"', source };
    const token = await tokens.resolve(bearer, now);
    if (token) {
      return {
        identity: { actor: `token:${token.name}`, role: token.role, method: 'token', source, tokenId: token.id },
      };
    }
    // Whoever holds the whole token may be told its state; a guessed id with a wrong secret learns nothing.
    const known = await tokens.inspect(bearer, now);
    if (known && known.state !== 'active') {
      const reason = `the API token ${known.id} ${known.state === 'revoked' ? 'was revoked' : 'has expired'}`;
      return { identity: null, reason, source, presented: { actor: `token:${known.name}`, tokenId: known.id } };
    }
    return { identity: null, reason: 'the API token is unknown, expired or revoked', source };
  }

  if (ctx.sessionToken) {
    const session = await sessions.resolve(ctx.sessionToken, now);
    if (session) return { identity: { actor: session.username, role: session.role, method: 'session', source } };
  }

  const proxy = settings.proxy;
  if (proxy && ctx.peer && settings.trustedProxies.isTrusted(ctx.peer)) {
    const user = ctx.headers.get(proxy.userHeader)?.trim();
    if (user) {
      const role = roleOfProxyGroups(ctx.headers.get(proxy.groupsHeader), proxy.groupRoles);
      if (role) return { identity: { actor: user.slice(0, 128), role, method: 'proxy', source } };
      if (settings.anonymous !== 'viewer') {
        return { identity: null, reason: `none of the groups of ${user.slice(0, 128)} maps to a role`, source };
      }
    }
  }

  if (settings.anonymous === 'viewer') {
    return { identity: { actor: 'anonymous', role: 'viewer', method: 'anonymous', source } };
  }
  return { identity: null, reason: 'sign in, or send an API token as "Authorization: Bearer <token>"', source };
}
