// Keeps receiver secrets (tokens in webhook URLs, header values) out of everything the dashboard records or shows.
import 'server-only';
import type { Receiver } from '@/lib/config/receiver-schema';

const MASK = '…';
// Shorter values are not worth a search-and-replace that would mangle ordinary words in a reason.
const MIN_SECRET_CHARS = 4;
// `Bearer <token>`, `Basic <base64>`, `GenieKey <key>`: an auth scheme (an RFC 9110 token) and the credentials.
const AUTH_SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\s+(\S.*)$/;

/** Origin and the first path segment, the rest masked: https://hooks.slack.com/services/… */
export function maskUrl(url: string): string {
  if (!URL.canParse(url)) return '(not a URL)';
  const u = new URL(url);
  // Tokens sit anywhere in a path (Slack: /services/T…/B…/secret, Telegram: /bot<token>/sendMessage): only the
  // first segment is shown, everything after it is one mask.
  const segments = u.pathname.split('/').filter((s) => s !== '');
  if (segments.length === 0) return u.origin + '/';
  if (segments.length === 1) return `${u.origin}/${MASK}`;
  return `${u.origin}/${segments[0]}/${MASK}`;
}

/** Every part of the receiver's configuration that may be a secret, in the forms it may appear in text. */
export function receiverSecrets(receiver: Receiver): string[] {
  const found = new Set<string>([receiver.url]);
  if (URL.canParse(receiver.url)) {
    const u = new URL(receiver.url);
    found.add(u.href);
    const segment = u.pathname.split('/').findLast((s) => s !== '');
    if (segment) found.add(segment);
    for (const value of u.searchParams.values()) found.add(value);
    if (u.search) found.add(u.search);
    if (u.username) found.add(u.username);
    if (u.password) found.add(u.password);
  }
  if (receiver.type === 'webhook') {
    for (const raw of Object.values(receiver.headers ?? {})) {
      // Sent trimmed, so errors and echoes show it trimmed; an answer may also echo the credentials without the scheme.
      const value = raw.trim();
      found.add(raw).add(value);
      const credentials = AUTH_SCHEME.exec(value)?.[1];
      if (credentials) found.add(credentials);
    }
  }
  for (const s of [...found]) {
    try {
      found.add(decodeURIComponent(s));
    } catch {
      // Not percent-encoded text: the raw form is already listed.
    }
    found.add(encodeURIComponent(s));
  }
  // Longest first, so a URL is masked whole before its token is.
  return [...found].filter((s) => s.length >= MIN_SECRET_CHARS).sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of each secret masked. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(MASK);
  return out;
}
