// Small request checks of scripts/server.mjs, in their own module so they can be tested without starting a server.

/** The path segment whose percent-escapes do not decode (`%zz`, `%c0%ae`, a lone `%`), or null when all do. */
export function undecodableSegment(url) {
  const path = (url ?? '/').split('?')[0];
  for (const segment of path.split('/')) {
    try {
      decodeURIComponent(segment);
    } catch {
      return segment;
    }
  }
  return null;
}

/** Whether an Accept-Encoding header allows gzip: named, or `*`, with a quality above 0. */
export function acceptsGzip(header) {
  if (typeof header !== 'string') return false;
  for (const entry of header.split(',')) {
    const [name = '', ...params] = entry.split(';').map((p) => p.trim().toLowerCase());
    if (name !== 'gzip' && name !== '*') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}
