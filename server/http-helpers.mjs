// Small request checks and the server's timeouts of server/server.mjs, in their own module so they can be tested
// without starting the dashboard.
import { createServer } from 'node:http';

/** The path segment whose percent-escapes do not decode (`%zz`, `%c0%ae`, a lone `%`), or null when all do. */
export function undecodableSegment(url) {
  const path = (url ?? '/').split('?')[0];
  for (const segment of path.split('/')) {
    try {
      decodeURIComponent(segment);
    } catch {
      return segment;
    }
  }
  return null;
}

/**
 * Whether an Accept-Encoding header allows gzip: `gzip` with a quality above 0, or, when gzip is not named at all,
 * `*` with a quality above 0 (RFC 9110 12.5.3). Node.js gives a repeated Accept-Encoding as one joined string.
 */
export function acceptsGzip(header) {
  if (typeof header !== 'string') return false;
  let gzip = null;
  let any = null;
  for (const entry of header.split(',')) {
    const [name = '', ...params] = entry.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const allowed = q === undefined || Number(q.slice(2)) > 0;
    if (name === 'gzip') gzip = allowed;
    else if (name === '*') any = allowed;
  }
  return gzip ?? any ?? false;
}

/** The most any API route reads of a body (lib/api/parse-body.ts's MAX_BODY_BYTES): each takes a small JSON object. */
export const MAX_API_BODY_BYTES = 64 * 1024;

/**
 * Whether an API request declares (by Content-Length) a body larger than any API route reads, so it can be refused
 * before any route sees it. A body sent without a length is cut off by lib/api/parse-body.ts at the same limit.
 */
export function declaresOversizedApiBody(url, contentLength) {
  if (!(url ?? '').startsWith('/api/') || typeof contentLength !== 'string') return false;
  const declared = contentLength.trim();
  return /^\d+$/.test(declared) && Number(declared) > MAX_API_BODY_BYTES;
}

/**
 * How much of a body refused by its length is read and dropped before the answer, and for how long at most. nginx
 * answers at once and then reads on for a while before it closes (lingering_close); Node.js cannot keep reading after
 * an answer that closes the connection, so here the reading comes first.
 */
export const REFUSED_BODY_DROP = Object.freeze({ maxBytes: 8 * 1024 * 1024, maxMs: 2_000 });

/**
 * Reads and drops the body of a request about to be refused (413), resolving once it is all in, the client has gone,
 * or `limits` are reached. Closing a connection with bytes unread sends a TCP reset, and a client still writing its
 * body then gets EPIPE or ECONNRESET instead of the answer waiting for it: it never learns why. None of the body is kept.
 */
export function dropRefusedBody(req, limits = REFUSED_BODY_DROP) {
  return new Promise((resolve) => {
    let dropped = 0;
    const done = () => {
      clearTimeout(timer);
      req.off('data', count);
      req.pause();
      resolve();
    };
    const count = (chunk) => {
      dropped += chunk.length;
      if (dropped > limits.maxBytes) done();
    };
    const timer = setTimeout(done, limits.maxMs);
    req.on('data', count);
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
  });
}

/** The methods a Fetch Request cannot carry (the Fetch standard forbids them). */
const METHODS_FETCH_FORBIDS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/**
 * Whether Next.js would fail on this method: it makes a Request of every request, which throws for these, and
 * answers with a 500 and a stack trace in the log.
 */
export function methodFetchRefuses(method) {
  return METHODS_FETCH_FORBIDS.has((method ?? '').toUpperCase());
}

/**
 * The server's timeouts (milliseconds). Node.js applies requestTimeout and headersTimeout only while a request is being
 * received: once its last byte is in, they no longer run, so the answer may take as long as it takes (a snapshot
 * download of gigabytes over a slow link). Every API body is at most 64 KiB: 30 s to send one is generous, where Node's
 * default 300 s let a slow sender hold a connection for five minutes.
 */
export const SERVER_TIMEOUTS = Object.freeze({
  /** Until the request's headers are all in. */
  headersTimeout: 20_000,
  /** Until the whole request, body included, is in. */
  requestTimeout: 30_000,
  /**
   * An idle keep-alive connection outlives a load balancer's (60 s on most): with Node's 5 s, a client or proxy that
   * reuses a connection just as the server closes it gets a reset on a POST it may not retry.
   */
  keepAliveTimeout: 65_000,
  /** How often the two above are checked (Node's default 30 s would let them run up to 30 s late). */
  connectionsCheckingInterval: 2_000,
});

/** A node:http server for `handler` with `timeouts` (SERVER_TIMEOUTS, or shorter ones in a test). */
export function createTimedServer(handler, timeouts = SERVER_TIMEOUTS) {
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeout,
      requestTimeout: timeouts.requestTimeout,
      connectionsCheckingInterval: timeouts.connectionsCheckingInterval,
    },
    handler,
  );
  server.keepAliveTimeout = timeouts.keepAliveTimeout;
  return server;
}
