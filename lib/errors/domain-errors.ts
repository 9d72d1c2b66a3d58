// What domain code throws when it refuses: a kind (what went wrong, in the domain's words), a stable code and one
// line naming what is wrong. No HTTP here: lib/api/api-error.ts turns a kind into a status, in one place.

export const DOMAIN_ERROR_KINDS = [
  /** The input names something that does not parse or is not allowed (a field, a parameter, an id). */
  'invalid',
  /** The thing asked for does not exist (a cluster, a snapshot, a token). */
  'not-found',
  /** It exists, but its state forbids the action now (a snapshot running, a member down, already revoked). */
  'conflict',
  /** It existed and is gone for good (a snapshot's file deleted from disk). */
  'gone',
  /** There is no room to do it (the snapshot folder's filesystem). */
  'no-space',
] as const;
export type DomainErrorKind = (typeof DOMAIN_ERROR_KINDS)[number];

/** What a refusal is about, beyond its message: the snapshot that runs, for a caller that wants to follow it. */
export interface DomainErrorSubject {
  snapshotId?: string;
}

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly kind: DomainErrorKind,
    /** Stable, snake_case: "snapshot_running", "member_unavailable". */
    readonly code: string,
    message: string,
    readonly subject: DomainErrorSubject = {},
  ) {
    super(message);
  }
}

export const invalidInput = (what: string) => new DomainError('invalid', 'bad_request', what);
export const notFound = (what: string) => new DomainError('not-found', 'not_found', what);
export const conflict = (code: string, what: string, subject?: DomainErrorSubject) =>
  new DomainError('conflict', code, what, subject);
export const gone = (code: string, what: string) => new DomainError('gone', code, what);
export const noSpace = (code: string, what: string) => new DomainError('no-space', code, what);

/**
 * Next.js bundles each route separately, and the long-lived services on globalThis come from another bundle with its
 * own copy of this class: `instanceof` fails across them. Recognised by shape.
 */
export function isDomainError(err: unknown): err is DomainError {
  return (
    err instanceof Error &&
    err.name === 'DomainError' &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (DOMAIN_ERROR_KINDS as readonly unknown[]).includes((err as { kind?: unknown }).kind)
  );
}
