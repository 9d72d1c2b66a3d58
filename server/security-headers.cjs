// The security headers, in one place: next.config.js sends them on every Next.js answer, and server/server.mjs on
// the answers it writes itself (the refused undecodable path, the status fast path).

/** On every response, static files included. */
const COMMON_HEADERS = [
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'no-referrer' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=()' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
];

/** For anything that is not a page: API answers are JSON, never documents. */
const NOTHING_ALLOWED_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** What server.mjs sends with a JSON answer it writes itself, as Node's writeHead takes it. */
function apiHeaders() {
  const headers = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
  for (const { key, value } of COMMON_HEADERS) headers[key] = value;
  headers['Content-Security-Policy'] = NOTHING_ALLOWED_POLICY;
  return headers;
}

module.exports = { COMMON_HEADERS, NOTHING_ALLOWED_POLICY, apiHeaders };
