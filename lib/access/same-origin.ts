// Refuses cross-site requests that would ride on a browser's session cookie (CSRF), the way Go's
// CrossOriginProtection does: Sec-Fetch-Site when the browser sends it, else Origin against Host.
import 'server-only';
import type { TrustedProxies } from '@/lib/auth/address';
import type { RequestContext } from './request-context';

/** Null when the request may proceed, else why it is refused. */
export function crossOriginRefusal(ctx: RequestContext, trusted: TrustedProxies): string | null {
  const { headers } = ctx;
  const site = headers.get('sec-fetch-site');
  if (site !== null) {
    // "none": typed into the address bar or a bookmark.
    if (site === 'same-origin' || site === 'none') return null;
    return `cross-site request refused (Sec-Fetch-Site: ${site.slice(0, 40)})`;
  }
  const origin = headers.get('origin');
  if (origin === null) return null; // not a browser: no ambient cookie to abuse
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return 'cross-site request refused (malformed Origin)';
  }
  // Behind a trusted proxy the browser asked for the proxy's host; from anyone else the header is the client's word.
  const fromProxy = ctx.peer !== null && trusted.isTrusted(ctx.peer);
  const host = (fromProxy ? headers.get('x-forwarded-host') : null) ?? headers.get('host');
  if (host !== null && originHost.toLowerCase() === host.toLowerCase()) return null;
  return `cross-site request refused (Origin ${origin.slice(0, 100)} is not this dashboard)`;
}
