// A bare HTTP/1.1 client over a TCP socket: it sends request lines, headers and bodies exactly as given (dot
// segments, bad percent-encoding, oversized headers), which fetch and http.request would normalise or refuse.
import net from 'node:net';

export interface RawRequest {
  method: string;
  /** Sent as written on the request line. */
  target: string;
  headers: Array<[string, string]>;
  body?: Buffer;
}

export interface RawAnswer {
  /** The status code of the response; null when none came. */
  status: number | null;
  /** The Location header of a redirect. */
  location: string | null;
  /** Why there was no status: a socket error or the timeout. */
  error: string | null;
}

const noAnswer = (error: string): RawAnswer => ({ status: null, location: null, error });

/** Sends one request on a new connection and resolves with the response's status and Location, or why none came. */
export function sendRaw(port: number, req: RawRequest, timeoutMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    let settled = false;
    const finish = (answer: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(noAnswer(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine = '', ...lines] = received.slice(0, end).split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      if (!m) return finish(noAnswer(`not HTTP: ${statusLine.slice(0, 80)}`));
      const location = lines.find((l) => /^location:/i.test(l))?.replace(/^location:\s*/i, '') ?? null;
      finish({ status: Number(m[1]), location, error: null });
    });
    // The server may answer and close before it has read a large request: what it sent first still counts.
    socket.on('error', (err: NodeJS.ErrnoException) => finish(noAnswer(err.code ?? err.message)));
    socket.on('close', () => finish(noAnswer(`closed without a whole answer (${received.length} bytes)`)));
    socket.on('connect', () => {
      const body = req.body ?? Buffer.alloc(0);
      const headers = [...req.headers, ['Connection', 'close']];
      const framed = req.headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k));
      if (req.body !== undefined && !framed) headers.push(['Content-Length', String(body.length)]);
      const head = `${req.method} ${req.target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}\r\n`;
      // In one write: the server reads a body it refuses (up to 8 MiB) before it answers and closes, so a client
      // still writing reads the 413, not a reset (server/http-helpers.mjs dropRefusedBody).
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    });
  });
}
