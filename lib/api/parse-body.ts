// Reads a JSON request body against a zod schema; a bad body is a 400 naming the field, a big one a 413, never a 500.
import 'server-only';
import type { z } from 'zod';
import { ApiError, badRequest, payloadTooLarge } from './api-error';

/** Every body the API takes is a small JSON object; server/server.mjs refuses a larger Content-Length earlier. */
export const MAX_BODY_BYTES = 64 * 1024;

const tooLarge = () => payloadTooLarge(`the body is over ${MAX_BODY_BYTES / 1024} KiB`);

/**
 * The body as text, never more than MAX_BODY_BYTES of it in memory: a declared Content-Length over the limit is
 * refused before reading, and a body without one is read chunk by chunk and cancelled at the limit.
 */
export async function readBodyText(req: Request): Promise<string> {
  const declared = req.headers.get('content-length')?.trim();
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  if (req.body === null) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch {
      // The client went away mid-body, or the server's request timeout cut a slow one off: the client's doing, not
      // a 500 of ours (nobody is left to read the answer, but the log and the audit log are).
      throw new ApiError(400, 'body_incomplete', 'the body ended before it was complete');
    }
    const { done, value } = next;
    if (done) break;
    bytes += value.byteLength;
    if (bytes > MAX_BODY_BYTES) {
      // Not awaited: cancelling Node's request stream can wait on the socket, and the 413 must not.
      reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  // As Request.text() decodes: UTF-8, a leading byte-order mark dropped, bad bytes replaced.
  return new TextDecoder().decode(Buffer.concat(chunks, bytes));
}

export async function parseJsonBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const type = req.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/json')) {
    throw badRequest('the body must be JSON (Content-Type: application/json)');
  }
  const text = await readBodyText(req);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw badRequest('the body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.map(String).join('.') || 'body';
    throw badRequest(`${at}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * A body that may be left out: none (or only white space) is `{}`, anything else must be JSON for `schema`.
 * Read with the body limit either way: an operator's chunked upload of any size is cut off at 64 KiB (413).
 */
export async function parseOptionalJsonBody<S extends z.ZodType>(
  req: Request,
  schema: S,
): Promise<z.infer<S> | Record<string, never>> {
  if (req.headers.get('content-type')) return parseJsonBody(req, schema);
  if ((await readBodyText(req)).trim() !== '') {
    throw badRequest('the body must be JSON (Content-Type: application/json)');
  }
  return {};
}
