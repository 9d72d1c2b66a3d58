// Integration: Maintenance.Status through our own proto against a real 3-member mTLS cluster of the selected etcd
// (ETCD_DASHBOARD_ETCD_VERSION; ports 24600–24608, 24690 left closed).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectedEtcdLine } from '@/scripts/lib/etcd-versions';
import { LocalCluster } from '@/scripts/lib/local-cluster';
import { CertificateAuthority } from '@/scripts/lib/pki';
import { listAlarms, listMembers } from './cluster-calls';
import { describeEtcdError } from './etcd-error';
import { createMemberClient, createStatusClient, type StatusClient } from './member-client';
import { MemberClients } from './member-clients';
import { probeMembers, readMemberStatus, type MemberStatusReading } from './member-probe';
import type { TlsCredentials } from './tls-credentials';

const BASE_PORT = 24600;
const CLOSED_PORT = 24690;
/** Not etcd's 2 GiB default: a member can only report it from --quota-backend-bytes. */
const QUOTA_BYTES = 48 * 1024 * 1024;
/** The release each line can be downgraded to (etcd allows one minor version down). */
const DOWNGRADE_TARGET: Record<string, string> = { '3.6': '3.5', '3.7': '3.6' };
const LINE = selectedEtcdLine();
/** StatusResponse fields 11–13 (storageVersion, dbSizeQuota, downgradeInfo) are sent from 3.6 on. */
const SENDS_NEW_STATUS_FIELDS = LINE !== '3.4' && LINE !== '3.5';

let dir = '';
let cluster: LocalCluster | undefined;
const clients: StatusClient[] = [];

function started(): LocalCluster {
  if (!cluster) throw new Error('cluster not started');
  return cluster;
}

function tls(overrides: Partial<TlsCredentials> = {}): TlsCredentials {
  const { caCert, clientCert, clientKey } = started().state;
  return { ca: readFileSync(caCert), cert: readFileSync(clientCert), key: readFileSync(clientKey), ...overrides };
}

function statusClient(endpoint: string, creds: TlsCredentials = tls()): StatusClient {
  const c = createStatusClient({ endpoint, tls: creds, timeoutMs: 2000 });
  clients.push(c);
  return c;
}

async function readAll(): Promise<MemberStatusReading[]> {
  return Promise.all(
    started().endpoints.map(async (e) => {
      const r = await readMemberStatus(statusClient(e));
      if (!r.status) throw new Error(`${e}: ${r.failure.message}`);
      return r.status;
    }),
  );
}

/** Polls every member's Status until `done` holds for all of them (the downgrade state reaches them through raft). */
async function waitForAll(
  done: (s: MemberStatusReading) => boolean,
  timeoutMs = 20_000,
): Promise<MemberStatusReading[]> {
  const deadline = Date.now() + timeoutMs;
  let last: MemberStatusReading[] = [];
  while (Date.now() < deadline) {
    last = await readAll();
    if (last.every(done)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

function withoutEtcdctlVariables(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('ETCDCTL_')) delete env[key];
  return env;
}

/** That version's own etcdctl, with flags only (etcdctl refuses a flag whose ETCDCTL_* variable is also set). */
function etcdctl(...args: string[]): string {
  const c = started();
  return execFileSync(
    c.binaries.etcdctl,
    [
      `--endpoints=${c.endpoints.join(',')}`,
      `--cacert=${c.state.caCert}`,
      `--cert=${c.state.clientCert}`,
      `--key=${c.state.clientKey}`,
      ...args,
    ],
    { env: withoutEtcdctlVariables(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'member-probe-test-'));
  cluster = LocalCluster.create({
    dir: path.join(dir, 'c'),
    members: 3,
    basePort: BASE_PORT,
    name: 'probe',
    quotaBackendBytes: QUOTA_BYTES,
    etcd: LINE,
  });
  await cluster.start();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('readMemberStatus against real etcd', () => {
  it('reads every member, with the quota, storage version and downgrade state where the version sends them', async () => {
    // A fresh 3.6+ member's storage version is first empty, then "3.5.0" (a db without the storageVersion key is
    // detected as 3.5), and its own release once the cluster version is decided: seconds later on a busy machine.
    const readings = SENDS_NEW_STATUS_FIELDS
      ? await waitForAll((s) => s.storageVersion === `${LINE}.0`)
      : await readAll();
    expect(new Set(readings.map((s) => s.memberId)).size).toBe(3);
    for (const s of readings) {
      expect(s.version).toBe(started().binaries.version);
      expect(s.memberId).toMatch(/^[0-9a-f]+$/);
      expect(s.leader).not.toBe('0');
      expect(s.errors).toEqual([]);
      if (SENDS_NEW_STATUS_FIELDS) {
        // 3.6+: the --quota-backend-bytes the cluster was started with, the db file's storage version, no downgrade.
        expect(s.dbSizeQuota).toBe(QUOTA_BYTES);
        expect(s.storageVersion).toBe(`${LINE}.0`);
        expect(s.downgrade).toEqual({ enabled: false, targetVersion: '' });
      } else {
        // 3.4/3.5 do not send them: unknown, not zero (the quota then comes from the metric).
        expect(s.dbSizeQuota).toBeNull();
        expect(s.storageVersion).toBeNull();
        expect(s.downgrade).toBeNull();
      }
    }
  });

  it.runIf(SENDS_NEW_STATUS_FIELDS)(
    'shows an enabled downgrade, and the lowered storage version, on every member until it is cancelled',
    async () => {
      const target = DOWNGRADE_TARGET[LINE];
      if (!target) throw new Error(`no downgrade target for etcd ${LINE}`);
      etcdctl('downgrade', 'enable', target);
      try {
        const during = await waitForAll((s) => s.downgrade?.enabled === true && s.storageVersion === `${target}.0`);
        for (const s of during) {
          expect(s.downgrade).toEqual({ enabled: true, targetVersion: `${target}.0` });
          expect(s.storageVersion).toBe(`${target}.0`);
          // The binary is still the newer release: only the cluster and storage versions went down.
          expect(s.version).toBe(started().binaries.version);
        }
      } finally {
        etcdctl('downgrade', 'cancel');
      }
      const after = await waitForAll((s) => s.downgrade?.enabled === false && s.storageVersion === `${LINE}.0`);
      for (const s of after) {
        expect(s.downgrade).toEqual({ enabled: false, targetVersion: '' });
        expect(s.storageVersion).toBe(`${LINE}.0`);
      }
    },
  );

  it('classifies failures as the etcd3 client does: refused connection, foreign CA, no client certificate', async () => {
    const foreign = CertificateAuthority.create(path.join(dir, 'foreign-ca'), 'a CA the members do not trust');
    const endpoint = started().endpoints[0] ?? '';
    const cases: Array<[string, string, TlsCredentials, string]> = [
      ['refused', `https://127.0.0.1:${CLOSED_PORT}`, tls(), 'unreachable'],
      ['foreign CA', endpoint, tls({ ca: readFileSync(foreign.cert) }), 'tls'],
      ['no client certificate', endpoint, tls({ cert: null, key: null }), 'tls'],
    ];
    for (const [what, url, creds, kind] of cases) {
      const ours = await readMemberStatus(statusClient(url, creds));
      expect(ours.status, what).toBeNull();
      expect(ours.failure?.kind, `${what}: ${ours.failure?.message}`).toBe(kind);
      // The same call through etcd3 (its own proto) gives the same verdict.
      const etcd3 = createMemberClient({ endpoint: url, tls: creds, timeoutMs: 2000 });
      try {
        const theirs = await etcd3.maintenance.status().then(
          () => null,
          (err: unknown) => describeEtcdError(err),
        );
        expect(theirs?.kind, what).toBe(ours.failure?.kind);
        expect(theirs?.code, what).toBe(ours.failure?.code);
      } finally {
        etcd3.close();
      }
    }
    expect((await readMemberStatus(statusClient(`https://127.0.0.1:${CLOSED_PORT}`))).failure?.code).toBe(
      'ECONNREFUSED',
    );
  });
});

/** This process's established TCP connections to 127.0.0.1:`port` (procfs: /proc/net/tcp and its own fds). */
function connectionsTo(port: number): number {
  const mine = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m?.[1]) mine.add(m[1]);
    } catch {
      // Closed since it was listed.
    }
  }
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[2] === remote && f[3] === '01' && mine.has(f[9] ?? '')).length;
}

describe('MemberClients: one connection per member for a collector', () => {
  it('its etcd3 client (KV, Cluster, Maintenance) and its Status client share one connection to each member', async () => {
    const endpoints = started().endpoints;
    const ports = endpoints.map((e) => Number(new URL(e).port));
    const before = ports.map(connectionsTo);
    const mc = new MemberClients(tls(), 2000);
    try {
      const probes = await probeMembers(
        endpoints.map((endpoint) => ({
          endpoint,
          statusClient: mc.status(endpoint),
          client: mc.client(endpoint),
          isLearner: false,
          knownMemberId: null,
        })),
      );
      const wide = mc.client(endpoints[0] ?? '');
      const [members, alarms] = await Promise.all([listMembers(wide), listAlarms(wide)]);
      expect({
        answered: probes.map((p) => Boolean(p.status) && p.health.ok),
        members: members.ok ? members.value.length : members.failure.message,
        alarms: alarms.ok ? alarms.value : alarms.failure.message,
      }).toEqual({ answered: [true, true, true], members: 3, alarms: [] });
      // A poll's calls (Status and the health read on each member, the member and alarm lists on one) on one
      // connection per member: with a connection per gRPC service, four to the first member and two to the others.
      expect(ports.map((p, i) => connectionsTo(p) - (before[i] ?? 0))).toEqual([1, 1, 1]);
    } finally {
      mc.close();
    }
  });

  it('a member that refuses connections: the member row says so every poll; no call of the group says "null"', async () => {
    const closed = `https://127.0.0.1:${CLOSED_PORT}`;
    const mc = new MemberClients(tls(), 2000);
    try {
      const poll = () =>
        Promise.all([
          readMemberStatus(mc.status(closed)).then((r) => r.failure),
          listMembers(mc.client(closed)).then((r) => (r.ok ? null : r.failure)),
          listAlarms(mc.client(closed)).then((r) => (r.ok ? null : r.failure)),
        ]);
      // Twice: the second time etcd3 has made its channels anew and they join the failing connection.
      const polls = [await poll(), await poll()];
      // The Status call is what the member's row shows: the reason, each time.
      expect(polls.map(([status]) => `${status?.kind} ${status?.code}`)).toEqual(
        Array(2).fill('unreachable ECONNREFUSED'),
      );
      const all = polls.flat();
      expect(all.map((f) => f?.kind)).toEqual(Array(6).fill('unreachable'));
      expect(all.filter((f) => /\bnull\b/.test(f?.message ?? ''))).toEqual([]);
    } finally {
      mc.close();
    }
  });
});
