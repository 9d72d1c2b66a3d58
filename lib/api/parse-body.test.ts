import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError } from './api-error';
import { parseJsonBody } from './parse-body';

const KiB = 1024;
const schema = z.strictObject({ username: z.string(), password: z.string() });

/** A body that would go on for `chunks` chunks of `chunkBytes`, counting how many the reader pulled. */
function endlessBody(chunks: number, chunkBytes = 16 * KiB) {
  const stats = { pulled: 0, cancelled: false };
  const chunk = new TextEncoder().encode(' '.repeat(chunkBytes));
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (stats.pulled === chunks) return controller.close();
        stats.pulled++;
        controller.enqueue(chunk);
      },
      cancel() {
        stats.cancelled = true;
      },
    },
    // Pulled only when read, so the count is what the reader asked for.
    { highWaterMark: 0 },
  );
  return { stream, stats };
}

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request('http://dashboard.test/api/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
}

async function failure(req: Request): Promise<ApiError> {
  try {
    await parseJsonBody(req, schema);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('parseJsonBody accepted the body');
}

describe('parseJsonBody: reads at most 64 KiB of a body', () => {
  it('stops reading a streamed body at the limit and answers 413 payload_too_large', async () => {
    // 300 MB if read to the end, as in the security review's POST to /api/auth/login.
    const { stream, stats } = endlessBody(300 * 64);
    const err = await failure(post(stream));
    // 64 KiB is four 16 KiB chunks: the fifth goes over, and no more are asked for.
    expect(stats.pulled).toBeLessThanOrEqual(6);
    expect(stats.cancelled).toBe(true);
    expect({ status: err.status, code: err.code, message: err.message }).toEqual({
      status: 413,
      code: 'payload_too_large',
      message: 'the body is over 64 KiB',
    });
  });

  it('refuses a Content-Length over the limit without reading the body at all', async () => {
    const { stream, stats } = endlessBody(300 * 64);
    const err = await failure(post(stream, { 'Content-Length': String(300 * 1024 * KiB) }));
    expect(stats.pulled).toBe(0);
    expect([err.status, err.code]).toEqual([413, 'payload_too_large']);
  });

  it('reads a body of exactly 64 KiB, counted in bytes, not characters', async () => {
    const body = JSON.stringify({ username: 'alice', password: '' });
    const padded = body.slice(0, -1) + ' '.repeat(64 * KiB - body.length) + '}';
    expect(await parseJsonBody(post(padded), schema)).toEqual({ username: 'alice', password: '' });

    // 22 000 three-byte characters: under 64 K characters, over 64 KiB.
    const wide = JSON.stringify({ username: 'alice', password: '€'.repeat(22_000) });
    expect((await failure(post(wide))).status).toBe(413);
  });

  it('keeps the 400s naming what is wrong for a body under the limit', async () => {
    expect((await failure(post('{"username": "alice"'))).message).toBe('the body is not valid JSON');
    expect((await failure(post('{"username": "alice"}'))).message).toMatch(/^password: /);
    expect((await failure(post('{}', { 'Content-Type': 'text/plain' }))).code).toBe('bad_request');
    expect((await failure(post(null))).message).toBe('the body is not valid JSON');
  });

  // The security review's slow body: the server's request timeout destroys the socket, and the read fails.
  it('a body that breaks off (the client gone, or cut off by the request timeout) is a 400, not a 500', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"username": "al'));
        setTimeout(() => controller.error(new Error('aborted')), 10);
      },
    });
    expect(await failure(post(stream))).toMatchObject({
      status: 400,
      code: 'body_incomplete',
      message: 'the body ended before it was complete',
    });
  });
});
