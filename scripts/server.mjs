// The production server: Next.js behind a plain node:http server, so the dashboard knows the real peer address
// of each connection. Next itself only fills X-Forwarded-For when the client did not send one, so that header
// cannot tell a trusted reverse proxy from anyone else.
import { createServer } from 'node:http';
import next from 'next';

export const PEER_HEADER = 'x-etcd-dashboard-peer';

const port = Number(process.env.PORT || 3000);
const hostname = process.env.HOSTNAME || '127.0.0.1';

const app = next({ dev: false, hostname, port, dir: new URL('..', import.meta.url).pathname });
const handle = app.getRequestHandler();
await app.prepare();

/** The path segment whose percent-escapes do not decode (`%zz`, `%c0%ae`, a lone `%`), or null when all do. */
function undecodableSegment(url) {
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

const server = createServer((req, res) => {
  // Always overwritten: a client cannot choose what this header says.
  req.headers[PEER_HEADER] = req.socket.remoteAddress ?? '';
  // Next.js 16 answers such a path with a bare 500 before any route runs: refuse it here, in the one error shape.
  const bad = undecodableSegment(req.url);
  if (bad !== null) {
    const message = `path segment "${bad.slice(0, 64)}" is not valid percent-encoded UTF-8`;
    res.writeHead(400, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    });
    res.end(JSON.stringify({ error: { code: 'bad_request', message } }));
    return;
  }
  void handle(req, res);
});
server.listen(port, hostname, () => {
  console.log(`etcd-dashboard: listening on http://${hostname}:${port}`);
});

function shutdown() {
  server.close(() => process.exit(0));
  // Keep-alive connections would hold close() open: give them a moment, then go.
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
