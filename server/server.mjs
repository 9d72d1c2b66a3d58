// The production server: Next.js behind a plain node:http server, so the dashboard knows the real peer address
// of each connection. Next itself only fills X-Forwarded-For when the client did not send one, so that header
// cannot tell a trusted reverse proxy from anyone else.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import next from 'next';
import {
  acceptsGzip,
  createTimedServer,
  declaresOversizedApiBody,
  dropRefusedBody,
  MAX_API_BODY_BYTES,
  methodFetchRefuses,
  undecodableSegment,
} from './http-helpers.mjs';
import securityHeaders from './security-headers.cjs';

export const PEER_HEADER = 'x-etcd-dashboard-peer';

const port = Number(process.env.PORT || 3000);
const hostname = process.env.HOSTNAME || '127.0.0.1';

/** Registered by lib/app/fast-routes.ts once the dashboard has started (see instrumentation.ts). */
const FAST_ROUTES_KEY = Symbol.for('etcd-dashboard.fast-routes');
/** Cluster ids are lower-case letters, digits and dashes (the config schema): no escapes to decode. */
const STATUS_PATH = /^\/api\/clusters\/([a-z0-9-]{1,63})\/status$/;
/** `off` sends the status route through Next.js like every other (to measure the difference, or to rule it out). */
const fastPathOn = process.env.ETCD_DASHBOARD_STATUS_FAST_PATH !== 'off';
/** Every JSON answer written here carries the API's headers, as Next.js's answers do. */
const API_HEADERS = { ...securityHeaders.apiHeaders(), Vary: 'Accept-Encoding' };
const INTERNAL_ERROR = JSON.stringify({ error: { code: 'internal', message: 'internal error; see the server log' } });

const dir = path.dirname(path.dirname(new URL(import.meta.url).pathname));
// Next.js runs on the configuration the build resolved, as the server.js it generates for output: 'standalone' does:
// the standalone folder (npm run build:standalone) has no next.config.js, and a checkout then runs the same way.
const builtConfig = path.join(dir, process.env.NEXT_DIST_DIR || '.next', 'required-server-files.json');
if (existsSync(builtConfig)) {
  process.env.__NEXT_PRIVATE_STANDALONE_CONFIG = JSON.stringify(JSON.parse(readFileSync(builtConfig, 'utf8')).config);
}

const app = next({ dev: false, hostname, port, dir });
const handle = app.getRequestHandler();
await app.prepare();

/**
 * Writes a JSON answer: `extra` headers (an error's Retry-After, say) over the API's, and gzip from 1 KiB when the
 * client accepts it, as Next.js compresses: a phone on a poor link polls the status every second.
 */
function sendJson(req, res, status, text, extra = {}) {
  const headers = { ...API_HEADERS, ...extra };
  let body = Buffer.from(text);
  if (body.length >= 1024 && acceptsGzip(req.headers['accept-encoding'])) {
    body = gzipSync(body);
    headers['Content-Encoding'] = 'gzip';
  }
  headers['Content-Length'] = String(body.length);
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * GET /api/clusters/{id}/status, the route every open page polls, answered by the dashboard's own status and access
 * code without Next.js's per-request machinery (lib/app/fast-routes.ts). False when the request is not that route.
 */
function answerFast(req, res) {
  const routes = globalThis[FAST_ROUTES_KEY];
  if (!routes) return false;
  const path = (req.url ?? '').split('?')[0];
  const match = STATUS_PATH.exec(path);
  if (!match) return false;
  routes
    .clusterStatus(req.headers, match[1], path)
    .catch((err) => {
      // clusterStatus turns every error into an answer; this is the last guard that keeps the process up.
      console.error(`unhandled error in the status fast path: ${err instanceof Error ? err.name : typeof err}`);
      return { status: 500, body: INTERNAL_ERROR, headers: {} };
    })
    .then((answer) => sendJson(req, res, answer.status, answer.body, answer.headers))
    .catch(() => res.destroy());
  return true;
}

// Slow senders are cut off once the request takes over SERVER_TIMEOUTS (20 s for headers, 30 s in all); a long
// answer, such as a snapshot download, is not: those timeouts end when the request is in.
const server = createTimedServer((req, res) => {
  // Always overwritten: a client cannot choose what this header says.
  req.headers[PEER_HEADER] = req.socket.remoteAddress ?? '';
  // The status path admits no percent-escapes at all, so it can go first.
  if (fastPathOn && req.method === 'GET' && answerFast(req, res)) return;
  // Next.js would fail making a Request of it and log a stack trace with its 500.
  if (methodFetchRefuses(req.method)) {
    const message = `method ${req.method} is not allowed`;
    sendJson(req, res, 405, JSON.stringify({ error: { code: 'method_not_allowed', message } }), {
      Allow: 'GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE',
    });
    return;
  }
  // Refused by its length, never handed to Next.js: the body is dropped as it comes (up to 8 MiB or 2 s), so a client
  // still sending it reads this answer rather than a reset, and the connection is closed so no more of it is read.
  if (declaresOversizedApiBody(req.url, req.headers['content-length'])) {
    const message = `the body is over ${MAX_API_BODY_BYTES / 1024} KiB`;
    const text = JSON.stringify({ error: { code: 'payload_too_large', message } });
    void dropRefusedBody(req).then(() => sendJson(req, res, 413, text, { Connection: 'close' }));
    return;
  }
  // Next.js 16 answers such a path with a bare 500 before any route runs: refuse it here, in the one error shape.
  const bad = undecodableSegment(req.url);
  if (bad !== null) {
    const message = `path segment "${bad.slice(0, 64)}" is not valid percent-encoded UTF-8`;
    sendJson(req, res, 400, JSON.stringify({ error: { code: 'bad_request', message } }));
    return;
  }
  handle(req, res).catch((err) => {
    // Next.js answers its own errors; this only keeps a failure outside them from ending the process.
    console.error(`unhandled error in the request handler: ${err instanceof Error ? err.name : typeof err}`);
    if (res.headersSent) res.destroy();
    else sendJson(req, res, 500, INTERNAL_ERROR);
  });
});
server.listen(port, hostname, () => {
  console.log(`etcd-dashboard: listening on http://${hostname}:${port}`);
});

/** Registered by lib/app/shutdown.ts: writes what the dashboard has queued (history, audit) before it exits. */
const SHUTDOWN_KEY = Symbol.for('etcd-dashboard.shutdown');
const FLUSH_WAIT_MS = 5000;
let stopping = false;

function shutdown() {
  if (stopping) return;
  stopping = true;
  const within = (promise, ms) => Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
  // Keep-alive connections would hold close() open: give answers under way a moment, then go.
  const closed = within(new Promise((resolve) => server.close(() => resolve())), 3000);
  const flush = globalThis[SHUTDOWN_KEY];
  const flushed = within(flush ? flush().catch(() => undefined) : Promise.resolve(), FLUSH_WAIT_MS);
  void Promise.all([closed, flushed]).then(() => process.exit(0));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
