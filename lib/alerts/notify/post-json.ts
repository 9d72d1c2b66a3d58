// One JSON POST to a receiver, answered as a result with a one-line reason instead of an exception.
import 'server-only';
import { formatAge } from '@/lib/format/units';

export interface JsonRequest {
  url: string;
  headers: Readonly<Record<string, string>>;
  body: unknown;
}

export type PostResult =
  | { ok: true; status: number }
  | {
      ok: false;
      /** The receiver's HTTP status; null when no answer came. */
      status: number | null;
      /** One line; may name the host, never the path or headers. */
      reason: string;
      /** False when sending the same again cannot help (the receiver refused the request itself). */
      retryable: boolean;
      /** What the receiver's Retry-After asked for. */
      retryAfterMs: number | null;
    };

// What the socket error codes mean for a notification receiver.
const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: nothing listens there',
  ECONNRESET: 'connection reset by the receiver',
  EPIPE: 'connection closed by the receiver',
  UND_ERR_SOCKET: 'connection closed by the receiver',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/;
const MAX_SNIPPET_BYTES = 2048;
const MAX_SNIPPET_CHARS = 200;

class Aborted extends Error {
  constructor(readonly why: 'timeout' | 'stopped') {
    super(why);
  }
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

function codeOf(err: unknown): string | undefined {
  const code: unknown = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** Undici wraps the socket error as `fetch failed` with a cause; happy-eyeballs wraps it once more. */
function rootCause(err: unknown): unknown {
  let e = err;
  for (let depth = 0; depth < 4; depth++) {
    if (e instanceof AggregateError && e.errors[0] !== undefined) e = e.errors[0];
    else if (e instanceof Error && e.cause !== undefined) e = e.cause;
    else break;
  }
  return e;
}

function describeFailure(err: unknown): string {
  const cause = rootCause(err);
  const code = codeOf(cause);
  const message = cause instanceof Error ? firstLine(cause.message) : firstLine(String(cause));
  if (code && SOCKET_ERRORS[code]) return `${SOCKET_ERRORS[code]} (${message || code})`;
  if (code && TLS_CODES.test(code)) return `TLS handshake failed: ${message || code}`;
  return message || (err instanceof Error ? err.name : 'request failed');
}

function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const seconds = Number(value.trim());
  if (value.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** The start of an error body, which often says what is wrong ("invalid_token", "no_service"); HTML pages say nothing. */
async function readSnippet(res: Response, redact: (text: string) => string): Promise<string> {
  if (!res.body || /html/i.test(res.headers.get('content-type') ?? '')) {
    await res.body?.cancel();
    return '';
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < MAX_SNIPPET_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel();
  const text = Buffer.concat(chunks).toString('utf8', 0, Math.min(size, MAX_SNIPPET_BYTES));
  // Redacted before it is cut short: a secret cut in two would no longer be found.
  const line = redact(firstLine(text.replace(/\r/g, '')).replace(/[\u0000-\u001f\u007f]/g, ' '));
  return line.length > MAX_SNIPPET_CHARS ? `${line.slice(0, MAX_SNIPPET_CHARS)}…` : line;
}

// 408 and 429 are the receiver saying "not now"; every other 3xx/4xx is about the request, which will not change.
const retryableStatus = (status: number) => status >= 500 || status === 408 || status === 429;

/**
 * POSTs `body` as JSON; gives up after `timeoutMs` (headers and body together) or when `signal` aborts. `redact` masks
 * secrets in the start of an error answer before it is shortened for the reason.
 */
export async function postJson(
  req: JsonRequest,
  opts: { timeoutMs: number; signal?: AbortSignal; now?: () => number; redact?: (text: string) => string },
): Promise<PostResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Aborted('timeout')), opts.timeoutMs);
  timer.unref();
  const onStop = () => controller.abort(new Aborted('stopped'));
  if (opts.signal?.aborted) onStop();
  opts.signal?.addEventListener('abort', onStop, { once: true });
  try {
    const res = await fetch(req.url, {
      method: 'POST',
      headers: { ...req.headers, 'content-type': 'application/json' },
      body: JSON.stringify(req.body),
      signal: controller.signal,
      // A redirect would carry the alert (and any Authorization header) somewhere nobody configured.
      redirect: 'manual',
    });
    if (res.ok) {
      await res.body?.cancel();
      return { ok: true, status: res.status };
    }
    const snippet = await readSnippet(res, opts.redact ?? ((text) => text));
    const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    const redirect = res.status >= 300 && res.status < 400;
    return {
      ok: false,
      status: res.status,
      reason: redirect
        ? `${status}: the receiver redirects; configure the URL it redirects to`
        : `${status}${snippet ? `: ${snippet}` : ''}`,
      retryable: retryableStatus(res.status),
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), (opts.now ?? Date.now)()),
    };
  } catch (err) {
    const aborted: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
    if (aborted instanceof Aborted) {
      const reason =
        aborted.why === 'timeout'
          ? `timed out: no complete answer within ${opts.timeoutMs < 1000 ? `${opts.timeoutMs} ms` : formatAge(opts.timeoutMs)}`
          : 'cancelled: notifications were stopped';
      return { ok: false, status: null, reason, retryable: aborted.why === 'timeout', retryAfterMs: null };
    }
    // Undici reports network failures as a TypeError with a cause; without one the request itself was unsendable.
    const network = err instanceof Error && err.cause !== undefined;
    return { ok: false, status: null, reason: describeFailure(err), retryable: network, retryAfterMs: null };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onStop);
  }
}
