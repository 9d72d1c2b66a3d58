// Where the browser goes after signing in; shared with the browser, so it imports nothing server-side.

/**
 * Only a path on this dashboard may follow a sign-in, never another site: anything else is "/". Checked after the
 * URL parser has cleaned the path, since "/.//host", "/%2e//host" and "/a/..//host" all clean to "//host", which a
 * browser reads as another origin (as it reads "/\x" as "//x").
 */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.includes('\\')) return '/';
  const base = 'http://dashboard.invalid';
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return '/';
  }
  if (url.origin !== base || url.pathname.startsWith('//')) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}
