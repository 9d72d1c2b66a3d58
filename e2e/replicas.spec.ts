// Three dashboard replicas on one PostgreSQL (Debian's 15) behind nginx (Debian's 1.22), as a platform team runs them:
// a session made through one replica is valid on every one; exactly one replica leads, and it alone takes the
// scheduled snapshots and sends the notifications; SIGKILLed, another takes over within 10 s while the status read
// through nginx keeps answering with fresh data; no snapshot tick is taken twice and no alert is notified twice.
import { expect, request, test, type APIRequestContext } from '@playwright/test';
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type S3rver from 's3rver';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import type { LocalCluster } from '../scripts/lib/local-cluster';
import { ensureNginx } from '../scripts/lib/monitoring-tools';
import { postgresTestParent, startPostgres, type PostgresServer } from '../scripts/lib/postgres';
import { startReceiver, type TestReceiver } from '../test/support/test-receiver';
import { writeDashboardConfig } from './support/config-file';
import { E2E_ROOT } from './support/e2e-env';
import { startNginx } from './support/load-balancer';
import { offsiteOf, startS3 } from './support/s3-server';
import { etcdctlOn, freshCluster } from './support/local-stack';
import { randomBytes } from 'node:crypto';
import type { Daemon } from './support/monitoring-stack';

const ROOT = path.join(E2E_ROOT, 'replicas');
const PG_PORT = 25945;
/** The S3-protocol server the snapshots are copied to: replicas on PostgreSQL keep no snapshot on one host's disk only. */
const S3_PORT = 25946;
const NGINX_PORT = 3340;
const REPLICA_PORTS = [3341, 3342, 3343];
const CLUSTER_ID = 'ha';
/** The same members under a second id whose snapshots have no off-site copy: a snapshot asked of it is refused. */
const LOCAL_ONLY_ID = 'ha-local-only';
const ADMIN_PASSWORD = 'replicas-admin-password';

let cluster: LocalCluster;
let postgres: PostgresServer;
let databaseUrl: string;
let hook: TestReceiver;
let nginx: Daemon;
let s3: S3rver;
let config: string;
const replicas = new Map<number, DashboardProcess>();

interface Readiness {
  checks: Array<{ name: string; ok: boolean; detail: string }>;
}
interface SnapshotRecord {
  id: string;
  trigger: string;
  status: string;
  startedAt: string;
  error: string | null;
  missing: boolean;
  locations: Array<{ kind: string }>;
  progress: { receivedBytes: number; expectedBytes: number | null; phase: string } | null;
}
interface Hook {
  alerts: Array<{ id: string; rule: string; state: string; memberName: string | null }>;
}

function startReplica(port: number): Promise<DashboardProcess> {
  return startDashboard({
    port,
    env: {
      ETCD_DASHBOARD_CONFIG: config,
      DATABASE_URL: databaseUrl,
      DASHBOARD_ADMIN_PASSWORD: ADMIN_PASSWORD,
      DASHBOARD_ANONYMOUS: 'viewer',
    },
    dataDir: path.join(ROOT, `data-${port}`),
    logFile: path.join(ROOT, `replica-${port}-${process.pid}.log`),
    timeoutMs: 60_000,
  });
}

/** Which live replica leads, as each says in /readyz; null while none (or more than one) does. */
async function leader(): Promise<number | null> {
  const leading: number[] = [];
  for (const [port] of replicas) {
    try {
      const r = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as Readiness;
      if (r.checks.some((c) => c.name === 'leader' && / leads \(generation \d+\)$/.test(c.detail))) leading.push(port);
    } catch {
      // killed, or not answering: not a leader
    }
  }
  return leading.length === 1 ? (leading[0] as number) : null;
}

async function scheduledSnapshots(api: APIRequestContext): Promise<SnapshotRecord[]> {
  const res = await api.get(`/api/clusters/${CLUSTER_ID}/snapshots`);
  expect(res.status()).toBe(200);
  const { snapshots } = (await res.json()) as { snapshots: SnapshotRecord[] };
  return snapshots.filter((s) => s.trigger === 'schedule');
}

/** Each replica's notifications of `rule`, as the webhook received them: [state, memberName]. */
function notified(rule: string): string[] {
  return hook.requests.flatMap((r) =>
    (r.body as Hook).alerts.filter((a) => a.rule === rule).map((a) => `${a.state} ${a.memberName ?? ''}`),
  );
}

test.beforeAll(async () => {
  test.setTimeout(240_000);
  const nginxBinary = ensureNginx();
  cluster = freshCluster(ROOT, { basePort: 25960, name: 'ha' });
  hook = await startReceiver();
  const [pgServer] = await Promise.all([
    startPostgres({ parent: postgresTestParent(), port: PG_PORT }),
    cluster.start(),
  ]);
  postgres = pgServer;
  // 12 MiB of values (random: nothing compresses them away), so that a snapshot is running long enough to be caught.
  const value = randomBytes(768 * 1024).toString('base64');
  for (let i = 0; i < 12; i++) etcdctlOn(cluster, ['put', `/registry/configmaps/default/big-${i}`], value);
  s3 = await startS3(ROOT, S3_PORT);
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('CREATE DATABASE dashboard');
  await admin.end();
  databaseUrl = postgres.url.replace(/\/postgres$/, '/dashboard');
  config = writeDashboardConfig(path.join(ROOT, 'dashboard.yaml'), [
    {
      id: CLUSTER_ID,
      name: 'Replicated dashboard',
      cluster: cluster.state,
      // Every four seconds (croner's six-field form): each tick must be taken once, by the leader.
      snapshots: {
        schedule: '*/4 * * * * *',
        retention: { keepLast: 8 },
        offsite: offsiteOf(ROOT, S3_PORT, 'replicas/'),
      },
      // Long enough between members that a defragment run is still running when the other replicas are asked.
      maintenance: { pauseBetweenMembersSeconds: 3 },
      alerts: {
        thresholds: { forSeconds: { member_down: 0, quorum_at_risk: 0 } },
        receivers: [{ type: 'webhook', name: 'on-call', url: `${hook.origin}/hooks/etcd` }],
      },
    },
    // No schedule (the configuration would refuse to start), no receivers (the notifications counted are the first's).
    { id: LOCAL_ONLY_ID, name: 'No off-site copy', cluster: cluster.state },
  ]);
  // One replica first, so that it migrates the database and leads; then the other two.
  replicas.set(REPLICA_PORTS[0]!, await startReplica(REPLICA_PORTS[0]!));
  for (const [port, proc] of await Promise.all(
    REPLICA_PORTS.slice(1).map(async (p) => [p, await startReplica(p)] as const),
  )) {
    replicas.set(port, proc);
  }
  const nginxRoot = path.join(ROOT, 'nginx');
  mkdirSync(nginxRoot, { recursive: true });
  chmodSync(nginxRoot, 0o755);
  nginx = await startNginx(nginxBinary, { root: nginxRoot, port: NGINX_PORT, replicas: REPLICA_PORTS });
});

test.afterAll(async () => {
  await nginx?.stop();
  await Promise.all([...replicas.values()].map((r) => r.stop()));
  await hook?.close();
  await s3?.close();
  await postgres?.destroy();
  await cluster?.stop();
});

test('a session made through one replica is valid on every replica; exactly one leads', async () => {
  const viaNginx = await request.newContext({ baseURL: nginx.url });
  try {
    const login = await viaNginx.post('/api/auth/login', { data: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(login.status()).toBe(200);
    const cookie = (login.headers()['set-cookie'] ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/=/);
    for (const port of REPLICA_PORTS) {
      const me = await fetch(`http://127.0.0.1:${port}/api/auth/me`, { headers: { cookie } });
      expect(me.status, `replica ${port}`).toBe(200);
      expect(await me.json(), `replica ${port}`).toMatchObject({ actor: 'admin', role: 'admin', method: 'session' });
    }
    // Signed out through nginx (whichever replica answers): refused by every replica at once.
    expect((await viaNginx.post('/api/auth/logout', { headers: { cookie } })).status()).toBeLessThan(300);
    for (const port of REPLICA_PORTS) {
      const me = await fetch(`http://127.0.0.1:${port}/api/auth/me`, { headers: { cookie } });
      // Anonymous viewing is on: the cookie now counts for nothing, and the request is anonymous.
      expect(await me.json(), `replica ${port} after sign-out`).toMatchObject({ actor: 'anonymous' });
    }
  } finally {
    await viaNginx.dispose();
  }
  await expect.poll(leader, { timeout: 15_000 }).not.toBeNull();
});

test('exactly one replica polls the cluster; every replica answers its status, fresh, from that one’s view', async () => {
  const shards = async () => {
    const details: string[] = [];
    for (const port of REPLICA_PORTS) {
      const r = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as Readiness;
      details.push(r.checks.find((c) => c.name === 'shards')?.detail ?? 'none');
    }
    return details.sort();
  };
  // etcd is read by one dashboard, not three: each of the two clusters is polled by one replica; none by two.
  await expect
    .poll(
      async () => {
        const owned = (await shards()).map((d) => /^polls (\d) of 2 cluster\(s\) for the record$/.exec(d)?.[1]);
        return owned.every((n) => n !== undefined) ? owned.reduce((sum, n) => sum + Number(n), 0) : owned;
      },
      { timeout: 20_000 },
    )
    .toBe(2);
  // The owner's first poll, then the others' next read of its view (each reads them every second): within seconds.
  for (const port of REPLICA_PORTS) {
    await expect
      .poll(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/api/clusters/${CLUSTER_ID}/status`);
          const body = (await res.json()) as { stale?: boolean; members?: unknown[]; observedAt?: string };
          return `HTTP ${res.status}, stale ${body.stale}, ${body.members?.length} members, observed ${body.observedAt}`;
        },
        { message: `replica ${port}`, timeout: 10_000 },
      )
      .toMatch(/^HTTP 200, stale false, 3 members, observed \d{4}-/);
  }
});

test('a maintenance run on one replica holds the cluster: a snapshot or a second run asked of another is refused, naming it and its replica', async () => {
  test.setTimeout(90_000);
  const login = await fetch(`http://127.0.0.1:${REPLICA_PORTS[0]}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: `http://127.0.0.1:${REPLICA_PORTS[0]}` },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  expect(login.status).toBe(200);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const post = (port: number, what: string, data: unknown) =>
    fetch(`http://127.0.0.1:${port}/api/clusters/${CLUSTER_ID}/${what}`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` },
      body: JSON.stringify(data),
    });
  // The leader's schedule takes a snapshot every 4 s: a start that meets one is refused for it, and asked again.
  let started: Response | null = null;
  await expect
    .poll(
      async () => {
        started = await post(REPLICA_PORTS[0]!, 'maintenance', { action: 'defragment' });
        return started.status;
      },
      { timeout: 20_000, intervals: [300] },
    )
    .toBe(202);
  const run = (await started!.json()) as { id: string };

  const snapshot = await post(REPLICA_PORTS[1]!, 'snapshots', {});
  expect(snapshot.status).toBe(409);
  const refused = ((await snapshot.json()) as { error: { code: string; message: string } }).error;
  expect(refused.code).toBe('maintenance_running');
  expect(refused.message).toContain(
    `a maintenance run (${run.id}) is already running for cluster "${CLUSTER_ID}" on replica`,
  );

  const second = await post(REPLICA_PORTS[2]!, 'maintenance', { action: 'defragment' });
  expect(second.status).toBe(409);
  expect(((await second.json()) as { error: { code: string } }).error.code).toBe('maintenance_running');

  // The run ends on its replica; every replica shows it succeeded, and the cluster is free again.
  await expect
    .poll(
      async () => {
        const res = await fetch(
          `http://127.0.0.1:${REPLICA_PORTS[2]}/api/clusters/${CLUSTER_ID}/maintenance/${run.id}`,
          {
            headers: { cookie },
          },
        );
        return ((await res.json()) as { state?: string }).state;
      },
      { timeout: 60_000 },
    )
    .toBe('succeeded');
  await expect
    .poll(async () => (await post(REPLICA_PORTS[1]!, 'snapshots', {})).status, { timeout: 20_000, intervals: [500] })
    .toBe(202);
});

test('a snapshot of a cluster without an off-site copy is refused on replicas, with the reason, and audited', async () => {
  const viaNginx = await request.newContext({ baseURL: nginx.url });
  try {
    const login = await viaNginx.post('/api/auth/login', { data: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(login.status()).toBe(200);
    const refused = await viaNginx.post(`/api/clusters/${LOCAL_ONLY_ID}/snapshots`, { data: {} });
    expect(refused.status()).toBe(409);
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('offsite_required');
    expect(error.message).toContain(`cluster "${LOCAL_ONLY_ID}": snapshots.offsite is not set`);
    // Nothing was taken, on any replica: the cluster's list is empty through every one.
    for (const port of REPLICA_PORTS) {
      const res = await fetch(`http://127.0.0.1:${port}/api/clusters/${LOCAL_ONLY_ID}/snapshots`);
      expect(res.status, `replica ${port}`).toBe(200);
      expect(((await res.json()) as { snapshots: unknown[] }).snapshots, `replica ${port}`).toEqual([]);
    }
    // The refusal is in the audit log (written behind the answer: read until it is there).
    const refusals = async () => {
      const audit = await viaNginx.get('/api/audit?action=snapshot.take&outcome=failure');
      expect(audit.status()).toBe(200);
      const { entries } = (await audit.json()) as {
        entries: Array<{ clusterId: string | null; actor: string; details: { code?: string } }>;
      };
      return entries.filter((e) => e.clusterId === LOCAL_ONLY_ID).map((e) => `${e.actor} ${e.details.code}`);
    };
    await expect.poll(refusals, { timeout: 10_000 }).toEqual(['admin offsite_required']);
  } finally {
    await viaNginx.dispose();
  }
});

test('SIGKILL the leader with an alert firing: another leads within 10 s, the status through nginx stays fresh, nothing is taken or notified twice', async () => {
  test.setTimeout(180_000);
  const api = await request.newContext({ baseURL: nginx.url });
  try {
    // The schedule runs on the leader alone: one snapshot per tick.
    await expect
      .poll(async () => (await scheduledSnapshots(api)).length, { timeout: 30_000 })
      .toBeGreaterThanOrEqual(2);

    // A member stops: member_down fires and is notified once.
    await cluster.stopMember(2);
    const memberName = cluster.state.members[2]!.name;
    await expect.poll(() => notified('member_down'), { timeout: 30_000 }).toEqual([`firing ${memberName}`]);

    const first = await leader();
    expect(first).not.toBeNull();
    // Killed in the middle of a scheduled snapshot: caught streaming (its first bytes received, not yet verified). Read
    // from the leader itself, the one replica that knows a snapshot's progress (the stream lasts a fraction of a second).
    let interrupted: SnapshotRecord | undefined;
    const onLeader = await request.newContext({ baseURL: `http://127.0.0.1:${first}` });
    await expect
      .poll(
        async () => {
          const taken = await scheduledSnapshots(onLeader);
          // Not while the one before is still being copied to S3: its copy would die with the replica (its file is on
          // that replica's disk alone), and the S3 server would be left with a broken upload.
          if (taken.some((s) => s.status === 'succeeded' && !s.locations.some((l) => l.kind === 's3'))) return false;
          interrupted = taken.find(
            // Still streaming, with most of it to come: one caught verifying could be stored verified (the write sent)
            // in the moment before the kill lands.
            (s) =>
              s.status === 'running' &&
              s.progress?.phase === 'streaming' &&
              s.progress.receivedBytes > 0 &&
              s.progress.receivedBytes < (s.progress.expectedBytes ?? Infinity) / 2,
          );
          return interrupted !== undefined;
        },
        { timeout: 60_000, intervals: [50] },
      )
      .toBe(true);
    const killedAt = Date.now();
    await replicas.get(first!)!.stop('SIGKILL');
    replicas.delete(first!);
    await onLeader.dispose();

    // The status the NOC wall polls, through nginx, every 250 ms: always answered, never stale.
    const statuses: string[] = [];
    let polling = true;
    const noc = (async () => {
      while (polling) {
        const res = await fetch(`${nginx.url}/api/clusters/${CLUSTER_ID}/status`);
        const body = (await res.json()) as { stale?: boolean };
        statuses.push(`${res.status}${body.stale === false ? '' : ' stale'}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    await expect.poll(leader, { timeout: 10_000, intervals: [250] }).not.toBeNull();
    const second = await leader();
    expect(second).not.toBe(first);
    const tookOverInMs = Date.now() - killedAt;
    console.log(`replicas: replica ${second} leads ${tookOverInMs} ms after replica ${first} was killed`);
    expect(tookOverInMs).toBeLessThanOrEqual(10_000);

    // The new leader goes on with the schedule.
    const before = (await scheduledSnapshots(api)).length;
    await expect.poll(async () => (await scheduledSnapshots(api)).length, { timeout: 20_000 }).toBeGreaterThan(before);

    // The member comes back: the new leader sends the resolve, once, and never the firing notice again.
    cluster.startMember(2);
    await expect
      .poll(() => notified('member_down'), { timeout: 30_000 })
      .toEqual([`firing ${memberName}`, `resolved ${memberName}`]);

    polling = false;
    await noc;
    expect(statuses.length).toBeGreaterThan(10);
    expect(
      statuses.filter((s) => s !== '200'),
      statuses.join(', '),
    ).toEqual([]);

    // The snapshot the killed leader was taking is recorded as interrupted once its action lease has run out.
    await expect
      .poll(async () => (await scheduledSnapshots(api)).find((s) => s.id === interrupted!.id), { timeout: 45_000 })
      .toMatchObject({
        status: 'failed',
        error: expect.stringContaining('stopped while it was being taken'),
      });

    // The new leader's start did not take the files on the killed replica's disk for lost.
    expect((await scheduledSnapshots(api)).filter((s) => s.missing).map((s) => s.id)).toEqual([]);

    // Every verified snapshot, the killed leader's and the new one's, has its copy in S3 (the file store is per host).
    await expect
      .poll(
        async () => {
          const done = (await scheduledSnapshots(api)).filter((s) => s.status === 'succeeded');
          return {
            verified: done.length > 0,
            notOffsite: done.filter((s) => !s.locations.some((l) => l.kind === 's3')).map((s) => s.id),
          };
        },
        { timeout: 15_000 },
      )
      .toEqual({ verified: true, notOffsite: [] });

    // Every tick of the schedule once: no two scheduled snapshots started within the same four seconds.
    const starts = (await scheduledSnapshots(api)).map((s) => Math.floor(Date.parse(s.startedAt) / 4000)).sort();
    expect(new Set(starts).size).toBe(starts.length);
  } finally {
    await api.dispose();
  }
});

test('PostgreSQL killed under the replicas: the status through nginx stays fresh, history says it is unavailable; back, writes resume and nothing stored is lost', async () => {
  test.setTimeout(120_000);
  const api = await request.newContext({ baseURL: nginx.url });
  try {
    const before = await scheduledSnapshots(api);
    expect(before.length).toBeGreaterThan(0);
    const history = () => api.get(`/api/clusters/${CLUSTER_ID}/history?series=probe_ms&from=-2m`);
    expect((await history()).status()).toBe(200);

    await postgres.kill();
    const killedAt = Date.now();
    // Longer than a cluster lease (6 s): its owner loses it, and every replica polls the cluster itself meanwhile.
    const statuses: string[] = [];
    while (Date.now() - killedAt < 12_000) {
      const res = await fetch(`${nginx.url}/api/clusters/${CLUSTER_ID}/status`);
      const body = (await res.json()) as { stale?: boolean };
      statuses.push(`${res.status}${body.stale === false ? '' : ' stale'}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(
      statuses.filter((s) => s !== '200'),
      statuses.join(', '),
    ).toEqual([]);
    // Asked of a replica itself: nginx takes a 503 for a replica to pass over, and answers 502 when all do.
    const port = [...replicas.keys()][0]!;
    const down = await fetch(`http://127.0.0.1:${port}/api/clusters/${CLUSTER_ID}/history?series=probe_ms&from=-2m`);
    expect(down.status).toBe(503);
    const refusal = ((await down.json()) as { error: { code: string; message: string } }).error;
    expect(refusal.code).toBe('database_unavailable');
    expect(refusal.message).not.toMatch(/password|postgres:\/\/dashboard:[^*]/);

    await postgres.start();
    const backAt = Date.now();
    // Writes resume: the history gets samples taken after PostgreSQL came back, and the schedule records snapshots.
    await expect
      .poll(
        async () => {
          const res = await history();
          if (res.status() !== 200) return 0;
          const body = (await res.json()) as { members: Array<{ points: Array<[number, number]> }> };
          return body.members.flatMap((m) => m.points).filter(([t]) => t > backAt).length;
        },
        { timeout: 30_000, intervals: [500] },
      )
      .toBeGreaterThan(0);
    await expect
      .poll(async () => (await scheduledSnapshots(api)).filter((s) => Date.parse(s.startedAt) > backAt).length, {
        timeout: 30_000,
      })
      .toBeGreaterThan(0);
    // Everything stored before is still there.
    const after = new Set((await scheduledSnapshots(api)).map((s) => s.id));
    expect(before.filter((s) => !after.has(s.id)).map((s) => s.id)).toEqual([]);
  } finally {
    await api.dispose();
  }
});

test('a replica stopped with SIGTERM gives its leases back on the way out: the others lead and poll at once, not after the leases run out', async () => {
  test.setTimeout(60_000);
  await expect.poll(leader, { timeout: 15_000 }).not.toBeNull();
  const port = (await leader())!;
  const readyz = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as Readiness;
  const replicaId = /^replica (\S+)/.exec(readyz.checks.find((c) => c.name === 'leader')?.detail ?? '')?.[1];
  expect(replicaId).toBeTruthy();
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const leases = async () =>
      (
        await db.query<{ name: string; holder: string; live: boolean }>(
          `SELECT name, holder, expires_at > floor(extract(epoch from clock_timestamp()) * 1000) AS live
             FROM leases WHERE name IN ('leader', 'cluster:${CLUSTER_ID}', 'replica:' || $1) ORDER BY name`,
          [replicaId],
        )
      ).rows;
    // It leads, so it holds the leader lease, and its membership; maybe the cluster too.
    const held = (await leases()).filter((l) => l.holder === replicaId && l.live).map((l) => l.name);
    expect(held).toEqual(expect.arrayContaining(['leader']));

    await replicas.get(port)!.stop('SIGTERM');
    replicas.delete(port);
    // Gone, it holds no live lease: every one it held was given back (expired at once) or already taken by another.
    // Without the release each would stay live for up to 6 s more.
    expect((await leases()).filter((l) => l.holder === replicaId && l.live)).toEqual([]);
    const stoppedAt = Date.now();
    await expect.poll(leader, { timeout: 10_000, intervals: [250] }).not.toBeNull();
    console.log(
      `replicas: replica ${await leader()} leads ${Date.now() - stoppedAt} ms after the leader stopped (SIGTERM)`,
    );
    const res = await fetch(`${nginx.url}/api/clusters/${CLUSTER_ID}/status`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { stale?: boolean }).stale).toBe(false);
  } finally {
    await db.end();
  }
});
