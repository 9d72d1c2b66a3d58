// A database URL fit for a log line or an error message: its password masked, wherever the URL carries it.
/** The URL with its password (user info, or a `password` query parameter) replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    // Anything else may be a password pasted on its own ("user:pass" parses as a URL): shown as nothing.
    if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return '(a DATABASE_URL that is not postgres://…)';
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (/pass/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return '(a DATABASE_URL that is not postgres://…)';
  }
}
