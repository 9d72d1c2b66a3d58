// Fetches one member's Prometheus /metrics text over http or mutual-TLS https; a failed scrape is data, never a throw.
import 'server-only';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { SOCKET_ERRORS, type EtcdFailure } from './etcd-error';
import { secureContextOf, type TlsCredentials } from './tls-credentials';

export type MetricsScrapeResult = { ok: true; text: string } | { ok: false; failure: EtcdFailure };

/** etcd 3.4 serves ~150 KiB; anything past this is not a member's /metrics. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

const TLS_CODE = /^(?:ERR_SSL_|ERR_TLS_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|EPROTO$)/;
const TLS_WORDS = /certificate|ssl|tls|handshake|self[- ]signed|alert|unknown ca|bad ca/i;

// Worded as lib/etcd/etcd-error.ts words the same socket errors for gRPC calls.

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim().slice(0, 300);
}

// OpenSSL words errors as "<hex>:error:<code>:<library>:<function>:<reason>:<file>:<line>:"; the reason is what matters.
const OPENSSL_REASON = /error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/;
const TLS_HINTS: Array<[RegExp, string]> = [
  [
    /alert (?:bad certificate|certificate required|unknown ca|certificate unknown)/,
    'the member refused the client certificate (none sent, or not signed by a CA it trusts)',
  ],
  [/wrong version number/, 'the port does not speak TLS (is it the plain-HTTP metrics URL?)'],
  [/no start line|bad base64 decode|bad end line/, 'the CA, certificate or key is not readable PEM'],
];

function describeSocketError(err: Error & { code?: unknown }): EtcdFailure {
  const code = typeof err.code === 'string' ? err.code : '';
  const message = firstLine(err.message);
  const reason = OPENSSL_REASON.exec(message)?.[1] ?? (message || code || err.name);
  // Socket codes first: a host name such as "tls-etcd.example" must not make a refused connection a TLS failure.
  const plain = SOCKET_ERRORS[code];
  if (plain) return { kind: 'unreachable', message: `${plain} (${reason})` };
  if (TLS_CODE.test(code) || TLS_WORDS.test(reason)) {
    const hint = TLS_HINTS.find(([pattern]) => pattern.test(reason))?.[1];
    return { kind: 'tls', message: `TLS handshake failed: ${hint ? `${hint} (${reason})` : reason}` };
  }
  return { kind: 'error', message: reason };
}

/** GETs `url` within `timeoutMs` (connect, headers and body together). Never throws. */
export async function scrapeMetrics(
  url: string,
  credentials: TlsCredentials | null,
  timeoutMs: number,
): Promise<MetricsScrapeResult> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, failure: { kind: 'error', message: `not a URL: ${firstLine(url)}` } };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return {
      ok: false,
      failure: { kind: 'error', message: `unsupported scheme ${target.protocol} (use http or https)` },
    };
  }

  return new Promise<MetricsScrapeResult>((resolve) => {
    let settled = false;
    let req: http.ClientRequest | undefined;
    const finish = (result: MetricsScrapeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const fail = (failure: EtcdFailure) => {
      finish({ ok: false, failure });
      req?.destroy();
    };
    const timer = setTimeout(
      () =>
        fail({ kind: 'timeout', message: `no answer within ${timeoutMs} ms (member hung, overloaded or partitioned)` }),
      timeoutMs,
    );

    const options: https.RequestOptions & Pick<tls.ConnectionOptions, 'secureContext'> = {
      method: 'GET',
      headers: { accept: 'text/plain; version=0.0.4' },
      // A fresh connection per scrape: a pooled one would hide a member that stopped accepting connections.
      agent: false,
    };
    const send = target.protocol === 'https:' ? https.request : http.request;
    const onResponse = (res: http.IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        fail({ kind: 'error', message: `metrics endpoint answered HTTP ${status} ${res.statusMessage ?? ''}`.trim() });
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
        fail({ kind: 'error', message: `metrics body of ${declared} bytes is over the 8 MiB limit` });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          fail({ kind: 'error', message: 'metrics body is over the 8 MiB limit' });
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => fail(describeSocketError(err)));
      res.on('close', () => {
        if (!res.complete) fail({ kind: 'unreachable', message: 'connection closed before the body ended' });
      });
    };
    try {
      // Unreadable TLS material throws here, synchronously.
      if (target.protocol === 'https:' && credentials) options.secureContext = secureContextOf(credentials);
      req = send(target, options, onResponse);
    } catch (err) {
      fail(describeSocketError(err instanceof Error ? err : new Error(String(err))));
      return;
    }
    req.on('error', (err) => fail(describeSocketError(err)));
    req.end();
  });
}
