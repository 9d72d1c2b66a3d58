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

const server = createServer((req, res) => {
  // Always overwritten: a client cannot choose what this header says.
  req.headers[PEER_HEADER] = req.socket.remoteAddress ?? '';
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
