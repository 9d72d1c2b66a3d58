// Wraps a route handler: ApiError becomes its status and the one error shape; anything else a logged 500
// whose body says nothing about internals.
import 'server-only';
import { NextResponse } from 'next/server';
import { isApiError, isNamedError } from './api-error';
import type { ApiErrorBody } from './error-shape';

export function errorResponse(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): NextResponse<ApiErrorBody> {
  return NextResponse.json(
    { error: { code, message } },
    { status, headers: { 'Cache-Control': 'no-store', ...headers } },
  );
}

export function json<T>(body: T, status = 200): NextResponse<T> {
  return NextResponse.json(body, { status, headers: { 'Cache-Control': 'no-store' } });
}

export interface ErrorAnswer {
  status: number;
  body: ApiErrorBody;
  headers: Record<string, string>;
}

/** What a thrown error becomes: ApiError its own status, known failures 503, anything else a 500 that says nothing. */
export function errorAnswer(err: unknown): ErrorAnswer {
  const answer = (status: number, code: string, message: string, headers: Record<string, string> = {}) => ({
    status,
    body: { error: { code, message } },
    headers,
  });
  if (isApiError(err)) return answer(err.status, err.code, err.message, err.headers ?? {});
  // A from/to the client sent that does not parse: its message names the parameter and the value.
  if (isNamedError(err, 'TimeRangeError')) return answer(400, 'bad_request', err.message);
  if (isNamedError(err, 'ConfigError')) return answer(503, 'config_error', err.message);
  if (isNamedError(err, 'DatabaseError')) return answer(503, 'database_unavailable', err.message);
  // Only the class name reaches the log: a message could quote data we must not print.
  console.error(`unhandled error in route: ${err instanceof Error ? err.name : typeof err}`);
  return answer(500, 'internal', 'internal error; see the server log');
}

export function handleRoute<A extends unknown[]>(
  fn: (...args: A) => Promise<Response> | Response,
): (...args: A) => Promise<Response> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      const { status, body, headers } = errorAnswer(err);
      return errorResponse(status, body.error.code, body.error.message, headers);
    }
  };
}
