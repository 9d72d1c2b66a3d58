// A real HTTP receiver on loopback for the notification tests: it keeps what arrives and answers as the test says.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { AlertNotification } from '@/lib/alerts/notify/notification-types';

export interface ReceivedRequest {
  method: string;
  /** Path and query as requested. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The body parsed as JSON, or the raw text when it is not JSON. */
  body: unknown;
  /** performance.now() when the request arrived. */
  at: number;
  /** Set when the client closed the connection before an answer was sent. */
  abandoned: boolean;
}

/** `hang` never answers. */
export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface TestReceiver {
  /** http://127.0.0.1:<port>, the port it is bound to (the ephemeral one chosen for port 0). */
  origin: string;
  requests: ReceivedRequest[];
  /** How to answer the request; `index` counts from 0 over this receiver's life. */
  answer: (req: ReceivedRequest, index: number) => Answer;
  close(): Promise<void>;
}

const OK: Answer = { status: 200, body: 'ok' };

/** Listens on 127.0.0.1:`port`; 0 (the default) lets the system choose a free port. */
export async function startReceiver(port = 0, answer: TestReceiver['answer'] = () => OK): Promise<TestReceiver> {
  const sockets = new Set<Socket>();
  const receiver: TestReceiver = {
    origin: `http://127.0.0.1:${port}`,
    requests: [],
    answer,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Kept as text.
      }
      const received: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        at: performance.now(),
        abandoned: false,
      };
      const index = receiver.requests.push(received) - 1;
      res.on('close', () => {
        if (!res.writableFinished) received.abandoned = true;
      });
      const a = receiver.answer(received, index);
      if (a === 'hang') return;
      res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
      res.end(a.body ?? '');
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address !== null && typeof address === 'object') receiver.origin = `http://127.0.0.1:${address.port}`;
  return receiver;
}

/** Polls `check` every 10 ms until it returns something other than undefined or false; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A firing notification for the notification tests; `over` replaces fields. */
export const firing = (over: Partial<AlertNotification> = {}): AlertNotification => ({
  id: 'prod-east/member-unreachable/8e9e05c52164694d',
  clusterId: 'prod-east',
  clusterName: 'Production East',
  rule: 'member-unreachable',
  alertname: 'etcdDashboardMemberUnreachable',
  severity: 'critical',
  state: 'firing',
  since: '2025-03-01T12:00:00.000Z',
  endsAt: null,
  summary: 'Member etcd-2 does not answer',
  advice: 'Check the etcd process and the network on etcd-2',
  memberId: '8e9e05c52164694d',
  memberName: 'etcd-2',
  memberInstance: '10.0.0.12:2379',
  dashboardUrl: 'https://dash.example/clusters/prod-east',
  runbookUrl: 'https://dash.example/runbooks#etcdDashboardMemberUnreachable',
  ...over,
});
