// Wraps a route handler: ApiError becomes its status and the one error shape; anything else a logged 500
// whose body says nothing about internals.
import 'server-only';
import { NextResponse } from 'next/server';
import { classifyError } from './api-error';
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

/** `body` is never a Promise (one would be sent as `{}`): an async read's answer is awaited first. */
export function json<T>(body: T extends PromiseLike<unknown> ? never : T, status = 200): NextResponse<T> {
  return NextResponse.json(body, { status, headers: { 'Cache-Control': 'no-store' } });
}

export interface ErrorAnswer {
  status: number;
  body: ApiErrorBody;
  headers: Record<string, string>;
}

/** The answer to a thrown error (classifyError); a 500 is logged by the class name alone. */
export function errorAnswer(err: unknown): ErrorAnswer {
  const { status, code, message, headers } = classifyError(err);
  // Only the class name reaches the log: a message could quote data we must not print.
  if (status === 500) console.error(`unhandled error in route: ${err instanceof Error ? err.name : typeof err}`);
  return { status, body: { error: { code, message } }, headers };
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
