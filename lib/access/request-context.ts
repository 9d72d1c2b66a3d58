// What access decisions need from a request: its headers, the session cookie, and the real peer address.
import 'server-only';

/** Set by server/server.mjs from the socket, overwriting whatever the client sent. */
export const PEER_HEADER = 'x-etcd-dashboard-peer';
export const SESSION_COOKIE = 'etcd_dashboard_session';

/** What access decisions read from headers: a Fetch `Headers`, or the fast path's view of Node's parsed headers. */
export interface HeaderReader {
  get(name: string): string | null;
}

export interface RequestContext {
  method: string;
  headers: HeaderReader;
  /** The TCP peer; null when the server was not started through server/server.mjs (then no proxy is trusted). */
  peer: string | null;
  sessionToken: string | undefined;
}

export function readCookie(headers: HeaderReader, name: string): string | undefined {
  const raw = headers.get('cookie');
  if (!raw) return undefined;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      // A value that does not decode was not set by this dashboard: no cookie, not a 500.
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function contextOf(method: string, headers: HeaderReader): RequestContext {
  return {
    method: method.toUpperCase(),
    headers,
    peer: headers.get(PEER_HEADER) || null,
    sessionToken: readCookie(headers, SESSION_COOKIE),
  };
}

export function requestContext(req: Request): RequestContext {
  return contextOf(req.method, req.headers);
}

export function isStateChanging(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}
