// The TLS material a cluster's clients present: file contents held in memory, never logged or returned.
import 'server-only';
import tls from 'node:tls';

export interface TlsCredentials {
  /** CA bundle that signs the members' server certificates; null means the system roots. */
  ca: Buffer | null;
  cert: Buffer | null;
  key: Buffer | null;
}

/**
 * One TLS context per cluster's credentials, made once and shared by everything that connects to its members (the
 * gRPC channels, the metrics scrapes, the server-certificate reads): the CA, certificate and key are parsed at the
 * first connection, not at every one (a fleet's collectors open thousands). The system roots when `ca` is null.
 */
const secureContexts = new WeakMap<TlsCredentials, tls.SecureContext>();
export function secureContextOf(credentials: TlsCredentials): tls.SecureContext {
  let context = secureContexts.get(credentials);
  if (!context) {
    context = tls.createSecureContext({
      ca: credentials.ca ?? undefined,
      cert: credentials.cert ?? undefined,
      key: credentials.key ?? undefined,
    });
    secureContexts.set(credentials, context);
  }
  return context;
}
