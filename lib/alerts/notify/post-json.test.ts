// One POST against real HTTP servers on loopback (ephemeral ports; 25061 is used as a closed one): what comes back
// for each kind of answer, or for none.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { postJson, type PostResult } from './post-json';
import { startReceiver, type Answer, type TestReceiver } from '@/test/support/test-receiver';

const CLOSED_PORT = 25061;
const T0 = Date.parse('2025-03-01T12:05:00.000Z');
// Requests that are answered get a long timeout (it costs nothing, and under load a short one can expire); the tests of
// the timeout itself pass a short one.

const started: TestReceiver[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all([...started.splice(0).map((r) => r.close()), ...cleanups.splice(0).map((c) => c())]);
});

async function receiver(answer: Answer | (() => Answer)): Promise<TestReceiver> {
  const r = await startReceiver(0, typeof answer === 'function' ? answer : () => answer);
  started.push(r);
  return r;
}

const post = (url: string, opts: Partial<Parameters<typeof postJson>[1]> = {}, headers: Record<string, string> = {}) =>
  postJson({ url, headers, body: { version: 1, alerts: [] } }, { timeoutMs: 5000, now: () => T0, ...opts });

describe('postJson', () => {
  it('POSTs the body as JSON with the given headers, and reports a 2xx as delivered', async () => {
    const r = await receiver({ status: 202, body: 'queued' });
    const result = await post(`${r.origin}/hook?x=1`, {}, { Authorization: 'Bearer abc', 'X-Team': 'storage' });
    expect(result).toEqual({ ok: true, status: 202 });
    const [req] = r.requests;
    expect(req).toMatchObject({ method: 'POST', url: '/hook?x=1', body: { version: 1, alerts: [] } });
    expect(req?.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: 'Bearer abc',
      'x-team': 'storage',
    });
  });

  it.each([
    [500, 'Internal Server Error', true],
    [502, 'Bad Gateway', true],
    [503, 'Service Unavailable', true],
    [408, 'Request Timeout', true],
    [429, 'Too Many Requests', true],
    [400, 'Bad Request', false],
    [401, 'Unauthorized', false],
    [404, 'Not Found', false],
    [413, 'Payload Too Large', false],
  ])('reports a %i with what the receiver said; retryable: %s', async (status, text, retryable) => {
    const r = await receiver({ status, body: 'no_service\nsecond line' });
    expect(await post(r.origin)).toEqual({
      ok: false,
      status,
      reason: `HTTP ${status} ${text}: no_service`,
      retryable,
      retryAfterMs: null,
    });
  });

  it.each([
    ['120', 120_000],
    ['0', 0],
    [new Date(T0 + 90_000).toUTCString(), 90_000],
    [new Date(T0 - 90_000).toUTCString(), 0],
    ['soon', null],
  ])('reads Retry-After %j as %j ms', async (value, ms) => {
    const r = await receiver({ status: 429, headers: { 'retry-after': value } });
    expect(await post(r.origin)).toMatchObject({ ok: false, status: 429, retryAfterMs: ms });
  });

  it('keeps one short line of the answer: no HTML, no control characters, at most 200 characters', async () => {
    const html = await receiver({
      status: 502,
      body: '<html><body>nginx</body></html>',
      headers: { 'content-type': 'text/html' },
    });
    expect(await post(html.origin)).toMatchObject({ reason: 'HTTP 502 Bad Gateway' });

    const tabs = await receiver({ status: 400, body: 'bad\tfield\u0007 "x"\r\nmore' });
    expect(await post(tabs.origin)).toMatchObject({ reason: 'HTTP 400 Bad Request: bad field  "x"' });

    const long = await receiver({ status: 400, body: 'y'.repeat(5000) });
    expect(await post(long.origin)).toMatchObject({ reason: `HTTP 400 Bad Request: ${'y'.repeat(200)}…` });
  });

  it('redacts the answer before cutting it short, so no part of a secret is left', async () => {
    const r = await receiver({ status: 403, body: `${'x'.repeat(190)} token=SECRET-TOKEN-123` });
    const result = await post(r.origin, { redact: (text) => text.split('SECRET-TOKEN-123').join('…') });
    expect(result).toMatchObject({ reason: `HTTP 403 Forbidden: ${'x'.repeat(190)} token=…` });
  });

  it('does not follow a redirect', async () => {
    const elsewhere = await receiver({ status: 200 });
    const r = await receiver({ status: 302, headers: { location: `${elsewhere.origin}/stolen` } });
    expect(await post(r.origin, {}, { Authorization: 'Bearer abc' })).toEqual({
      ok: false,
      status: 302,
      reason: 'HTTP 302 Found: the receiver redirects; configure the URL it redirects to',
      retryable: false,
      retryAfterMs: null,
    });
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('times out a receiver that never answers, and closes the request', async () => {
    const r = await receiver('hang');
    const began = performance.now();
    expect(await post(r.origin, { timeoutMs: 200 })).toEqual({
      ok: false,
      status: null,
      reason: 'timed out: no complete answer within 200 ms',
      retryable: true,
      retryAfterMs: null,
    });
    expect(performance.now() - began).toBeGreaterThanOrEqual(199);
    await vi.waitFor(() => expect(r.requests[0]?.abandoned).toBe(true), { timeout: 5000 });
  });

  it('times out an error answer whose body never ends: the timeout covers the body too', async () => {
    const sockets = new Set<Socket>();
    const server = http.createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.write('partial'); // and never more
    });
    server.on('connection', (s: Socket) => sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    );
    const { port } = server.address() as AddressInfo;
    expect(await post(`http://127.0.0.1:${port}/`, { timeoutMs: 200 })).toMatchObject({
      ok: false,
      status: null,
      reason: 'timed out: no complete answer within 200 ms',
      retryable: true,
    });
  });

  it('gives up at once when the signal aborts, in flight or before', async () => {
    const r = await receiver('hang');
    const stop = new AbortController();
    const pending = post(r.origin, { timeoutMs: 10_000, signal: stop.signal });
    await vi.waitFor(() => expect(r.requests).toHaveLength(1), { timeout: 5000 });
    stop.abort();
    const cancelled: PostResult = {
      ok: false,
      status: null,
      reason: 'cancelled: notifications were stopped',
      retryable: false,
      retryAfterMs: null,
    };
    expect(await pending).toEqual(cancelled);
    await vi.waitFor(() => expect(r.requests[0]?.abandoned).toBe(true), { timeout: 5000 });

    expect(await post(r.origin, { signal: stop.signal })).toEqual(cancelled);
    expect(r.requests).toHaveLength(1);
  });

  it('names a refused connection, and calls it retryable', async () => {
    expect(await post(`http://127.0.0.1:${CLOSED_PORT}/hooks/x`)).toEqual({
      ok: false,
      status: null,
      reason: `connection refused: nothing listens there (connect ECONNREFUSED 127.0.0.1:${CLOSED_PORT})`,
      retryable: true,
      retryAfterMs: null,
    });
  });

  it('reports a request that cannot be made (a header value fetch refuses) as not retryable', async () => {
    const r = await receiver({ status: 200 });
    const result = await post(r.origin, {}, { Authorization: 'Bearer a\u0000b' });
    expect(result).toMatchObject({ ok: false, status: null, retryable: false });
    expect(result.ok ? '' : result.reason).toMatch(/invalid header value/);
    expect(r.requests).toHaveLength(0);
  });
});
