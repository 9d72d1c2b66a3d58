// A member's server certificate as the TLS handshake presents it: only its expiry and names, never its contents.
import 'server-only';
import tls from 'node:tls';
import type { TlsCredentials } from './tls-credentials';

export type ServerCertificateResult =
  { ok: true; validTo: string; subject: string | null; fingerprint256: string } | { ok: false; reason: string };

/**
 * Opens a TLS connection to a member's client URL (https://host:port) with the cluster's own CA and client
 * certificate, reads the certificate the member presents, and closes. The handshake is the member's real answer:
 * a certificate renewed on disk but not yet loaded by etcd still shows its old expiry here.
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
    try {
      socket = tls.connect({
        host,
        port,
        // SNI only for names; IP endpoints are verified against the certificate's IP SANs.
        servername: /^[\d.]+$|:/.test(host) ? undefined : host,
        ca: credentials?.ca ?? undefined,
        cert: credentials?.cert ?? undefined,
        key: credentials?.key ?? undefined,
        ALPNProtocols: ['h2'],
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
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
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
