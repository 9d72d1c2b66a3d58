// A failure with an HTTP status and a stable code, and the one mapper from every thrown error to a status: domain
// errors by their kind, ApiError (the HTTP edge: sign-in, roles, bodies) by its own status.
import { isDomainError, type DomainErrorKind } from '@/lib/errors/domain-errors';
import { databaseUnreachable } from '@/lib/db/refusals';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, such as Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (what: string) => new ApiError(400, 'bad_request', what);
export const payloadTooLarge = (what: string) => new ApiError(413, 'payload_too_large', what);

/**
 * Next.js bundles each route separately, and the long-lived objects on globalThis (collectors, the snapshot manager)
 * come from another bundle with its own copy of this class: `instanceof` fails across them. Recognise it by shape.
 */
export function isApiError(err: unknown): err is ApiError {
  return (
    err instanceof Error &&
    err.name === 'ApiError' &&
    typeof (err as { status?: unknown }).status === 'number' &&
    typeof (err as { code?: unknown }).code === 'string'
  );
}

/** The same test by name for the other error classes that cross bundles. */
export function isNamedError(err: unknown, name: string): err is Error {
  return err instanceof Error && err.name === name;
}

export interface ErrorSummary {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
}

const STATUS_OF_KIND: Record<DomainErrorKind, number> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  gone: 410,
  'no-space': 507,
};

/**
 * What a thrown error becomes: a domain error the status of its kind, ApiError its own status, a broken configuration
 * or database 503, anything else a 500 that says nothing.
 */
export function classifyError(err: unknown): ErrorSummary {
  const summary = (status: number, code: string, message: string, headers: Record<string, string> = {}) => ({
    status,
    code,
    message,
    headers,
  });
  if (isDomainError(err)) {
    const running = err.subject?.snapshotId;
    return summary(STATUS_OF_KIND[err.kind], err.code, err.message, running ? { 'X-Snapshot-Id': running } : {});
  }
  if (isApiError(err)) return summary(err.status, err.code, err.message, err.headers ?? {});
  if (isNamedError(err, 'ConfigError')) return summary(503, 'config_error', err.message);
  if (isNamedError(err, 'DatabaseError')) return summary(503, 'database_unavailable', err.message);
  const unreachable = databaseUnreachable(err);
  if (unreachable) {
    return summary(
      503,
      'database_unavailable',
      `the dashboard database does not answer (${unreachable}): history, events and records are unavailable; the live view goes on`,
    );
  }
  return summary(500, 'internal', 'internal error; see the server log');
}

/** An audit row's details for an action that failed with `err`: what the caller was answered (and a 500's class). */
export function failureDetails(err: unknown): Record<string, unknown> {
  const { status, code, message } = classifyError(err);
  return {
    status,
    code,
    reason: message,
    ...(status === 500 ? { error: err instanceof Error ? err.name : typeof err } : {}),
  };
}
