// Integration: reads a real single-member mTLS etcd 3.4's server certificate (ports 25010–25012; 25013 is a silent
// TCP server; expired certificates are served by plain TLS servers on ephemeral ports) and the ways a handshake fails.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '@/scripts/lib/local-cluster';
import { CertificateAuthority, LOOPBACK_SANS, type CertPaths } from '@/scripts/lib/pki';
import { readServerCertificate } from './server-certificate';
import type { TlsCredentials } from './tls-credentials';

const BASE_PORT = 25010;
const SILENT_PORT = 25013;

let dir = '';
let cluster: LocalCluster | undefined;
let silent: net.Server | undefined;
/** Sockets the silent server accepted, and whether each was closed by the client. */
const accepted: Array<{ socket: net.Socket; closed: boolean }> = [];

function member() {
  const m = cluster?.state.members[0];
  if (!m) throw new Error('cluster not started');
  return m;
}

function clusterTls(): TlsCredentials {
  if (!cluster) throw new Error('cluster not started');
  const { caCert, clientCert, clientKey } = cluster.state;
  return { ca: readFileSync(caCert), cert: readFileSync(clientCert), key: readFileSync(clientKey) };
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8' }).trim();
}

// Accepts TCP connections and never says a word: a TLS client waits for a ServerHello that never comes.
function startSilentServer(): Promise<net.Server> {
  const server = net.createServer((socket) => {
    const entry = { socket, closed: false };
    accepted.push(entry);
    socket.on('close', () => (entry.closed = true));
    socket.on('error', () => {});
    // Reads (and drops) the ClientHello so that the client's FIN is seen; a paused socket never sees its end.
    socket.resume();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(SILENT_PORT, '127.0.0.1', () => resolve(server));
  });
}

/** The cluster's own CA, to issue further certificates from it. */
function clusterCa(): CertificateAuthority {
  if (!cluster) throw new Error('cluster not started');
  return new CertificateAuthority(path.dirname(cluster.state.caCert));
}

const DAY_MS = 24 * 3600_000;
/** Whole seconds: certificates carry no milliseconds. */
const daysAgo = (days: number) => new Date(Math.floor((Date.now() - days * DAY_MS) / 1000) * 1000);

/** Serves `cert` on an ephemeral loopback port for the duration of `body`. */
async function serving<T>(cert: CertPaths, body: (port: number) => Promise<T>): Promise<T> {
  const server = tls.createServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  try {
    return await body((server.address() as net.AddressInfo).port);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'server-certificate-'));
  silent = await startSilentServer();
  cluster = LocalCluster.create({ dir: path.join(dir, 'cluster'), members: 1, basePort: BASE_PORT, name: 'certs' });
  await cluster.start();
});

afterAll(async () => {
  await cluster?.stop();
  for (const { socket } of accepted) socket.destroy();
  if (silent) await new Promise<void>((resolve) => silent?.close(() => resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('readServerCertificate against a real etcd member', () => {
  it('reads the expiry, subject and fingerprint of the certificate the member serves', async () => {
    const result = await readServerCertificate(member().clientUrl, clusterTls(), 5000);
    if (!result.ok) throw new Error(`handshake failed: ${result.reason}`);

    const certFile = member().serverCert;
    const notAfter = openssl(['x509', '-enddate', '-noout', '-in', certFile]).replace(/^notAfter=/, '');
    expect(result.validTo).toBe(new Date(notAfter).toISOString());
    expect(result.validTo).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(result.subject).toBe('certs-m0');
    const fingerprint = openssl(['x509', '-fingerprint', '-sha256', '-noout', '-in', certFile]).replace(/^.*=/, '');
    expect(result.fingerprint256).toBe(fingerprint);
    // It is the client-facing certificate, not the peer one.
    const peer = openssl(['x509', '-fingerprint', '-sha256', '-noout', '-in', member().peerCert]).replace(/^.*=/, '');
    expect(result.fingerprint256).not.toBe(peer);
  });

  it('reads it by host name too (verified against the DNS SAN)', async () => {
    const result = await readServerCertificate(`https://localhost:${BASE_PORT}`, clusterTls(), 5000);
    expect(result).toMatchObject({ ok: true, subject: 'certs-m0' });
  });

  it('rejects the handshake when the CA is from a different PKI', async () => {
    const other = CertificateAuthority.create(path.join(dir, 'other-pki'), 'some other etcd CA');
    const client = other.issue('other-client', { commonName: 'intruder', usages: ['clientAuth'] });
    const wrongCa = { ...clusterTls(), ca: readFileSync(other.cert) };
    const result = await readServerCertificate(member().clientUrl, wrongCa, 5000);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toMatch(new RegExp(`^TLS handshake with 127\\.0\\.0\\.1:${BASE_PORT} failed: `));
    expect(result.reason).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify|self[- ]signed/i);

    // The other PKI's CA and client certificate together: still the member's certificate is not trusted.
    const allOther = { ca: readFileSync(other.cert), cert: readFileSync(client.cert), key: readFileSync(client.key) };
    expect(await readServerCertificate(member().clientUrl, allOther, 5000)).toMatchObject({ ok: false });
    // No CA at all means the system roots, which do not know this cluster's CA either.
    expect(await readServerCertificate(member().clientUrl, null, 5000)).toMatchObject({ ok: false });
  });

  it('still reads a certificate from the cluster CA that has expired, so that its alert does not resolve', async () => {
    const notAfter = daysAgo(2);
    const expired = clusterCa().issue(
      'expired-server',
      {
        commonName: 'certs-expired',
        usages: ['serverAuth'],
        altNames: LOOPBACK_SANS,
        notBefore: daysAgo(30),
        notAfter,
      },
      path.join(dir, 'expired'),
    );
    const x509 = new X509Certificate(readFileSync(expired.cert));
    expect(new Date(x509.validTo).toISOString()).toBe(notAfter.toISOString());

    await serving(expired, async (port) => {
      for (const host of ['127.0.0.1', 'localhost']) {
        const result = await readServerCertificate(`https://${host}:${port}`, clusterTls(), 5000);
        expect(result).toEqual({
          ok: true,
          validTo: notAfter.toISOString(),
          subject: 'certs-expired',
          fingerprint256: x509.fingerprint256,
        });
      }
      // Expired and from a CA that is not configured: untrusted, and the reason never carries key or certificate.
      const result = await readServerCertificate(`https://127.0.0.1:${port}`, null, 5000);
      expect(result).toMatchObject({ ok: false });
      if (!result.ok) expect(result.reason).not.toMatch(/BEGIN|PRIVATE|CERTIFICATE-/);
    });
  });

  it('rejects an expired certificate from a foreign CA, although OpenSSL only reports its expiry', async () => {
    const other = CertificateAuthority.create(path.join(dir, 'foreign-expired-pki'), 'some other etcd CA');
    const foreign = other.issue('foreign-expired', {
      commonName: 'impostor',
      usages: ['serverAuth'],
      altNames: LOOPBACK_SANS,
      notBefore: daysAgo(30),
      notAfter: daysAgo(2),
    });
    await serving(foreign, async (port) => {
      expect(await readServerCertificate(`https://127.0.0.1:${port}`, clusterTls(), 5000)).toEqual({
        ok: false,
        reason: `TLS handshake with 127.0.0.1:${port} failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE`,
      });
    });
  });

  it('still checks the name of an expired certificate from the cluster CA', async () => {
    const wrongName = clusterCa().issue(
      'expired-elsewhere',
      {
        commonName: 'elsewhere',
        usages: ['serverAuth'],
        altNames: ['IP:10.9.9.9', 'DNS:elsewhere.example'],
        notBefore: daysAgo(30),
        notAfter: daysAgo(2),
      },
      path.join(dir, 'expired'),
    );
    await serving(wrongName, async (port) => {
      for (const host of ['127.0.0.1', 'localhost']) {
        expect(await readServerCertificate(`https://${host}:${port}`, clusterTls(), 5000)).toEqual({
          ok: false,
          reason: `TLS handshake with ${host}:${port} failed: ERR_TLS_CERT_ALTNAME_INVALID`,
        });
      }
    });
  });

  it('refuses an endpoint that is not https, or not a URL, without connecting', async () => {
    const before = accepted.length;
    expect(await readServerCertificate(`http://127.0.0.1:${SILENT_PORT}`, clusterTls(), 1000)).toEqual({
      ok: false,
      reason: `endpoint "http://127.0.0.1:${SILENT_PORT}" is not https`,
    });
    expect(await readServerCertificate(`127.0.0.1:${SILENT_PORT}`, clusterTls(), 1000)).toMatchObject({
      ok: false,
    });
    expect(await readServerCertificate('not a url', clusterTls(), 1000)).toEqual({
      ok: false,
      reason: 'endpoint "not a url" is not a URL',
    });
    expect(accepted.length).toBe(before);
  });

  it('gives up on a server that accepts TCP but never speaks TLS, naming the timeout, and closes the socket', async () => {
    const before = accepted.length;
    const started = Date.now();
    const result = await readServerCertificate(`https://127.0.0.1:${SILENT_PORT}`, clusterTls(), 400);
    const elapsed = Date.now() - started;
    expect(result).toEqual({ ok: false, reason: `no TLS handshake with 127.0.0.1:${SILENT_PORT} within 400 ms` });
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(2000);
    expect(accepted.length).toBe(before + 1);
    // The client hung up rather than leaving the connection open.
    const deadline = Date.now() + 2000;
    while (!accepted.at(-1)?.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(accepted.at(-1)?.closed).toBe(true);
  });

  // Last: stops the member.
  it('reports a stopped member as refused, naming host and port', async () => {
    if (!cluster) throw new Error('cluster not started');
    await cluster.stopMember(0);
    const result = await readServerCertificate(member().clientUrl, clusterTls(), 5000);
    expect(result).toEqual({
      ok: false,
      reason: `TLS handshake with 127.0.0.1:${BASE_PORT} failed: ECONNREFUSED`,
    });
  });
});
