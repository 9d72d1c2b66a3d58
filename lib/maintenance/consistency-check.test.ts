// The consistency check against a real 3-member cluster: no false alarm over many checks while writes and a
// compaction run, and a member whose bbolt file was changed offline is named within one check interval.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { LocalCluster } from '@/scripts/lib/local-cluster';
import { ensureBboltEdit, rewriteValue } from '@/scripts/lib/bbolt-edit';
import { selectedEtcdLine } from '@/scripts/lib/etcd-versions';
import { evaluateRules } from '@/lib/alerts/rules';
import { DEFAULT_THRESHOLDS } from '@/lib/cluster/thresholds';
import { ClusterCollector } from '@/lib/collector/cluster-collector';
import { loadConfig, type ClusterConfig } from '@/lib/config/load-config';
import { openDatabase } from '@/lib/db/database';
import { sqliteStore } from '@/lib/db/sqlite-store';
import { createMemberClient, type MemberClient } from '@/lib/etcd/member-client';
import { ConsistencyChecker } from './consistency-check';
import { MaintenanceStore } from './maintenance-store';
import { until } from '@/test/support/poll';

const INTERVAL_MS = 1500;
let dir: string;
let cluster: LocalCluster;
let config: ClusterConfig;
let db: Database.Database;
let collector: ClusterCollector;
let client: MemberClient;
let store: MaintenanceStore;

const healthy = () =>
  until(
    () => collector.current(),
    (o) => o !== null && o.quorum.state === 'healthy' && o.members.every((m) => m.health === 'healthy'),
  );

function checker(): ConsistencyChecker {
  return new ConsistencyChecker({
    clusters: [config],
    store,
    observe: () => collector.current(),
    maintenanceRunning: () => null,
    hashTimeoutMs: 10_000,
  });
}

beforeAll(async () => {
  ensureBboltEdit();
  dir = mkdtempSync(path.join(os.tmpdir(), 'consistency-test-'));
  cluster = LocalCluster.create({
    dir: path.join(dir, 'c'),
    members: 3,
    basePort: 25540,
    name: 'cc',
    etcd: selectedEtcdLine(),
  });
  await cluster.start();
  const loaded = loadConfig(cluster.etcdctlEnv).clusters[0]!;
  config = { ...loaded, maintenance: { ...loaded.maintenance, consistencyCheckMs: INTERVAL_MS } };
  db = openDatabase(path.join(dir, 'dashboard.sqlite'));
  store = new MaintenanceStore(sqliteStore(db));
  collector = new ClusterCollector(config, {
    pollIntervalMs: 300,
    probeTimeoutMs: 800,
    metricsIntervalMs: 0,
    recorder: null,
  });
  collector.start();
  client = createMemberClient({ endpoint: config.endpoints[0]!, tls: config.tls, timeoutMs: 10_000 });
  await healthy();
});

afterAll(async () => {
  client?.close();
  collector?.stop();
  await cluster?.stop();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('consistency check against real etcd', () => {
  it('finds the members in agreement on every check while writes and a compaction run', async () => {
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing; i++) await client.put(`w/${i % 100}`).value(String(i));
    })();
    const c = checker();
    const results = [];
    try {
      for (let i = 0; i < 12; i++) {
        if (i === 6) {
          const rev = Number((await client.get('w/0').exec()).header.revision);
          await client.kv.compact({ revision: String(rev), physical: true });
        }
        results.push(await c.checkOnce(config.id));
      }
    } finally {
      writing = false;
      await writes;
    }
    for (const r of results) {
      expect(r?.agree, JSON.stringify(r)).toBe(true);
      expect(r?.suspect).toBeNull();
      expect(r?.members.every((m) => m.hash !== null && m.error === null)).toBe(true);
    }
    expect(new Set(results.map((r) => r?.revision)).size).toBeGreaterThan(1);
    expect((await c.history(config.id, 100)).length).toBeGreaterThanOrEqual(12);
  });

  it('names a member whose data was changed offline within one check interval, and the alert fires', async () => {
    await client.put('diverge/k').value('v1');
    await client.put('diverge/k').value('v2');
    const obs = await healthy();
    const follower = obs!.members.find((m) => !m.status?.isLeader)!;
    const index = cluster.indexOfName(follower.name);
    // Every member has applied the write before one is stopped.
    await until(
      () => collector.current(),
      (o) => new Set(o?.members.map((m) => m.status?.raftAppliedIndex)).size === 1,
    );
    await cluster.stopMember(index);
    await rewriteValue(path.join(cluster.member(index).dataDir, 'member', 'snap', 'db'), 'diverge/k', 'evil');
    cluster.startMember(index);
    await cluster.waitHealthy();
    await healthy();

    const c = checker();
    c.start(0);
    try {
      const startedAt = Date.now();
      const check = await until(
        () => c.latest(config.id),
        (x) => x !== null && Date.parse(x.checkedAt) >= startedAt && x.agree === false,
        INTERVAL_MS * 2 + 10_000,
      );
      expect(check?.agree).toBe(false);
      expect(check?.suspect).toBe(follower.id);
      expect(check?.note).toContain(follower.name);
      const findings = evaluateRules({
        now: Date.now(),
        observation: collector.current(),
        stale: false,
        observedAt: Date.now(),
        metrics: new Map(),
        leaderChangesIn15m: 0,
        hoursToQuota: null,
        snapshots: { lastVerifiedAt: Date.now(), lastVerifiedOffsite: true },
        certificates: [],
        secrets: null,
        consistency: check,
        thresholds: DEFAULT_THRESHOLDS,
      });
      const diverged = findings.find((f) => f.rule === 'members_diverged');
      expect(diverged).toMatchObject({ severity: 'critical', memberId: follower.id, memberName: follower.name });
    } finally {
      c.stop();
    }
  });
});
