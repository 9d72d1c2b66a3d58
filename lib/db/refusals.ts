// Telling a write the database will refuse however often it is asked from one it refuses now (it is down).

/**
 * A refusal the database will repeat: the row itself is wrong (a constraint, a value the column cannot hold), not the
 * database unavailable. RangeError (our own checks), SQLite's constraint and type errors, and PostgreSQL's SQLSTATE
 * classes 22 (data exception, such as a NUL byte in text) and 23 (integrity constraint violation).
 */
export function refusedForGood(err: unknown): boolean {
  if (err instanceof RangeError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (/^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG)/.test(code)) return true;
  return /^2[23][0-9A-Z]{3}$/.test(code);
}
