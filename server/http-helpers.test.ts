import { METHODS, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  acceptsGzip,
  createTimedServer,
  declaresOversizedApiBody,
  dropRefusedBody,
  MAX_API_BODY_BYTES,
  methodFetchRefuses,
  SERVER_TIMEOUTS,
  undecodableSegment,
} from './http-helpers.mjs';
import { MAX_BODY_BYTES } from '@/lib/api/parse-body';

/** Servers the tests started, each closed (its connections cut) after its test. */
const started: Server[] = [];
afterEach(async () => {
  await Promise.all(
    started.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
});

/** Listens on a free loopback port and answers it; the server is closed after the test. */
async function listen(server: Server): Promise<number> {
  started.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('acceptsGzip: whether the status fast path may compress its answer', () => {
  it.each([
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['br;q=1.0, GZIP;q=0.5', true],
    ['*', true],
    ['identity', false],
    ['gzip;q=0', false],
    ['gzip;q=0.0, br', false],
    ['*;q=0', false],
    ['gzip;q=0, *', false],
    ['*, gzip;q=0', false],
    ['*;q=0, gzip', true],
    ['br, *;q=0.1', true],
    ['xgzip, gzipper', false],
    ['', false],
  ])('%j → %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });

  it('no header is not taken as consent; a repeated one arrives joined, as Node.js joins it', () => {
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip('identity, gzip')).toBe(true);
  });
});

describe('undecodableSegment: paths Next.js would answer with a bare 500', () => {
  it('names the first segment that does not decode, and passes good ones', () => {
    expect(undecodableSegment('/api/clusters/%zz/status')).toBe('%zz');
    expect(undecodableSegment('/api/clusters/%c0%ae/status?x=%zz')).toBe('%c0%ae');
    expect(undecodableSegment('/api/clusters/default/status?x=%zz')).toBeNull();
    expect(undecodableSegment('/api/clusters/caf%C3%A9/status')).toBeNull();
    expect(undecodableSegment(undefined)).toBeNull();
  });
});

describe('declaresOversizedApiBody: API requests refused by their Content-Length before a byte is read', () => {
  it('is the limit the API routes read bodies to (lib/api/parse-body.ts)', () => {
    expect(MAX_API_BODY_BYTES).toBe(MAX_BODY_BYTES);
  });

  it('refuses an API request declaring more than 64 KiB, as the 300 MB sign-in of the security review', () => {
    expect(declaresOversizedApiBody('/api/auth/login', '314572800')).toBe(true);
    expect(declaresOversizedApiBody('/api/tokens?x=1', String(64 * 1024 + 1))).toBe(true);
    expect(declaresOversizedApiBody('/api/auth/login', ' 70000 ')).toBe(true);
  });

  it('lets through a body within the limit, none at all, and other paths (Next.js reads page requests)', () => {
    expect(declaresOversizedApiBody('/api/auth/login', String(64 * 1024))).toBe(false);
    expect(declaresOversizedApiBody('/api/auth/login', '0')).toBe(false);
    expect(declaresOversizedApiBody('/api/auth/login', undefined)).toBe(false);
    expect(declaresOversizedApiBody('/login', '314572800')).toBe(false);
    expect(declaresOversizedApiBody('/apix', '314572800')).toBe(false);
    expect(declaresOversizedApiBody(undefined, '314572800')).toBe(false);
  });

  it('leaves a malformed length to Node.js, which refuses it before any handler runs', () => {
    expect(declaresOversizedApiBody('/api/auth/login', '1e9')).toBe(false);
    expect(declaresOversizedApiBody('/api/auth/login', '-1')).toBe(false);
  });
});

describe('methodFetchRefuses: methods Next.js cannot turn into a Request (a 500 with a stack trace in the log)', () => {
  const fetchRefuses = (method: string) => {
    try {
      new Request('http://dashboard.test/', { method });
      return false;
    } catch {
      return true;
    }
  };

  it('refuses TRACE, as the security review sent it, and TRACK and CONNECT', () => {
    expect(fetchRefuses('TRACE')).toBe(true);
    for (const method of ['TRACE', 'TRACK', 'CONNECT', 'trace']) expect(methodFetchRefuses(method)).toBe(true);
  });

  it('agrees with Request on every method Node.js parses, in either case', () => {
    for (const method of [...METHODS, ...METHODS.map((m) => m.toLowerCase())]) {
      expect([method, methodFetchRefuses(method)]).toEqual([method, fetchRefuses(method)]);
    }
  });

  it("lets the dashboard's own methods through", () => {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      expect(methodFetchRefuses(method)).toBe(false);
    }
    expect(methodFetchRefuses(undefined)).toBe(false);
  });
});

describe('createTimedServer: slow senders are cut off, long answers are not (Node.js semantics, on a real socket)', () => {
  // The production values scaled down: headers within 400 ms, the whole request within 800 ms, checked every 100 ms.
  const TIMEOUTS = {
    headersTimeout: 400,
    requestTimeout: 800,
    keepAliveTimeout: 3000,
    connectionsCheckingInterval: 100,
  };

  /** A server whose GET streams `chunks` × 200 ms and whose POST answers with the body's length once it is all in. */
  async function start(chunks = 1): Promise<number> {
    const server = createTimedServer((req, res) => {
      if (req.method === 'POST') {
        let n = 0;
        req.on('data', (d: Buffer) => (n += d.length));
        req.on('end', () => res.end(`got ${n}`));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      let sent = 0;
      const tick = () => {
        res.write(`chunk ${sent}\n`);
        if (++sent < chunks) setTimeout(tick, 200);
        else res.end();
      };
      tick();
    }, TIMEOUTS);
    return listen(server);
  }

  /** A raw connection: what was received, and when (ms after opening) the server closed it, or null. */
  function open(port: number) {
    const socket: Socket = connect(port, '127.0.0.1');
    const t0 = Date.now();
    const seen = { text: '', closedAfter: null as number | null };
    socket.on('data', (d: Buffer) => (seen.text += d.toString()));
    socket.on('close', () => (seen.closedAfter = Date.now() - t0));
    socket.on('error', () => undefined);
    return { socket, seen };
  }
  const until = async (cond: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  };

  it('are the production values: headers in 20 s, the whole request in 30 s, idle keep-alive 65 s', () => {
    expect(SERVER_TIMEOUTS).toEqual({
      headersTimeout: 20_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 65_000,
      connectionsCheckingInterval: 2_000,
    });
  });

  it('closes a connection whose body trickles in past requestTimeout (the slow-body attack)', async () => {
    const port = await start();
    const { socket, seen } = open(port);
    socket.write('POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
    const drip = setInterval(() => socket.writable && socket.write('a'), 50);
    await until(() => seen.closedAfter !== null, 3000);
    clearInterval(drip);
    expect(seen.closedAfter).not.toBeNull();
    expect(seen.closedAfter).toBeLessThan(TIMEOUTS.requestTimeout + 500);
    expect(seen.text).not.toContain('got');
  });

  it('closes a connection whose headers trickle in past headersTimeout', async () => {
    const port = await start();
    const { socket, seen } = open(port);
    socket.write('GET / HTTP/1.1\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X-Slow: a\r\n'), 50);
    await until(() => seen.closedAfter !== null, 3000);
    clearInterval(drip);
    expect(seen.closedAfter).toBeLessThan(TIMEOUTS.headersTimeout + 500);
    expect(seen.text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection that sends nothing at all within headersTimeout', async () => {
    const port = await start();
    const { seen } = open(port);
    await until(() => seen.closedAfter !== null, 3000);
    expect(seen.closedAfter).toBeLessThan(TIMEOUTS.headersTimeout + 500);
  });

  it('sends a long answer in full, well past requestTimeout, once the request is in (a snapshot download)', async () => {
    const port = await start(8); // 1.4 s of streaming, over the 800 ms request timeout
    const t0 = Date.now();
    const res = await fetch(`http://127.0.0.1:${port}/download`);
    const text = await res.text();
    expect(Date.now() - t0).toBeGreaterThan(TIMEOUTS.requestTimeout);
    expect(text.trim().split('\n')).toHaveLength(8);
  });

  it('keeps an idle keep-alive connection past headersTimeout, for a second request on it', async () => {
    const port = await start();
    const { socket, seen } = open(port);
    socket.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => seen.text.includes('chunk 0'), 1000);
    await new Promise((r) => setTimeout(r, TIMEOUTS.requestTimeout + 400)); // idle past both request timeouts
    expect(seen.closedAfter).toBeNull();
    seen.text = '';
    socket.write('GET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => seen.text.includes('chunk 0'), 1000);
    expect(seen.text).toMatch(/^HTTP\/1\.1 200 /);
    socket.destroy();
  });
});

describe('dropRefusedBody: a body refused by its length is read and dropped first, so the client reads the 413', () => {
  /** A server that refuses oversized API bodies as server/server.mjs does: drop the body, then 413 and close. */
  async function start(limits: { maxBytes: number; maxMs: number }): Promise<number> {
    const server = createTimedServer((req, res) => {
      if (!declaresOversizedApiBody(req.url, req.headers['content-length'])) return void res.end('ok');
      void dropRefusedBody(req, limits).then(() => {
        res.writeHead(413, { Connection: 'close', 'Content-Type': 'text/plain' });
        res.end('payload too large');
      });
    });
    return listen(server);
  }

  /**
   * Sends `head` and `bodyBytes` bytes, reading nothing until every byte is written, as a client that uploads first
   * and reads after does: what it then read, or the socket error it got instead.
   */
  function upload(port: number, head: string, bodyBytes: number): Promise<{ text: string; error: string | null }> {
    return new Promise((resolve) => {
      const socket: Socket = connect(port, '127.0.0.1');
      let text = '';
      let error: string | null = null;
      socket.pause();
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
      socket.on('close', () => resolve({ text, error }));
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.alloc(bodyBytes, 0x7b)]), () => socket.resume());
    });
  }

  it('a client that writes its whole 4 MiB body before reading gets the 413, not a reset', async () => {
    const port = await start({ maxBytes: 8 * 1024 * 1024, maxMs: 5_000 });
    const size = 4 * 1024 * 1024;
    for (let i = 0; i < 3; i++) {
      const got = await upload(
        port,
        `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`,
        size,
      );
      expect({ error: got.error, status: got.text.split('\r\n')[0] }).toEqual({
        error: null,
        status: 'HTTP/1.1 413 Payload Too Large',
      });
    }
  });

  it('a body announced and never sent is waited for at most maxMs, then refused', async () => {
    const port = await start({ maxBytes: 8 * 1024 * 1024, maxMs: 300 });
    const t0 = Date.now();
    const got = await upload(port, 'POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 300000000\r\n\r\n', 0);
    expect(got.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });
});
