// Reads a JSON request body against a zod schema; a bad body is a 400 naming the field, never a 500.
import 'server-only';
import type { z } from 'zod';
import { badRequest } from './api-error';

const MAX_BODY_BYTES = 64 * 1024;

export async function parseJsonBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const type = req.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/json')) {
    throw badRequest('the body must be JSON (Content-Type: application/json)');
  }
  const text = await req.text();
  if (text.length > MAX_BODY_BYTES) throw badRequest(`the body is over ${MAX_BODY_BYTES / 1024} KiB`);
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
