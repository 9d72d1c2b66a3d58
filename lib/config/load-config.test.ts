import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, type CertPaths } from '@/scripts/lib/pki';
import { ConfigError } from './config-error';
import {
  DEFAULT_MAINTENANCE_CONFIG,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_PROBE_TIMEOUT_MS,
  loadConfig,
} from './load-config';

const DAY = 24 * 3600_000;

let dir: string;
let ca: CertificateAuthority;
let clientA: CertPaths;
let clientB: CertPaths;
let expired: CertPaths;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'load-config-test-'));
  ca = CertificateAuthority.create(path.join(dir, 'pki'));
  clientA = ca.issue('client-a', { commonName: 'dashboard-a', usages: ['clientAuth'] });
  clientB = ca.issue('client-b', { commonName: 'dashboard-b', usages: ['clientAuth'] });
  expired = ca.issue('expired', {
    commonName: 'dashboard-expired',
    usages: ['clientAuth'],
    notBefore: new Date(Date.now() - 30 * DAY),
    notAfter: new Date(Date.now() - DAY),
  });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** ETCDCTL_* variables for mutual TLS with client A. */
function tlsEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ETCDCTL_CACERT: ca.cert, ETCDCTL_CERT: clientA.cert, ETCDCTL_KEY: clientA.key, ...extra };
}

/** The ConfigError loadConfig throws; every one is checked for leaked file contents. */
function configError(env: Record<string, string | undefined>): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env, new Date());
  } catch (err) {
    caught = err;
  }
  expect(caught, 'loadConfig should have thrown').toBeInstanceOf(ConfigError);
  const err = caught as ConfigError;
  expect(err.message).not.toContain('PRIVATE KEY');
  expect(err.message).not.toContain('BEGIN CERTIFICATE');
  expect(err.message).not.toContain('-----');
  // One line, as promised for the start-up log.
  expect(err.message).not.toContain('\n');
  return err;
}

/** Writes a config file under `dir`/`sub`, returning its absolute path. */
function writeConfig(sub: string, name: string, text: string): string {
  const folder = path.join(dir, sub);
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, name);
  writeFileSync(file, text);
  return file;
}

/** A config file of one cluster "a" with these lines of its entry (indented 4) after its endpoints. */
const oneCluster = (sub: string, entry: string) =>
  writeConfig(sub, 'c.yaml', `clusters:\n  - id: a\n    endpoints: [http://127.0.0.1:2379]\n${entry}`);

describe('loadConfig from ETCDCTL_* variables', () => {
  it('gives one cluster with id "default", the endpoints and the TLS files', () => {
    const config = loadConfig(
      tlsEnv({ ETCDCTL_ENDPOINTS: 'https://127.0.0.1:2379, 127.0.0.1:22379,https://localhost:32379' }),
      new Date(),
    );
    expect(config.source).toBe('ETCDCTL_* variables');
    expect(config.pollIntervalMs).toBe(DEFAULT_POLL_INTERVAL_MS);
    expect(config.probeTimeoutMs).toBe(DEFAULT_PROBE_TIMEOUT_MS);
    expect(config.clusters).toHaveLength(1);
    const [cluster] = config.clusters;
    expect(cluster?.id).toBe('default');
    expect(cluster?.name).toBe('default');
    // A bare host:port gets https because a client certificate is configured.
    expect(cluster?.endpoints).toEqual([
      'https://127.0.0.1:2379',
      'https://127.0.0.1:22379',
      'https://localhost:32379',
    ]);
    expect(cluster?.tls?.ca?.equals(readFileSync(ca.cert))).toBe(true);
    expect(cluster?.tls?.cert?.equals(readFileSync(clientA.cert))).toBe(true);
    expect(cluster?.tls?.key?.equals(readFileSync(clientA.key))).toBe(true);
    expect(cluster?.clientCertificate?.subject).toContain('CN=dashboard-a');
    expect(Date.parse(cluster?.clientCertificate?.validTo ?? '')).toBeGreaterThan(Date.now());
  });

  it('runs without TLS when no certificate is given', () => {
    const config = loadConfig({ ETCDCTL_ENDPOINTS: '127.0.0.1:2379' }, new Date());
    expect(config.clusters[0]?.endpoints).toEqual(['http://127.0.0.1:2379']);
    expect(config.clusters[0]?.tls).toBeNull();
    expect(config.clusters[0]?.clientCertificate).toBeNull();
  });

  it('treats empty variables as unset, as etcdctl does', () => {
    const config = loadConfig(
      { ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379', ETCDCTL_CACERT: '', ETCDCTL_CERT: '', ETCDCTL_KEY: '' },
      new Date(),
    );
    expect(config.clusters[0]?.tls).toBeNull();
  });

  it('takes the poll interval and probe timeout from the environment', () => {
    const config = loadConfig(
      {
        ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379',
        ETCD_DASHBOARD_POLL_INTERVAL_MS: '2000',
        ETCD_DASHBOARD_PROBE_TIMEOUT_MS: '1500',
      },
      new Date(),
    );
    expect(config.pollIntervalMs).toBe(2000);
    expect(config.probeTimeoutMs).toBe(1500);
  });

  it('rejects a poll interval that is not a number, naming the variable', () => {
    const err = configError({ ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379', ETCD_DASHBOARD_POLL_INTERVAL_MS: 'fast' });
    expect(err.message).toContain('ETCD_DASHBOARD_POLL_INTERVAL_MS');
  });

  it('masks the password of an endpoint in the error line', () => {
    const err = configError({ ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379,https://root:s3cret@10.0.0.11:2379' });
    expect(err.message).toBe(
      'ETCDCTL_ENDPOINTS[1]: "https://root:***@10.0.0.11:2379" must be scheme://host:port with no path, query or credentials',
    );
  });

  it('stores in the SQLite file in DATA_DIR without DATABASE_URL, and in PostgreSQL with it', () => {
    const base = { ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379', DATA_DIR: dir };
    expect(loadConfig({ ...base, DATABASE_URL: '' }).database).toEqual({
      engine: 'sqlite',
      file: path.join(dir, 'dashboard.sqlite'),
    });
    const url = 'postgres://dashboard:pw@db.example:5432/dashboard?sslmode=require';
    expect(loadConfig({ ...base, DATABASE_URL: url }).database).toEqual({ engine: 'postgresql', url });
  });

  it.each([
    ['mysql://dashboard:hunter2hunter2@db:3306/dash', 'must start with postgres:// or postgresql://, not "mysql:"'],
    ['hunter2hunter2', 'is not a URL; expected postgres://user:password@host:5432/database'],
    [
      'postgres://dashboard:hunter2hunter2@db:5432',
      'names no database; expected postgres://user:password@host:5432/database',
    ],
  ])('refuses DATABASE_URL %s, naming the variable and never the password', (url, message) => {
    const err = configError({ ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379', DATABASE_URL: url });
    expect(err.message).toBe(`environment: DATABASE_URL: ${message}`);
    expect(err.message).not.toContain('hunter2');
  });

  it('says clearly when no cluster is configured', () => {
    const err = configError({});
    expect(err.message).toMatch(/no cluster configured/);
    expect(err.message).toContain('ETCDCTL_ENDPOINTS');
    expect(err.message).toContain('ETCD_DASHBOARD_CONFIG');
  });

  it('names ETCDCTL_CACERT and the path of a missing CA file', () => {
    const missing = path.join(dir, 'nowhere', 'ca.crt');
    const err = configError(tlsEnv({ ETCDCTL_ENDPOINTS: 'https://127.0.0.1:2379', ETCDCTL_CACERT: missing }));
    expect(err.message).toContain('ETCDCTL_CACERT');
    expect(err.message).toContain(missing);
    expect(err.message).toMatch(/no such file/);
  });

  it('names both files when the key does not match the certificate', () => {
    const err = configError(
      tlsEnv({ ETCDCTL_ENDPOINTS: 'https://127.0.0.1:2379', ETCDCTL_CERT: clientA.cert, ETCDCTL_KEY: clientB.key }),
    );
    expect(err.message).toContain(clientA.cert);
    expect(err.message).toContain(clientB.key);
    expect(err.message).toMatch(/does not match/);
  });

  it('says an expired client certificate is expired, naming the variable and the file', () => {
    const err = configError(
      tlsEnv({ ETCDCTL_ENDPOINTS: 'https://127.0.0.1:2379', ETCDCTL_CERT: expired.cert, ETCDCTL_KEY: expired.key }),
    );
    expect(err.message).toMatch(/expired/);
    expect(err.message).toContain('ETCDCTL_CERT');
    expect(err.message).toContain(expired.cert);
  });

  it('judges expiry at the time given, so a certificate that is valid today fails once it has run out', () => {
    const env = tlsEnv({ ETCDCTL_ENDPOINTS: 'https://127.0.0.1:2379' });
    expect(() => loadConfig(env, new Date())).not.toThrow();
    expect(() => loadConfig(env, new Date(Date.now() + 2 * 365 * DAY))).toThrow(/expired/);
  });

  it('requires the key when a certificate is given, and the other way round', () => {
    const noKey = configError({ ETCDCTL_ENDPOINTS: 'https://127.0.0.1:2379', ETCDCTL_CERT: clientA.cert });
    expect(noKey.message).toContain('ETCDCTL_KEY');
    const noCert = configError({ ETCDCTL_ENDPOINTS: 'https://127.0.0.1:2379', ETCDCTL_KEY: clientA.key });
    expect(noCert.message).toContain('ETCDCTL_CERT');
  });

  it('rejects a key file given as the certificate and a certificate given as the key without quoting them', () => {
    const keyAsCert = configError(
      tlsEnv({ ETCDCTL_ENDPOINTS: 'https://127.0.0.1:2379', ETCDCTL_CERT: clientA.key, ETCDCTL_KEY: clientA.key }),
    );
    expect(keyAsCert.message).toContain('ETCDCTL_CERT');
    expect(keyAsCert.message).toContain(clientA.key);

    const certAsKey = configError(
      tlsEnv({ ETCDCTL_ENDPOINTS: 'https://127.0.0.1:2379', ETCDCTL_CERT: clientA.cert, ETCDCTL_KEY: clientA.cert }),
    );
    expect(certAsKey.message).toContain('ETCDCTL_KEY');

    const keyAsCa = configError(tlsEnv({ ETCDCTL_ENDPOINTS: 'https://127.0.0.1:2379', ETCDCTL_CACERT: ca.key }));
    expect(keyAsCa.message).toContain('ETCDCTL_CACERT');
    expect(keyAsCa.message).toContain(ca.key);
  });

  it('names ETCDCTL_ENDPOINTS[i] and the value of a malformed endpoint', () => {
    const err = configError(tlsEnv({ ETCDCTL_ENDPOINTS: 'https://127.0.0.1:2379,127.0.0.1' }));
    expect(err.message).toContain('ETCDCTL_ENDPOINTS[1]');
    expect(err.message).toContain('"127.0.0.1"');
  });

  it('refuses a plain http endpoint when a client certificate is configured', () => {
    const err = configError(tlsEnv({ ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379' }));
    expect(err.message).toContain('ETCDCTL_ENDPOINTS[0]');
    expect(err.message).toContain('"http://127.0.0.1:2379"');
  });
});

describe('loadConfig from an ETCD_DASHBOARD_CONFIG file', () => {
  // Cert paths are relative to the file's folder (etc/), which is not the working directory.
  const relative = () => ({
    ca: path.relative(path.join(dir, 'etc'), ca.cert),
    certA: path.relative(path.join(dir, 'etc'), clientA.cert),
    keyA: path.relative(path.join(dir, 'etc'), clientA.key),
    certB: path.relative(path.join(dir, 'etc'), clientB.cert),
    keyB: path.relative(path.join(dir, 'etc'), clientB.key),
  });

  function expectTwoClusters(file: string) {
    const config = loadConfig({ ETCD_DASHBOARD_CONFIG: file }, new Date());
    expect(config.source).toBe(file);
    expect(config.pollIntervalMs).toBe(2000);
    expect(config.probeTimeoutMs).toBe(DEFAULT_PROBE_TIMEOUT_MS);
    expect(config.clusters.map((c) => c.id)).toEqual(['prod', 'staging']);

    const [prod, staging] = config.clusters;
    expect(prod?.name).toBe('Production');
    expect(prod?.endpoints).toEqual(['https://10.0.0.11:2379', 'https://10.0.0.12:2379']);
    expect(prod?.tls?.ca?.equals(readFileSync(ca.cert))).toBe(true);
    expect(prod?.tls?.cert?.equals(readFileSync(clientA.cert))).toBe(true);
    expect(prod?.tls?.key?.equals(readFileSync(clientA.key))).toBe(true);
    expect(prod?.clientCertificate?.subject).toContain('CN=dashboard-a');

    // No name given: the id stands in.
    expect(staging?.name).toBe('staging');
    expect(staging?.endpoints).toEqual(['https://10.1.0.11:2379']);
    expect(staging?.tls?.cert?.equals(readFileSync(clientB.cert))).toBe(true);
    expect(staging?.clientCertificate?.subject).toContain('CN=dashboard-b');
  }

  it('reads two clusters from YAML, resolving cert paths against the file’s folder', () => {
    const r = relative();
    expect(r.ca.startsWith('..')).toBe(true);
    const file = writeConfig(
      'etc',
      'dashboard.yaml',
      [
        'pollIntervalMs: 2000',
        'clusters:',
        '  - id: prod',
        '    name: Production',
        '    endpoints: ["https://10.0.0.11:2379", "10.0.0.12:2379"]',
        '    tls:',
        `      ca: ${r.ca}`,
        `      cert: ${r.certA}`,
        `      key: ${r.keyA}`,
        '  - id: staging',
        '    endpoints:',
        '      - https://10.1.0.11:2379',
        '    tls:',
        `      ca: ${r.ca}`,
        `      cert: ${r.certB}`,
        `      key: ${r.keyB}`,
        '',
      ].join('\n'),
    );
    expectTwoClusters(file);
  });

  it('reads the same from JSON', () => {
    const r = relative();
    const file = writeConfig(
      'etc',
      'dashboard.json',
      JSON.stringify({
        pollIntervalMs: 2000,
        clusters: [
          {
            id: 'prod',
            name: 'Production',
            endpoints: ['https://10.0.0.11:2379', '10.0.0.12:2379'],
            tls: { ca: r.ca, cert: r.certA, key: r.keyA },
          },
          { id: 'staging', endpoints: ['https://10.1.0.11:2379'], tls: { ca: r.ca, cert: r.certB, key: r.keyB } },
        ],
      }),
    );
    expectTwoClusters(file);
  });

  it('lets the environment override the file’s poll interval', () => {
    const file = writeConfig(
      'etc',
      'plain.yaml',
      'pollIntervalMs: 2000\nclusters:\n  - id: a\n    endpoints: [http://127.0.0.1:2379]\n',
    );
    const config = loadConfig({ ETCD_DASHBOARD_CONFIG: file, ETCD_DASHBOARD_POLL_INTERVAL_MS: '500' }, new Date());
    expect(config.pollIntervalMs).toBe(500);
  });

  it('rejects duplicate cluster ids, naming the file, the entry and the id', () => {
    const file = writeConfig(
      'dup',
      'dashboard.yaml',
      [
        'clusters:',
        '  - id: prod',
        '    endpoints: [http://10.0.0.11:2379]',
        '  - id: prod',
        '    endpoints: [http://10.0.0.21:2379]',
        '',
      ].join('\n'),
    );
    const err = configError({ ETCD_DASHBOARD_CONFIG: file });
    expect(err.message).toContain(file);
    expect(err.message).toContain('clusters[1].id');
    expect(err.message).toContain('"prod"');
  });

  it('rejects an unknown key, naming the file and the field', () => {
    const top = writeConfig(
      'unknown',
      'top.yaml',
      'pollInterval: 2000\nclusters:\n  - id: a\n    endpoints: [http://127.0.0.1:2379]\n',
    );
    const topErr = configError({ ETCD_DASHBOARD_CONFIG: top });
    expect(topErr.message).toContain(top);
    expect(topErr.message).toContain('pollInterval');

    const nested = writeConfig(
      'unknown',
      'nested.yaml',
      `clusters:\n  - id: a\n    endpoints: [https://127.0.0.1:2379]\n    tls:\n      ca: ${ca.cert}\n      password: hunter2\n`,
    );
    const nestedErr = configError({ ETCD_DASHBOARD_CONFIG: nested });
    expect(nestedErr.message).toContain(nested);
    expect(nestedErr.message).toContain('clusters[0].tls');
    expect(nestedErr.message).toContain('password');
  });

  it('names a misspelt key rather than the key it hides', () => {
    const file = writeConfig('typo', 'typo.yaml', 'clusters:\n  - id: a\n    endpoint: [http://127.0.0.1:2379]\n');
    const err = configError({ ETCD_DASHBOARD_CONFIG: file });
    expect(err.message).toContain('clusters[0]');
    expect(err.message).toContain('"endpoint"');
  });

  it('gives a bare endpoint https when only a CA is configured (the connection uses TLS)', () => {
    const config = loadConfig({ ETCDCTL_ENDPOINTS: '127.0.0.1:2379', ETCDCTL_CACERT: ca.cert });
    expect(config.clusters[0]?.endpoints).toEqual(['https://127.0.0.1:2379']);
  });

  it('names the file and the endpoint entry of a malformed endpoint', () => {
    const file = writeConfig(
      'badendpoint',
      'dashboard.yaml',
      'clusters:\n  - id: a\n    endpoints: [http://127.0.0.1:2379, "10.0.0.2"]\n',
    );
    const err = configError({ ETCD_DASHBOARD_CONFIG: file });
    expect(err.message).toContain(file);
    expect(err.message).toContain('clusters[0].endpoints[1]');
    expect(err.message).toContain('"10.0.0.2"');
  });

  it('names the file and the field of a missing TLS file', () => {
    const file = writeConfig(
      'missingtls',
      'dashboard.yaml',
      'clusters:\n  - id: a\n    endpoints: [https://127.0.0.1:2379]\n    tls:\n      ca: certs/ca.crt\n',
    );
    const err = configError({ ETCD_DASHBOARD_CONFIG: file });
    expect(err.message).toContain(`${file}: clusters[0].tls.ca`);
    // The path as resolved against the file's folder, so the operator sees where it was looked for.
    expect(err.message).toContain(path.join(dir, 'missingtls', 'certs', 'ca.crt'));
  });

  it('names the file of invalid YAML', () => {
    const file = writeConfig(
      'badyaml',
      'dashboard.yaml',
      'clusters:\n  - id: a\n    endpoints: [http://127.0.0.1:2379\n',
    );
    const err = configError({ ETCD_DASHBOARD_CONFIG: file });
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/not valid YAML/);
  });

  it('names ETCD_DASHBOARD_CONFIG and the path of a missing file', () => {
    const file = path.join(dir, 'nowhere', 'dashboard.yaml');
    const err = configError({ ETCD_DASHBOARD_CONFIG: file });
    expect(err.message).toContain('ETCD_DASHBOARD_CONFIG');
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/no such file/);
  });

  it('does not quote a private key given by mistake as the config file', () => {
    const err = configError({ ETCD_DASHBOARD_CONFIG: clientA.key });
    expect(err.message).toContain(clientA.key);
  });

  it('does not quote a certificate given by mistake as the config file', () => {
    const err = configError({ ETCD_DASHBOARD_CONFIG: clientA.cert });
    expect(err.message).toContain(clientA.cert);
  });
});

describe('history and metrics settings', () => {
  it('defaults: data in ./data, raw history 24 h, rollups 30 days, metrics every 5 s', () => {
    const config = loadConfig({ ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379' });
    expect(config.dataDir).toBe(path.resolve('data'));
    expect(config.history).toEqual({ rawRetentionMs: 24 * 3600_000, rollupRetentionMs: 30 * DAY });
    expect(config.metricsIntervalMs).toBe(5000);
  });

  it('takes DATA_DIR and the retention from the environment over the file', () => {
    const file = writeConfig(
      'history',
      'h.yaml',
      'history: { rawRetentionHours: 12, rollupRetentionDays: 7 }\nmetricsIntervalMs: 10000\nclusters:\n  - id: a\n    endpoints: [http://127.0.0.1:2379]\n',
    );
    expect(loadConfig({ ETCD_DASHBOARD_CONFIG: file }).history).toEqual({
      rawRetentionMs: 12 * 3600_000,
      rollupRetentionMs: 7 * DAY,
    });
    const config = loadConfig({
      ETCD_DASHBOARD_CONFIG: file,
      DATA_DIR: '/var/lib/etcd-dashboard',
      HISTORY_RAW_RETENTION_HOURS: '6',
    });
    expect(config.dataDir).toBe('/var/lib/etcd-dashboard');
    expect(config.history.rawRetentionMs).toBe(6 * 3600_000);
    expect(config.metricsIntervalMs).toBe(10_000);
  });

  it('rejects a retention that is not a number, naming the variable', () => {
    const err = configError({ ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379', HISTORY_ROLLUP_RETENTION_DAYS: 'forever' });
    expect(err.message).toContain('HISTORY_ROLLUP_RETENTION_DAYS');
  });

  it('reads per-member plain metrics URLs; a bare host:port means its /metrics', () => {
    const file = writeConfig(
      'metrics',
      'm.yaml',
      'clusters:\n  - id: a\n    endpoints: [http://127.0.0.1:2379]\n    metricsUrls:\n      etcd-0: http://127.0.0.1:2381\n      etcd-1: http://127.0.0.1:2382/metrics\n',
    );
    expect(loadConfig({ ETCD_DASHBOARD_CONFIG: file }).clusters[0]?.metricsUrls).toEqual({
      'etcd-0': 'http://127.0.0.1:2381/metrics',
      'etcd-1': 'http://127.0.0.1:2382/metrics',
    });
  });

  it('rejects a metrics URL that is not http(s), naming the file and the member', () => {
    const file = writeConfig(
      'metrics-bad',
      'm.yaml',
      'clusters:\n  - id: a\n    endpoints: [http://127.0.0.1:2379]\n    metricsUrls:\n      etcd-0: ftp://127.0.0.1:2381\n',
    );
    const err = configError({ ETCD_DASHBOARD_CONFIG: file });
    expect(err.message).toContain(file);
    expect(err.message).toContain('clusters[0].metricsUrls.etcd-0');
  });
});

describe('snapshot settings', () => {
  it('reads a schedule, retention and an off-site target whose secret comes from a file', () => {
    const secretFile = path.join(dir, 's3-secret');
    writeFileSync(secretFile, 'not-a-real-secret\n');
    const file = writeConfig(
      'snapshots',
      's.yaml',
      `clusters:\n  - id: a\n    endpoints: [http://127.0.0.1:2379]\n    snapshots:\n      schedule: "0 * * * *"\n      retention: { keepLast: 24, maxAgeDays: 7 }\n      offsite: { endpoint: "http://127.0.0.1:9000", bucket: backups, prefix: etcd/, accessKeyId: AK, secretAccessKeyFile: ${secretFile}, forcePathStyle: true }\n`,
    );
    const s = loadConfig({ ETCD_DASHBOARD_CONFIG: file }).clusters[0]?.snapshots;
    expect(s?.schedule).toBe('0 * * * *');
    expect(s?.retention).toEqual({ keepLast: 24, maxAgeDays: 7 });
    expect(s?.offsite).toMatchObject({
      bucket: 'backups',
      prefix: 'etcd/',
      region: 'us-east-1',
      secretAccessKey: 'not-a-real-secret',
    });
  });

  it('rejects a schedule that is not cron, naming the field and the value', () => {
    const file = writeConfig(
      'cron-bad',
      's.yaml',
      'clusters:\n  - id: a\n    endpoints: [http://127.0.0.1:2379]\n    snapshots: { schedule: "61 * * * *" }\n',
    );
    const err = configError({ ETCD_DASHBOARD_CONFIG: file });
    expect(err.message).toContain('clusters[0].snapshots.schedule');
    expect(err.message).toContain('61 * * * *');
  });

  it('refuses scheduled snapshots without an off-site copy on PostgreSQL, naming the cluster and the field', () => {
    const file = writeConfig(
      'ha-local',
      's.yaml',
      'clusters:\n  - id: a\n    endpoints: [http://127.0.0.1:2379]\n  - id: tenant-7\n    endpoints: [http://127.0.0.1:2379]\n    snapshots: { schedule: "0 * * * *" }\n',
    );
    // One process on SQLite keeps its snapshots on its own disk: accepted.
    expect(loadConfig({ ETCD_DASHBOARD_CONFIG: file }).clusters[1]?.snapshots.schedule).toBe('0 * * * *');
    const err = configError({ ETCD_DASHBOARD_CONFIG: file, DATABASE_URL: 'postgres://d:pw@db:5432/dash' });
    expect(err.message).toContain(file);
    expect(err.message).toContain('cluster "tenant-7"');
    expect(err.message).toContain('snapshots.offsite is not set');
    expect(err.message).not.toContain('pw@');
  });

  it('requires exactly one way to give the off-site secret', () => {
    const file = writeConfig(
      'offsite-bad',
      's.yaml',
      'clusters:\n  - id: a\n    endpoints: [http://127.0.0.1:2379]\n    snapshots: { offsite: { bucket: backups, accessKeyId: AK } }\n',
    );
    expect(configError({ ETCD_DASHBOARD_CONFIG: file }).message).toContain('secretAccessKey');
  });

  it('puts snapshots under DATA_DIR unless SNAPSHOT_DIR says otherwise', () => {
    expect(loadConfig({ ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379', DATA_DIR: '/srv/d' }).snapshotDir).toBe(
      '/srv/d/snapshots',
    );
    expect(loadConfig({ ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379', SNAPSHOT_DIR: '/backups' }).snapshotDir).toBe(
      '/backups',
    );
  });
});

describe('alert settings', () => {
  const withAlerts = (sub: string, alerts: string) => oneCluster(sub, `    alerts:\n${alerts}`);

  it('lays the cluster thresholds over the defaults', () => {
    const file = withAlerts('alerts-ok', '      thresholds: { walFsyncP99WarnMs: 20, certWarnDays: 45 }\n');
    const { thresholds } = loadConfig({ ETCD_DASHBOARD_CONFIG: file }).clusters[0]!.alerts;
    expect(thresholds).toMatchObject({
      walFsyncP99WarnMs: 20,
      walFsyncP99CritMs: 500,
      certWarnDays: 45,
      certCritDays: 7,
    });
  });

  it('refuses a warning level at or past its critical one, naming both and the values', () => {
    const fsync = configError({
      ETCD_DASHBOARD_CONFIG: withAlerts('alerts-fsync', '      thresholds: { walFsyncP99WarnMs: 600 }\n'),
    });
    expect(fsync.message).toContain(
      'clusters[0].alerts.thresholds.walFsyncP99WarnMs: 600 must be below walFsyncP99CritMs (500, the default)',
    );
    const quota = configError({
      ETCD_DASHBOARD_CONFIG: withAlerts(
        'alerts-quota',
        '      thresholds: { dbQuotaWarnRatio: 0.9, dbQuotaCritRatio: 0.9 }\n',
      ),
    });
    expect(quota.message).toContain('dbQuotaWarnRatio: 0.9 must be below dbQuotaCritRatio (0.9)');
    const certs = configError({
      ETCD_DASHBOARD_CONFIG: withAlerts('alerts-certs', '      thresholds: { certWarnDays: 5 }\n'),
    });
    expect(certs.message).toContain('certWarnDays: 5 must be above certCritDays (7, the default)');
  });

  it('refuses two receivers of one cluster with the same name', () => {
    const file = withAlerts(
      'alerts-receivers',
      [
        '      receivers:',
        '        - { type: webhook, name: oncall, url: "http://127.0.0.1:9/a" }',
        '        - { type: slack, name: oncall, url: "https://hooks.example/services/x" }',
        '',
      ].join('\n'),
    );
    expect(configError({ ETCD_DASHBOARD_CONFIG: file }).message).toContain(
      `clusters[0].alerts.receivers[1].name: "oncall" is already receivers[0]'s`,
    );
  });
});

describe('maintenance settings', () => {
  const withMaintenance = (sub: string, maintenance: string) => oneCluster(sub, `    maintenance:\n${maintenance}`);
  const maintenanceOf = (file: string) => loadConfig({ ETCD_DASHBOARD_CONFIG: file }).clusters[0]?.maintenance;

  it('defaults: 10 s between members, keep 10 000 revisions, compare the members every 5 minutes, no automatic runs', () => {
    const defaults = {
      pauseBetweenMembersMs: 10_000,
      keepRevisions: 10_000,
      consistencyCheckMs: 5 * 60_000,
      autoDefragment: null,
    };
    expect(DEFAULT_MAINTENANCE_CONFIG).toEqual(defaults);
    expect(maintenanceOf(oneCluster('maintenance-none', ''))).toEqual(defaults);
    expect(maintenanceOf(withMaintenance('maintenance-empty', '      {}\n'))).toEqual(defaults);
    expect(loadConfig({ ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379' }).clusters[0]?.maintenance).toEqual(defaults);
  });

  it('reads seconds and minutes into milliseconds; 0 minutes turns the consistency check off', () => {
    const file = withMaintenance(
      'maintenance-ok',
      '      pauseBetweenMembersSeconds: 36\n      keepRevisions: 500\n      consistencyCheckMinutes: 0\n',
    );
    expect(maintenanceOf(file)).toEqual({
      pauseBetweenMembersMs: 36_000,
      keepRevisions: 500,
      consistencyCheckMs: 0,
      autoDefragment: null,
    });
    const some = withMaintenance('maintenance-some', '      consistencyCheckMinutes: 1.5\n');
    expect(maintenanceOf(some)).toMatchObject({ pauseBetweenMembersMs: 10_000, consistencyCheckMs: 90_000 });
  });

  it('automatic defragmentation: the schedule, with a one-hour window, 55 % in use and 100 MB by default', () => {
    const file = withMaintenance('maintenance-auto', '      autoDefragment: { schedule: "0 3 * * 0" }\n');
    expect(maintenanceOf(file)?.autoDefragment).toEqual({
      schedule: '0 3 * * 0',
      windowMs: 3_600_000,
      maxInUseRatio: 0.55,
      minDbSizeBytes: 100_000_000,
    });
    const given = withMaintenance(
      'maintenance-auto-given',
      '      autoDefragment: { schedule: "30 2 * * *", windowMinutes: 90, maxInUseRatio: 0.4, minDbSizeBytes: 0 }\n',
    );
    expect(maintenanceOf(given)?.autoDefragment).toEqual({
      schedule: '30 2 * * *',
      windowMs: 90 * 60_000,
      maxInUseRatio: 0.4,
      minDbSizeBytes: 0,
    });
  });

  it('a schedule that is not cron: refused, naming the field and the value', () => {
    const file = withMaintenance('maintenance-cron', '      autoDefragment: { schedule: "61 3 * * *" }\n');
    const err = configError({ ETCD_DASHBOARD_CONFIG: file });
    expect(err.message).toContain(file);
    expect(err.message).toContain('clusters[0].maintenance.autoDefragment.schedule');
    expect(err.message).toContain('"61 3 * * *"');
  });

  it('values out of range or unknown keys: refused, naming the field', () => {
    const at = 'clusters[0].maintenance';
    const cases: [string, string[]][] = [
      ['      autoDefragment: { schedule: "0 3 * * *", maxInUseRatio: 1 }\n', [`${at}.autoDefragment.maxInUseRatio:`]],
      ['      autoDefragment: { windowMinutes: 30 }\n', [`${at}.autoDefragment.schedule:`]],
      ['      autoDefragment: { schedule: "  " }\n', [`${at}.autoDefragment.schedule:`]],
      ['      pauseBetweenMembersSeconds: -1\n', [`${at}.pauseBetweenMembersSeconds:`]],
      ['      keepRevisions: 1.5\n', [`${at}.keepRevisions:`]],
      ['      consistencyCheckMinutes: 2000\n', [`${at}.consistencyCheckMinutes:`]],
      ['      pauseBetweenMembers: 10\n', [`${at}:`, '"pauseBetweenMembers"']],
    ];
    for (const [i, [yaml, named]] of cases.entries()) {
      const err = configError({ ETCD_DASHBOARD_CONFIG: withMaintenance(`maintenance-bad-${i}`, yaml) });
      for (const part of named) expect(err.message).toContain(part);
    }
  });
});
