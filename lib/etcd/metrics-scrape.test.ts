// Integration: scrapes a real single-member mTLS etcd 3.4 (ports 24810–24812) and a small misbehaving HTTP server.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '@/scripts/lib/local-cluster';
import { parseEtcdMetrics } from '@/lib/metrics/etcd-metrics';
import { scrapeMetrics } from './metrics-scrape';
import type { TlsCredentials } from './tls-credentials';

const CLOSED_PORT = 24815;
const STUB_PORT = 24816;
const NINE_MIB = 9 * 1024 * 1024;

let dir = '';
let cluster: LocalCluster | undefined;
let stub: http.Server | undefined;

function member() {
  const m = cluster?.state.members[0];
  if (!m) throw new Error('cluster not started');
  return m;
}

function clientTls(withClientCert: boolean): TlsCredentials {
  if (!cluster) throw new Error('cluster not started');
  const { caCert, clientCert, clientKey } = cluster.state;
  return {
    ca: readFileSync(caCert),
    cert: withClientCert ? readFileSync(clientCert) : null,
    key: withClientCert ? readFileSync(clientKey) : null,
  };
}

// Answers by path: the ways a metrics endpoint goes wrong that a real member will not show on demand.
function startStub(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url === '/not-found') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
    } else if (req.url === '/huge-declared') {
      res.writeHead(200, { 'content-length': String(NINE_MIB) });
      res.write('x'.repeat(1024));
    } else if (req.url === '/huge-streamed') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(1024 * 1024, 'a');
      const write = (left: number) => {
        if (left === 0 || res.destroyed) return void res.end();
        res.write(chunk, () => write(left - 1));
      };
      write(9);
    } else if (req.url === '/stalls-mid-body') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('etcd_server_has_leader 1\n');
    } else if (req.url === '/never-answers') {
      // Holds the request open without a status line.
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(STUB_PORT, '127.0.0.1', () => resolve(server));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'metrics-scrape-'));
  stub = await startStub();
  cluster = LocalCluster.create({ dir: path.join(dir, 'cluster'), members: 1, basePort: 24810, name: 'scrape' });
  await cluster.start();
});

afterAll(async () => {
  await cluster?.stop();
  if (stub) {
    stub.closeAllConnections();
    await new Promise<void>((resolve) => stub?.close(() => resolve()));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('scrapeMetrics against a real etcd member', () => {
  it('reads /metrics on the mTLS client URL with the client certificate', async () => {
    const result = await scrapeMetrics(`${member().clientUrl}/metrics`, clientTls(true), 5000);
    if (!result.ok) throw new Error(`scrape failed: ${result.failure.kind}: ${result.failure.message}`);
    const scrape = parseEtcdMetrics(result.text, Date.now());
    expect(scrape.walFsync).not.toBeNull();
    expect(scrape.walFsync?.buckets.at(-1)?.le).toBe(Infinity);
    expect(scrape.hasLeader).toBe(true);
    expect(scrape.isLeader).toBe(true);
    // A single member has no peers, so etcd exports no round-trip histogram at all.
    expect(scrape.peerRtt).toEqual({});
  });

  it('reads the plain-HTTP metrics URL without TLS material', async () => {
    const result = await scrapeMetrics(`${member().metricsUrl}/metrics`, null, 5000);
    if (!result.ok) throw new Error(`scrape failed: ${result.failure.kind}: ${result.failure.message}`);
    expect(parseEtcdMetrics(result.text, Date.now()).hasLeader).toBe(true);
  });

  it('reports a TLS failure when no client certificate is presented', async () => {
    const result = await scrapeMetrics(`${member().clientUrl}/metrics`, clientTls(false), 5000);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure.kind).toBe('tls');
    expect(result.failure.message).toMatch(/^TLS handshake failed: the member refused the client certificate/);
    // etcd built with Go up to 1.2x (3.4, Debian's 3.5) answers a missing certificate with alert 42; etcd built with
    // Go 1.26 (our 3.6 and 3.7) with TLS 1.3's alert 116. OpenSSL's file and line noise is left out.
    expect(result.failure.message).toMatch(/\((?:sslv3 alert bad certificate|tlsv13 alert certificate required)\)$/);
  });

  it('reports a TLS failure when the member’s CA is not trusted', async () => {
    const result = await scrapeMetrics(`${member().clientUrl}/metrics`, null, 5000);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure.kind).toBe('tls');
    expect(result.failure.message).toMatch(/^TLS handshake failed: .*certificate/);
  });

  it('reports https spoken to the plain metrics port as a TLS failure', async () => {
    const result = await scrapeMetrics(
      `${member().metricsUrl.replace('http:', 'https:')}/metrics`,
      clientTls(true),
      5000,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure.kind).toBe('tls');
    expect(result.failure.message).toBe(
      'TLS handshake failed: the port does not speak TLS (is it the plain-HTTP metrics URL?) (wrong version number)',
    );
  });
});

describe('scrapeMetrics when the endpoint misbehaves', () => {
  it('reports a closed port as unreachable', async () => {
    const result = await scrapeMetrics(`http://127.0.0.1:${CLOSED_PORT}/metrics`, null, 2000);
    expect(result).toEqual({
      ok: false,
      failure: {
        kind: 'unreachable',
        message: `connection refused: etcd is not listening there (connect ECONNREFUSED 127.0.0.1:${CLOSED_PORT})`,
      },
    });
  });

  it('names the status of a non-200 answer', async () => {
    const result = await scrapeMetrics(`http://127.0.0.1:${STUB_PORT}/not-found`, null, 2000);
    expect(result).toEqual({
      ok: false,
      failure: { kind: 'error', message: 'metrics endpoint answered HTTP 404 Not Found' },
    });
  });

  it('refuses a body declared larger than 8 MiB', async () => {
    const result = await scrapeMetrics(`http://127.0.0.1:${STUB_PORT}/huge-declared`, null, 5000);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure.kind).toBe('error');
    expect(result.failure.message).toContain('8 MiB');
  });

  it('stops reading a streamed body once it passes 8 MiB', async () => {
    const result = await scrapeMetrics(`http://127.0.0.1:${STUB_PORT}/huge-streamed`, null, 5000);
    expect(result).toEqual({ ok: false, failure: { kind: 'error', message: 'metrics body is over the 8 MiB limit' } });
  });

  it('gives up at the deadline when no answer comes', async () => {
    const started = Date.now();
    const result = await scrapeMetrics(`http://127.0.0.1:${STUB_PORT}/never-answers`, null, 400);
    const took = Date.now() - started;
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure.kind).toBe('timeout');
    expect(result.failure.message).toContain('400 ms');
    expect(took).toBeGreaterThanOrEqual(380);
    expect(took).toBeLessThan(1500);
  });

  it('counts the body against the deadline too', async () => {
    const result = await scrapeMetrics(`http://127.0.0.1:${STUB_PORT}/stalls-mid-body`, null, 400);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure.kind).toBe('timeout');
  });

  it('reports a malformed URL or an unknown scheme without throwing', async () => {
    const bad = await scrapeMetrics('not a url', null, 1000);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.failure.kind).toBe('error');
    const ftp = await scrapeMetrics('ftp://127.0.0.1/metrics', null, 1000);
    expect(ftp.ok).toBe(false);
    if (!ftp.ok) expect(ftp.failure.message).toContain('ftp:');
  });

  it('reports unreadable TLS material instead of throwing', async () => {
    const tls: TlsCredentials = { ca: null, cert: Buffer.from('not a certificate'), key: Buffer.from('not a key') };
    const result = await scrapeMetrics(`${member().clientUrl}/metrics`, tls, 2000);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure).toEqual({
      kind: 'tls',
      message: 'TLS handshake failed: the CA, certificate or key is not readable PEM (no start line)',
    });
  });
});
