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

/**
 * The database is out of reach now, not refusing the request itself: a connection refused, reset, cut or timed out,
 * PostgreSQL shutting down or starting (SQLSTATE classes 08 and 57P), or the pool giving up waiting for a connection.
 * Returns the short reason to name (a code, never the URL), or null for any other error.
 */
export function databaseUnreachable(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(code)) return code;
    if (/^(08[0-9A-Z]{3}|57P0[1-3])$/.test(code)) return `SQLSTATE ${code}`;
  }
  const message = err instanceof Error ? err.message : '';
  if (
    /^Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
      message,
    )
  ) {
    return message.split('\n')[0] ?? 'connection lost';
  }
  return null;
}
