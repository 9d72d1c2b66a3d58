// Integration: the Secrets census against a real single-member mTLS etcd 3.4 (ports 25000–25002).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '@/scripts/lib/local-cluster';
import { createMemberClient, type MemberClient } from './member-client';
import { censusSecrets, type SecretsCensus, type SecretsCensusResult } from './secrets-census';
import type { TlsCredentials } from './tls-credentials';

const BASE_PORT = 25000;
/** In every value written, secret or decoy: the census result must never carry it. */
const MARKER = 'S3CRET-MARKER-q7Zx';

let dir = '';
let cluster: LocalCluster | undefined;
let client: MemberClient | undefined;

function tlsCredentials(): TlsCredentials {
  if (!cluster) throw new Error('cluster not started');
  const { caCert, clientCert, clientKey } = cluster.state;
  return { ca: readFileSync(caCert), cert: readFileSync(clientCert), key: readFileSync(clientKey) };
}

function etcd(): MemberClient {
  if (!client) throw new Error('cluster not started');
  return client;
}

const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

// A Kubernetes protobuf Secret: the magic, then a runtime.Unknown (NUL bytes and high bytes included).
const protobuf = (i: number) =>
  bytes('k8s\0', [0x0a, 0x0c], 'v1\x12\x06Secret', [0x12, 0x40, 0x00, 0xff, 0x80 + i], `${MARKER}-pb-${i}`, [0, 0]);
const json = (i: number) =>
  bytes(
    `{"kind":"Secret","apiVersion":"v1","data":{"password":"${Buffer.from(`${MARKER}-json-${i}`).toString('base64')}","raw":"${MARKER}"}}`,
  );
// Real envelopes: prefix, key or plugin name, then ciphertext (here with NUL bytes and the marker).
const envelope = (prefix: string, i: number) =>
  bytes(prefix, [0x00, 0xfe, 0x01, i], `${MARKER}-ct-${i}`, [0xde, 0xad, 0x00, 0xbe, 0xef]);

const SECRETS: Array<[string, Buffer]> = [
  ...Array.from({ length: 7 }, (_, i): [string, Buffer] => [`/registry/secrets/kube-system/pb-${i}`, protobuf(i)]),
  ...Array.from({ length: 2 }, (_, i): [string, Buffer] => [`/registry/secrets/default/json-${i}`, json(i)]),
  ...Array.from({ length: 5 }, (_, i): [string, Buffer] => [
    `/registry/secrets/team-a/aescbc-${i}`,
    envelope('k8s:enc:aescbc:v1:key1:', i),
  ]),
  ...Array.from({ length: 3 }, (_, i): [string, Buffer] => [
    `/registry/secrets/team-b/aesgcm-${i}`,
    envelope('k8s:enc:aesgcm:v1:key2:', i),
  ]),
  ['/registry/secrets/team-c/secretbox-0', envelope('k8s:enc:secretbox:v1:key3:', 0)],
  ...Array.from({ length: 2 }, (_, i): [string, Buffer] => [
    `/registry/secrets/vault/kms-${i}`,
    envelope('k8s:enc:kms:v1:vault-plugin:', i),
  ]),
  // KMS v2 writes "k8s:enc:kms:v2:<plugin>:" (there is no "kms2" in the envelope itself).
  ['/registry/secrets/vault/kms2-0', envelope('k8s:enc:kms:v2:vault-plugin:', 0)],
  // Neither an envelope Kubernetes ships nor plain: counted as unknown.
  ['/registry/secrets/zz/unknown-0', envelope('k8s:enc:mystery:v1:key9:', 0)],
];
const EXPECTED = {
  total: 22,
  plain: 9,
  encrypted: 12,
  unknown: 1,
  byProvider: { aescbc: 5, aesgcm: 3, secretbox: 1, kms: 2, kms2: 1 },
};

// Keys just outside /registry/secrets/ on both sides of the range, with values that would count if read.
const DECOYS: Array<[string, Buffer]> = [
  ['/registry/secrets', envelope('k8s:enc:aescbc:v1:key1:', 90)],
  ['/registry/secrets.', envelope('k8s:enc:aescbc:v1:key1:', 91)],
  ['/registry/secrets0', envelope('k8s:enc:aescbc:v1:key1:', 92)],
  ['/registry/secretsX/default/x', envelope('k8s:enc:aesgcm:v1:key2:', 93)],
  ['/registry/secret/default/x', protobuf(94)],
  ['/registry/configmaps/default/x', protobuf(95)],
  ['/registry/configmaps/kube-system/enc', envelope('k8s:enc:secretbox:v1:key3:', 96)],
];

function expectOk(result: SecretsCensusResult): SecretsCensus {
  if (!result.ok) throw new Error(`census failed: ${result.reason}`);
  return result;
}

function counts(c: SecretsCensus) {
  const { total, plain, encrypted, unknown, byProvider } = c;
  return { total, plain, encrypted, unknown, byProvider };
}

async function putAll(kvs: Array<[string, Buffer]>): Promise<void> {
  for (const [key, value] of kvs) await etcd().put(key).value(value);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'secrets-census-'));
  cluster = LocalCluster.create({ dir: path.join(dir, 'cluster'), members: 1, basePort: BASE_PORT, name: 'census' });
  await cluster.start();
  client = createMemberClient({ endpoint: cluster.member(0).clientUrl, tls: tlsCredentials(), timeoutMs: 5000 });
  await putAll(DECOYS);
});

afterAll(async () => {
  client?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('censusSecrets against a real etcd member', () => {
  it('counts nothing when /registry/secrets/ is empty, even with keys right beside it', async () => {
    const census = expectOk(await censusSecrets(etcd(), { pauseMs: 0 }));
    expect(counts(census)).toEqual({ total: 0, plain: 0, encrypted: 0, unknown: 0, byProvider: {} });
    expect(census.truncated).toBe(false);
    expect(Number.isNaN(Date.parse(census.scannedAt))).toBe(false);
  });

  describe('with Secrets stored plain, encrypted and damaged', () => {
    beforeAll(async () => {
      await putAll(SECRETS);
      // The values really hold NUL bytes and the decoys are really there: read back what was written.
      const stored = await etcd().get('/registry/secrets/kube-system/pb-3').buffer();
      expect(stored?.equals(protobuf(3))).toBe(true);
      expect(stored?.includes(0)).toBe(true);
      expect(await etcd().getAll().prefix('/registry/').count()).toBe(SECRETS.length + DECOYS.length);
    });

    it('counts each kind and provider exactly, and nothing outside the prefix', async () => {
      const census = expectOk(await censusSecrets(etcd()));
      expect(counts(census)).toEqual(EXPECTED);
      expect(census.truncated).toBe(false);
      expect(census.encrypted + census.plain + census.unknown).toBe(census.total);
    });

    it.each([1, 3, 7, 21, 22, 100])('pages of %i give the same counts', async (pageSize) => {
      const census = expectOk(await censusSecrets(etcd(), { pageSize, pauseMs: 0 }));
      expect(counts(census)).toEqual(EXPECTED);
      expect(census.truncated).toBe(false);
    });

    it('stops at maxKeys and says the counts are truncated', async () => {
      for (const pageSize of [3, 100]) {
        const census = expectOk(await censusSecrets(etcd(), { pageSize, pauseMs: 0, maxKeys: 5 }));
        expect(census.total).toBe(5);
        expect(census.truncated).toBe(true);
        expect(census.encrypted + census.plain + census.unknown).toBe(5);
      }
    });

    it('is not truncated when maxKeys is reached exactly at the end of the prefix, or not at all', async () => {
      for (const [pageSize, maxKeys] of [
        [3, 22],
        [100, 22],
        [11, 22],
        [100, 23],
      ] as const) {
        const census = expectOk(await censusSecrets(etcd(), { pageSize, pauseMs: 0, maxKeys }));
        expect({ pageSize, maxKeys, ...counts(census), truncated: census.truncated }).toEqual({
          pageSize,
          maxKeys,
          ...EXPECTED,
          truncated: false,
        });
      }
    });

    it('returns no byte of any stored value and no key', async () => {
      const results = [
        await censusSecrets(etcd(), { pauseMs: 0 }),
        await censusSecrets(etcd(), { pageSize: 2, pauseMs: 0, maxKeys: 9 }),
      ];
      for (const result of results) {
        const text = JSON.stringify(result);
        expect(text).not.toContain(MARKER);
        expect(text).not.toContain('key1');
        expect(text).not.toContain('vault-plugin');
        expect(text).not.toContain('mystery');
        expect(text).not.toContain('kube-system');
        expect(text).not.toContain('/registry');
        // Only these keys, each a number, a boolean, a timestamp or the provider counts.
        expect(Object.keys(result).sort()).toEqual(
          ['byProvider', 'encrypted', 'ok', 'plain', 'scannedAt', 'total', 'truncated', 'unknown'].sort(),
        );
      }
    });

    it('refuses bad options and an aborted signal without reading', async () => {
      expect(await censusSecrets(etcd(), { pageSize: 0 })).toEqual({
        ok: false,
        reason: 'pageSize must be a whole number of at least 1, got 0',
      });
      expect(await censusSecrets(etcd(), { maxKeys: 2.5 })).toMatchObject({ ok: false, reason: /^maxKeys must be/ });
      expect(await censusSecrets(etcd(), { pauseMs: -1 })).toMatchObject({ ok: false, reason: /^pauseMs must be/ });
      const aborted = AbortSignal.abort();
      expect(await censusSecrets(etcd(), { signal: aborted })).toEqual({ ok: false, reason: 'secrets census aborted' });
    });

    it('halves its pages when a page would pass gRPC’s 4 MiB message limit', async () => {
      // Four 1.2 MiB Secrets (under etcd's 1.5 MiB request limit) make one 4.8 MiB page; grpc-js refuses over 4 MiB.
      const big = Array.from({ length: 4 }, (_, i): [string, Buffer] => [
        `/registry/secrets/helm/release-${i}`,
        Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:key1:'), Buffer.alloc(1_200_000, i + 1)]),
      ]);
      await putAll(big);
      try {
        const census = expectOk(await censusSecrets(etcd(), { pauseMs: 0 }));
        expect(counts(census)).toEqual({
          ...EXPECTED,
          total: EXPECTED.total + 4,
          encrypted: EXPECTED.encrypted + 4,
          byProvider: { ...EXPECTED.byProvider, aescbc: EXPECTED.byProvider.aescbc + 4 },
        });
      } finally {
        for (const [key] of big) await etcd().delete().key(key);
      }
    });
  });

  // Last: stops the member.
  it('reports a stopped member as a reason, without throwing', async () => {
    if (!cluster) throw new Error('cluster not started');
    const endpoint = cluster.member(0).clientUrl;
    await cluster.stopMember(0);
    const fresh = createMemberClient({ endpoint, tls: tlsCredentials(), timeoutMs: 2000 });
    try {
      for (const c of [fresh, etcd()]) {
        const started = Date.now();
        const result = await censusSecrets(c, { pauseMs: 0 });
        expect(Date.now() - started).toBeLessThan(5000);
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.reason).toMatch(/^secrets census failed after 0 keys: /);
        expect(result.reason).toMatch(/connection refused|ECONNREFUSED/);
        expect(result.reason).not.toContain('\n');
        expect(result.reason).not.toMatch(/\bat .*:\d+:\d+/);
        expect(JSON.stringify(result)).not.toContain(MARKER);
      }
    } finally {
      fresh.close();
    }
  });
});
