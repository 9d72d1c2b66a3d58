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
