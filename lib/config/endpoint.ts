// Parses an etcd client endpoint the way etcdctl accepts it: https://host:port, http://host:port or host:port.
import { ConfigError } from './config-error';

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The endpoint as written with its password (if any) as ***, for messages that land in the log and the API's answers.
 * Everything between the user's colon and the last "@" is masked: a password may hold "/", "?", "#" or "@" unescaped.
 */
function withPasswordMasked(text: string): string {
  const scheme = SCHEME.exec(text)?.[0] ?? '';
  const rest = text.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  const colon = rest.indexOf(':');
  if (at < 0 || colon < 0 || colon > at) return text;
  return `${scheme}${rest.slice(0, colon)}:***${rest.slice(at)}`;
}

/** `tlsConfigured`: a CA, certificate or key is given, so the connection will use TLS. */
export function parseEndpoint(raw: string, label: string, tlsConfigured: boolean): string {
  const text = raw.trim();
  if (text === '') throw new ConfigError(`${label}: empty endpoint`);
  const shown = withPasswordMasked(text);
  const withScheme = SCHEME.test(text) ? text : `${tlsConfigured ? 'https' : 'http'}://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(`${label}: "${shown}" is not a valid endpoint (expected https://host:port)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`${label}: "${shown}" has scheme ${url.protocol.slice(0, -1)}; use https:// or http://`);
  }
  if (!url.hostname) throw new ConfigError(`${label}: "${shown}" has no host`);
  // URL drops a scheme's default port (https://h:443 has port ''), so look at what was written.
  const authority = withScheme.replace(/^[^:]+:\/\//, '').split(/[/?#]/)[0] ?? '';
  const explicitPort = /:\d+$/.test(authority);
  if (!explicitPort) throw new ConfigError(`${label}: "${shown}" has no port (etcd's client port is usually 2379)`);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(`${label}: "${shown}" must be scheme://host:port with no path, query or credentials`);
  }
  if (url.protocol === 'http:' && tlsConfigured) {
    throw new ConfigError(`${label}: "${shown}" is plain http but TLS files are configured; use https://`);
  }
  return `${url.protocol}//${url.hostname}:${port}`;
}
