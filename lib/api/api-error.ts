// A failure with an HTTP status and a stable code; the route helper turns it into the one error shape.

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

export const notFound = (what: string) => new ApiError(404, 'not_found', what);
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
