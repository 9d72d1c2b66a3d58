// Fetches one of the dashboard's own JSON endpoints; a failure carries the status and the API's message.
import { isApiErrorBody } from '@/lib/api/error-shape';

/** The code of a failure whose body is not the API's error shape (a proxy's error page, say): only its status is known. */
export const HTTP_ERROR = 'http_error';

export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function fetchJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(url, { signal, cache: 'no-store', headers: { Accept: 'application/json' } });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    if (isApiErrorBody(body)) throw new ApiRequestError(res.status, body.error.code, body.error.message);
    throw new ApiRequestError(res.status, HTTP_ERROR, `HTTP ${res.status}`);
  }
  return body as T;
}

/** Sends JSON (or nothing) with a method; a failure carries the API's message. */
export async function sendJson<T>(
  url: string,
  method: 'POST' | 'DELETE' | 'PUT' | 'PATCH',
  body?: unknown,
): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const parsed: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    if (isApiErrorBody(parsed)) throw new ApiRequestError(res.status, parsed.error.code, parsed.error.message);
    throw new ApiRequestError(res.status, HTTP_ERROR, `HTTP ${res.status}`);
  }
  return parsed as T;
}
