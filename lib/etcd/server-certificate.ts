// A member's server certificate as the TLS handshake presents it: only its expiry and names, never its contents.
import 'server-only';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { secureContextOf, type TlsCredentials } from './tls-credentials';

export type ServerCertificateResult =
  { ok: true; validTo: string; subject: string | null; fingerprint256: string } | { ok: false; reason: string };

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The trust anchors the handshake used: the configured CA bundle, or the system roots when there is none. */
function trustAnchors(ca: Buffer | null): X509Certificate[] {
  const pems = ca ? (ca.toString('latin1').match(PEM_CERTIFICATE) ?? []) : tls.rootCertificates;
  const anchors: X509Certificate[] = [];
  for (const pem of pems) {
    try {
      anchors.push(new X509Certificate(pem));
    } catch {
      // An unreadable entry in the bundle anchors nothing (OpenSSL would not have loaded it either).
    }
  }
  return anchors;
}

const signedBy = (cert: X509Certificate, issuer: X509Certificate) =>
  cert.checkIssued(issuer) && cert.verify(issuer.publicKey);

/**
 * Whether the presented chain leads from the leaf to one of the anchors through valid signatures, ignoring only
 * validity dates. OpenSSL reports just the last verification error, so an expired certificate from a foreign CA
 * also says CERT_HAS_EXPIRED: the chain has to be checked here before the expiry is believed.
 */
function chainsToAnchor(peer: tls.DetailedPeerCertificate, anchors: X509Certificate[]): boolean {
  const presented: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: tls.DetailedPeerCertificate | undefined = peer; c?.raw && !seen.has(c.fingerprint256);) {
    seen.add(c.fingerprint256);
    try {
      presented.push(new X509Certificate(c.raw));
    } catch {
      return false;
    }
    c = c.issuerCertificate;
  }
  let current = presented[0];
  for (let depth = 0; current && depth < 10; depth++) {
    const cur = current;
    if (anchors.some((a) => a.fingerprint256 === cur.fingerprint256 || signedBy(cur, a))) return true;
    current = presented.find((i) => i !== cur && i.ca && signedBy(cur, i));
  }
  return false;
}

/**
 * Opens a TLS connection to a member's client URL (https://host:port) with the cluster's own CA and client
 * certificate, reads the certificate the member presents, and closes. The handshake is the member's real answer:
 * a certificate renewed on disk but not yet loaded by etcd still shows its old expiry here.
 *
 * The chain is verified here rather than by aborting the handshake, so that an EXPIRED certificate from the
 * cluster's CA is still read (and alerted on) instead of becoming unknown the moment it expires. Any other
 * verification failure (a foreign CA, a name the certificate does not carry) is still a failure.
 */
export function readServerCertificate(
  endpoint: string,
  credentials: TlsCredentials | null,
  timeoutMs: number,
): Promise<ServerCertificateResult> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return Promise.resolve({ ok: false, reason: `endpoint "${endpoint}" is not a URL` });
  }
  if (url.protocol !== 'https:') return Promise.resolve({ ok: false, reason: `endpoint "${endpoint}" is not https` });
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 2379);
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ServerCertificateResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    let socket: tls.TLSSocket;
    const servername = /^[\d.]+$|:/.test(host) ? undefined : host;
    try {
      socket = tls.connect({
        host,
        port,
        // SNI only for names; IP endpoints are verified against the certificate's IP SANs.
        servername,
        // The cluster's one TLS context (CA, certificate and key parsed once), as its gRPC channels and scrapes use.
        ...(credentials ? { secureContext: secureContextOf(credentials) } : {}),
        ALPNProtocols: ['h2'],
        // Verified in 'secureConnect' below, so that an expired certificate can still be read.
        rejectUnauthorized: false,
      });
    } catch (err) {
      // A key or certificate Node cannot load throws here rather than emitting 'error'.
      resolve({ ok: false, reason: `TLS setup for ${url.host} failed: ${(err as Error).message.split('\n')[0]}` });
      return;
    }
    const timer = setTimeout(
      () => done({ ok: false, reason: `no TLS handshake with ${url.host} within ${timeoutMs} ms` }),
      timeoutMs,
    );
    const failed = (code: unknown) =>
      done({ ok: false, reason: `TLS handshake with ${url.host} failed: ${String(code)}` });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(true);
      if (!socket.authorized) {
        // A string code such as UNABLE_TO_VERIFY_LEAF_SIGNATURE or ERR_TLS_CERT_ALTNAME_INVALID (typed as Error).
        const code: unknown = socket.authorizationError;
        if (code !== 'CERT_HAS_EXPIRED') return failed(code);
        if (!cert?.raw || !chainsToAnchor(cert, trustAnchors(credentials?.ca ?? null)))
          return failed('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
        // Node checks the name only for a chain that verified; the same check, as tls.connect makes it.
        const mismatch = tls.checkServerIdentity(servername ?? host, cert);
        if (mismatch) return failed((mismatch as NodeJS.ErrnoException).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID');
      }
      if (!cert || !cert.valid_to) return done({ ok: false, reason: `${url.host} presented no certificate` });
      const validTo = new Date(cert.valid_to);
      if (Number.isNaN(validTo.getTime()))
        return done({ ok: false, reason: `${url.host} presented an unreadable expiry "${cert.valid_to}"` });
      const cn = cert.subject?.CN;
      done({
        ok: true,
        validTo: validTo.toISOString(),
        subject: Array.isArray(cn) ? cn.join(',') : (cn ?? null),
        fingerprint256: cert.fingerprint256,
      });
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({ ok: false, reason: `TLS handshake with ${url.host} failed: ${err.code ?? err.message}` }),
    );
  });
}
