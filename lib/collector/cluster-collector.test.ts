// The collector against a real 3-member mTLS etcd cluster: a frozen or dead member must not hold up the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalCluster } from '@/scripts/lib/local-cluster';
import { loadConfig, type ClusterConfig } from '@/lib/config/load-config';
import { ClusterCollector } from './cluster-collector';

const PROBE_TIMEOUT_MS = 800;
let dir: string;
let cluster: LocalCluster;
let config: ClusterConfig;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'collector-test-'));
  cluster = LocalCluster.create({ dir: path.join(dir, 'c'), members: 3, basePort: 24400, name: 'ct' });
  await cluster.start();
  const loaded = loadConfig(cluster.etcdctlEnv);
  config = loaded.clusters[0]!;
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function collector(): ClusterCollector {
  return new ClusterCollector(config, {
    pollIntervalMs: 1000,
    probeTimeoutMs: PROBE_TIMEOUT_MS,
    metricsIntervalMs: 0,
    recorder: null,
  });
}

describe('ClusterCollector against real etcd', () => {
  it('reads every member, the leader and hex ids like etcdctl', async () => {
    const c = collector();
    try {
      const obs = await c.pollOnce();
      expect(obs.quorum.state).toBe('healthy');
      expect(obs.members.map((m) => m.name).sort()).toEqual(['ct-m0', 'ct-m1', 'ct-m2']);
      expect(obs.members.every((m) => m.health === 'healthy' && m.probeMs !== null && m.status !== null)).toBe(true);
      expect(obs.leader?.id).toMatch(/^[0-9a-f]+$/);
      expect(obs.members.filter((m) => m.status?.isLeader).map((m) => m.id)).toEqual([obs.leader?.id]);
      expect(obs.alarms).toEqual([]);
      expect(obs.warnings).toEqual([]);
    } finally {
      c.stop();
    }
  });

  it('a frozen member (SIGSTOP) is reported within one deadline and the others stay healthy', async () => {
    const c = collector();
    await c.pollOnce();
    const follower = (await c.pollOnce()).members.find((m) => !m.status?.isLeader)!;
    const index = cluster.indexOfName(follower.name);
    await cluster.freezeMember(index);
    try {
      // Without a deadline this poll would hang forever; it returns, naming the deadline as the reason.
      const obs = await c.pollOnce();
      const frozen = obs.members.find((m) => m.name === follower.name)!;
      expect(frozen.health).toBe('unreachable');
      expect(frozen.error).toMatch(/deadline/);
      expect(obs.members.filter((m) => m.name !== follower.name).every((m) => m.health === 'healthy')).toBe(true);
      expect(obs.quorum.state).toBe('at-risk');
    } finally {
      await cluster.thawMember(index);
      c.stop();
    }
  });

  it('reports a recovered member healthy on the next poll (no circuit breaker holding it down)', async () => {
    const c = collector();
    try {
      await c.pollOnce();
      await cluster.stopMember(1, 'SIGKILL');
      const down = await c.pollOnce();
      expect(down.members.find((m) => m.name === 'ct-m1')?.health).toBe('unreachable');
      cluster.startMember(1);
      await cluster.waitHealthy(20_000, [1]);
      // The first poll after /health says true must already see it: poll until a short deadline, not a fixed sleep.
      const deadline = Date.now() + 3000;
      let health = 'unreachable';
      while (Date.now() < deadline && health !== 'healthy') {
        health = (await c.pollOnce()).members.find((m) => m.name === 'ct-m1')?.health ?? 'missing';
      }
      expect(health).toBe('healthy');
    } finally {
      c.stop();
    }
  });
});
