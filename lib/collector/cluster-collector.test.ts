// The collector against a real 3-member mTLS etcd cluster: a frozen or dead member must not hold up the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkhead } from 'cockatiel';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalCluster } from '@/scripts/lib/local-cluster';
import { selectedEtcdLine } from '@/scripts/lib/etcd-versions';
import { loadConfig, type ClusterConfig } from '@/lib/config/load-config';
import { createMemberClient } from '@/lib/etcd/member-client';
import { scrapeMetrics } from '@/lib/etcd/metrics-scrape';
import { parseEtcdMetrics } from '@/lib/metrics/etcd-metrics';
import { until } from '@/test/support/poll';
import { ClusterCollector } from './cluster-collector';

const PROBE_TIMEOUT_MS = 800;
const LINE = selectedEtcdLine();
/** Not etcd's 2 GiB default, and room for the data the defragmentation test writes. */
const QUOTA_BYTES = 160 * 1024 * 1024;
let dir: string;
let cluster: LocalCluster;
let config: ClusterConfig;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'collector-test-'));
  cluster = LocalCluster.create({
    dir: path.join(dir, 'c'),
    members: 3,
    basePort: 24400,
    name: 'ct',
    quotaBackendBytes: QUOTA_BYTES,
    etcd: LINE,
  });
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

  it('a poll under way when the collector stops (another replica owns the cluster now) is neither shown nor polled on', async () => {
    const polled: string[] = [];
    const c = new ClusterCollector(config, {
      pollIntervalMs: 1000,
      probeTimeoutMs: PROBE_TIMEOUT_MS,
      metricsIntervalMs: 0,
      recorder: null,
      onPolled: (id) => polled.push(id),
    });
    const first = await c.pollOnce();
    expect(first.quorum.state).toBe('healthy');
    // Its calls are cut by the stop: what they answer says nothing about etcd.
    const cut = c.pollOnce();
    c.stop();
    const answered = await cut;
    expect(answered.warnings).toContain('stopped during this poll');
    expect(c.current()?.observedAt).toBe(first.observedAt);
    expect(c.current()?.quorum.state).toBe('healthy');
    expect(polled).toEqual([config.id]);
  });

  it("reads the members' server certificates and counts the Secrets beside its polls, once started", async () => {
    const etcd = createMemberClient({ endpoint: config.endpoints[0]!, tls: config.tls, timeoutMs: 5000 });
    await etcd.put('/registry/secrets/default/plain').value(Buffer.from('k8s\0\n\x0cv1\x12\x06Secret'));
    await etcd.put('/registry/secrets/default/sealed').value(Buffer.from('k8s:enc:aescbc:v1:key1:sealed'));
    etcd.close();
    const c = collector();
    expect(c.certificates()).toBeNull();
    expect(c.census()).toBeNull();
    c.start();
    try {
      const deadline = Date.now() + 15_000;
      while ((c.certificates() === null || c.census() === null) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const certs = c.certificates() ?? [];
      expect(certs.map((m) => m.memberName).sort()).toEqual(['ct-m0', 'ct-m1', 'ct-m2']);
      expect(certs.every((m) => m.validTo > Date.now())).toBe(true);
      expect(c.census()).toMatchObject({ ok: true, total: 2, plain: 1, encrypted: 1, byProvider: { aescbc: 1 } });
    } finally {
      c.stop();
    }
  });

  it('taking a cluster over from another replica carries on its certificates and census', async () => {
    const owner = collector();
    owner.start();
    let published: ReturnType<ClusterCollector['view']> = null;
    try {
      const deadline = Date.now() + 15_000;
      while ((owner.certificates() === null || owner.census() === null) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      published = owner.view();
    } finally {
      owner.stop();
    }
    const census = published?.census;
    if (!published || !census || !('ok' in census) || !published.certificates?.length) {
      throw new Error(`the owner published no certificates or census: ${JSON.stringify(published?.census)}`);
    }
    // A day off every expiry, so what is shown can be told from a fresh round of handshakes.
    const carried = published.certificates.map((m) => ({ ...m, validTo: m.validTo - 86_400_000 }));
    const next = collector();
    next.adopt({ ...published, certificates: carried });
    next.start();
    try {
      // Two polls of its own: a census or handshake begun with the first would have ended by the second.
      const ownPolls: string[] = [];
      const deadline = Date.now() + 15_000;
      while (ownPolls.length < 2 && Date.now() < deadline) {
        const at = next.view()?.observation.observedAt;
        if (at && !ownPolls.includes(at)) ownPolls.push(at);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(ownPolls).toHaveLength(2);
      expect(next.certificates()).toEqual(carried);
      expect(next.census()).toEqual(census);
      expect(next.view()?.census).toEqual(census);
    } finally {
      next.stop();
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

  it('a poll whose calls missed their deadline while this process was held up is not shown; the next one is', async () => {
    const c = collector();
    await c.pollOnce();
    const healthy = await c.pollOnce();
    expect(healthy.quorum.state).toBe('healthy');
    const follower = healthy.members.find((m) => !m.status?.isLeader)!;
    const index = cluster.indexOfName(follower.name);
    await cluster.freezeMember(index);
    try {
      // The event loop held up past the deadline, as a starved or overloaded dashboard is: whether the member or this
      // process was slow cannot be told, so the poll is not shown and the cluster is asked again.
      const poll = c.pollOnce();
      const until = performance.now() + PROBE_TIMEOUT_MS + 500;
      while (performance.now() < until) {
        // busy: nothing else runs
      }
      await poll;
      expect(c.current()?.observedAt).toBe(healthy.observedAt);
      expect(c.current()?.quorum.state).toBe('healthy');
      expect(c.counters.heldUp).toBe(1);
      // Asked again with the loop free: the frozen member is reported.
      const next = await c.pollOnce();
      expect(next.members.find((m) => m.name === follower.name)?.health).toBe('unreachable');
      expect(c.current()?.observedAt).toBe(next.observedAt);
      expect(c.counters.heldUp).toBe(1);
    } finally {
      await cluster.thawMember(index);
      c.stop();
    }
  });

  /**
   * `c` takes the cluster over: another collector polls it once and publishes, `c` adopts that view (what it shows
   * until its own first poll), and a follower is frozen, so a call of the next poll misses its deadline.
   */
  async function takenOverWithAFrozenFollower(c: ClusterCollector) {
    const owner = collector();
    const healthy = await owner.pollOnce();
    const published = owner.view();
    owner.stop();
    if (published) c.adopt(published);
    const follower = healthy.members.find((m) => !m.status?.isLeader)!;
    const index = cluster.indexOfName(follower.name);
    await cluster.freezeMember(index);
    return { healthy, follower, index };
  }

  it('a first poll held up after a takeover (dozens of clusters at once) is asked again within seconds, twice', async () => {
    // Held up for the first three polls: the first two are asked again soon; the third waits the usual interval.
    let held = 3;
    const c = new ClusterCollector(config, {
      pollIntervalMs: 10_000,
      probeTimeoutMs: PROBE_TIMEOUT_MS,
      metricsIntervalMs: 0,
      recorder: null,
      loopLag: () => (held > 0 ? (held--, 5 * PROBE_TIMEOUT_MS) : 0),
    });
    const { healthy, index } = await takenOverWithAFrozenFollower(c);
    const startedAt = Date.now();
    c.start();
    try {
      const deadline = Date.now() + 12_000;
      while (c.counters.heldUp < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // Three held-up polls within 12 s, with a 10 s interval: the first two were asked again (each after 2–4 s);
      // one retry only would put the third past the interval (after 13 s at the earliest).
      expect(c.counters.heldUp).toBe(3);
      expect(Date.now() - startedAt).toBeLessThan(12_000);
      expect(c.current()?.observedAt).toBe(healthy.observedAt);
      // The third held-up poll is not asked again soon: the next comes at the interval.
      const polls = c.counters.polls;
      await new Promise((r) => setTimeout(r, 4_500));
      expect(c.counters.polls).toBe(polls);
    } finally {
      await cluster.thawMember(index);
      c.stop();
    }
  });

  it('a first poll after a takeover whose calls missed their deadline is held back, not shown as members down; the retries show it', async () => {
    // Never held up here: the calls miss their deadline on a frozen member alone.
    const c = new ClusterCollector(config, {
      pollIntervalMs: 10_000,
      probeTimeoutMs: PROBE_TIMEOUT_MS,
      metricsIntervalMs: 0,
      recorder: null,
      loopLag: () => 0,
    });
    const { healthy, follower, index } = await takenOverWithAFrozenFollower(c);
    c.start();
    try {
      // The first poll: held back, the old owner's view still shown.
      expect(
        await until(
          () => c.counters.heldBack,
          (n) => n >= 1,
          5_000,
        ),
      ).toBe(1);
      expect(c.current()?.observedAt).toBe(healthy.observedAt);
      // Two quick retries, both held back too; then the member is shown as it is, well before the interval's poll.
      const shown = await until(
        () => c.current(),
        (o) => o?.observedAt !== healthy.observedAt,
        15_000,
      );
      expect(c.counters.heldBack).toBe(2);
      expect(shown?.members.find((m) => m.name === follower.name)?.health).not.toBe('healthy');
    } finally {
      await cluster.thawMember(index);
      c.stop();
    }
  });

  it("first polls take their turn at the process's gate; one stopped while it waited opens no connection", async () => {
    // One at a time, and a follower frozen, so each first poll lasts a deadline (the new clients' longer one).
    const gate = bulkhead(1, 10);
    const make = () =>
      new ClusterCollector(config, {
        pollIntervalMs: 60_000,
        probeTimeoutMs: PROBE_TIMEOUT_MS,
        metricsIntervalMs: 0,
        recorder: null,
        loopLag: () => 0,
        firstPolls: gate,
      });
    const [a, b, c] = [make(), make(), make()];
    const healthy = await a.pollOnce();
    a.stop();
    const follower = healthy.members.find((m) => !m.status?.isLeader)!;
    const index = cluster.indexOfName(follower.name);
    await cluster.freezeMember(index);
    try {
      a.start();
      b.start();
      c.start();
      // b and c wait while a polls; c gives up its turn there (another replica owns its cluster again).
      expect(
        await until(
          () => gate.queueSlots,
          (n) => n === 8,
          5_000,
        ),
      ).toBe(8);
      c.stop();
      const firstOf = (x: ClusterCollector) =>
        until(
          () => x.current(),
          (o) => o !== null && o.observedAt !== healthy.observedAt,
          15_000,
        );
      const [fromA, fromB] = await Promise.all([firstOf(a), firstOf(b)]);
      // b's poll began when a's had ended: it ended a whole deadline later, not beside it.
      expect(Date.parse(fromB!.observedAt!) - Date.parse(fromA!.observedAt!)).toBeGreaterThanOrEqual(PROBE_TIMEOUT_MS);
      // The frozen member shown as it is (by its endpoint when the member list was asked of it, so not by name).
      expect(fromB?.members.filter((m) => m.health !== 'healthy').length).toBe(1);
      // c never polled: nothing shown, no poll counted, even once the gate was free.
      await until(
        () => gate.executionSlots,
        (n) => n === 1,
        5_000,
      );
      expect(c.current()).toBeNull();
      expect(c.counters.polls).toBe(0);
    } finally {
      await cluster.thawMember(index);
      for (const x of [a, b, c]) x.stop();
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

  it('takes the quota from Status on etcd 3.6+, and from the etcd_server_quota_backend_bytes metric before', async () => {
    const c = collector();
    try {
      const first = await c.pollOnce();
      if (LINE === '3.4' || LINE === '3.5') {
        // No quota in their Status: unknown until the metrics are scraped.
        expect(first.quotaBackendBytes).toBeNull();
        expect(first.quotaSource).toBeNull();
      } else {
        expect(first.quotaBackendBytes).toBe(QUOTA_BYTES);
        expect(first.quotaSource).toBe('status');
      }
      await c.scrapeOnce();
      const scraped = await c.pollOnce();
      expect(scraped.quotaBackendBytes).toBe(QUOTA_BYTES);
      expect(scraped.quotaSource).toBe(LINE === '3.4' || LINE === '3.5' ? 'metrics' : 'status');
      expect(scraped.members.every((m) => m.defragmenting === false)).toBe(true);
    } finally {
      c.stop();
    }
  });

  it('shows a member as defragmenting while its etcd_disk_defrag_inflight is 1, and not after', async () => {
    const c = collector();
    const follower = (await c.pollOnce()).members.find((m) => m.status && !m.status.isLeader);
    if (!follower?.endpoint) throw new Error('no follower answered');
    const etcd = createMemberClient({ endpoint: follower.endpoint, tls: config.tls, timeoutMs: 30_000 });
    try {
      // About 60 MB of live keys: defragmenting them takes a few hundred ms, long enough to be scraped.
      const value = 'x'.repeat(1000);
      for (let i = 0; i < 60_000; i += 128 * 8) {
        await Promise.all(
          Array.from({ length: 8 }, (_, b) => {
            const from = i + b * 128;
            const puts = Array.from({ length: 128 }, (_, j) => etcd.put(`defrag/${from + j}`).value(value));
            return etcd
              .if('defrag/none', 'Version', '==', 0)
              .then(...puts)
              .commit();
          }),
        );
      }
      let finished = false;
      const defrag = etcd.maintenance.defragment().finally(() => (finished = true));
      // Wait until the member itself says it is defragmenting, so the collector's scrape cannot come too early.
      const metricsUrl = `${cluster.member(cluster.indexOfName(follower.name)).metricsUrl}/metrics`;
      let running = false;
      while (!finished && !running) {
        const res = await scrapeMetrics(metricsUrl, null, 2000);
        running = res.ok && parseEtcdMetrics(res.text, Date.now()).defragInflight === true;
      }
      expect(running, 'the defragmentation ended before it could be seen; write more data').toBe(true);
      await c.scrapeOnce();
      const during = await c.pollOnce();
      await defrag;
      expect(during.members.find((m) => m.id === follower.id)?.defragmenting).toBe(true);
      expect(during.members.filter((m) => m.defragmenting)).toHaveLength(1);
      await c.scrapeOnce();
      const after = await c.pollOnce();
      expect(after.members.find((m) => m.id === follower.id)?.defragmenting).toBe(false);
    } finally {
      etcd.close();
      c.stop();
    }
  });
});
