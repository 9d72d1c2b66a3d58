// NOSPACE end to end on a real cluster with a small quota: fill it until etcd raises the alarm and refuses writes,
// then one guided run (compact, defragment every member, disarm, a write) brings writes back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { LocalCluster } from '@/scripts/lib/local-cluster';
import { selectedEtcdLine } from '@/scripts/lib/etcd-versions';
import { AuditLog } from '@/lib/auth/audit-log';
import { sqliteStore } from '@/lib/db/sqlite-store';
import { ClusterCollector } from '@/lib/collector/cluster-collector';
import { loadConfig, type ClusterConfig } from '@/lib/config/load-config';
import { openDatabase } from '@/lib/db/database';
import { isDomainError } from '@/lib/errors/domain-errors';
import { createMemberClient, type MemberClient } from '@/lib/etcd/member-client';
import { memberIdToDecimal } from '@/lib/etcd/maintenance-calls';
import { DEFAULT_MAINTENANCE_SETTINGS, MaintenanceService } from './maintenance-service';
import { MaintenanceStore } from './maintenance-store';
import { until } from '@/test/support/poll';

const QUOTA_BYTES = 16 * 1024 * 1024;
let dir: string;
let cluster: LocalCluster;
let config: ClusterConfig;
let db: Database.Database;
let collector: ClusterCollector;
let client: MemberClient;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'nospace-test-'));
  cluster = LocalCluster.create({
    dir: path.join(dir, 'c'),
    members: 3,
    basePort: 25520,
    name: 'ns',
    quotaBackendBytes: QUOTA_BYTES,
    etcd: selectedEtcdLine(),
  });
  await cluster.start();
  config = loadConfig(cluster.etcdctlEnv).clusters[0]!;
  db = openDatabase(path.join(dir, 'dashboard.sqlite'));
  collector = new ClusterCollector(config, {
    pollIntervalMs: 300,
    probeTimeoutMs: 800,
    metricsIntervalMs: 2000,
    recorder: null,
  });
  collector.start();
  client = createMemberClient({ endpoint: config.endpoints[0]!, tls: config.tls, timeoutMs: 10_000 });
});

afterAll(async () => {
  client?.close();
  collector?.stop();
  await cluster?.stop();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('NOSPACE recovery against real etcd', () => {
  it(
    'compacts, defragments every member, disarms the alarm, and writes succeed again',
    { timeout: 180_000 },
    async () => {
      // Overwrite the same few keys: every revision stays until a compaction, so the database fills with history.
      const value = 'v'.repeat(64 * 1024);
      let refused: Error | null = null;
      for (let i = 0; i < 2000 && !refused; i++) {
        try {
          await client.put(`fill/${i % 8}`).value(value);
        } catch (err) {
          refused = err as Error;
        }
      }
      expect(refused?.message).toMatch(/database space exceeded/);
      const alarmed = await until(
        () => collector.current(),
        (o) => (o?.alarms.some((a) => a.alarm === 'NOSPACE') ?? false) && o?.quotaBackendBytes !== null,
      );
      expect(alarmed?.alarms.some((a) => a.alarm === 'NOSPACE')).toBe(true);
      // One member is kept out of the run's plan, to raise its NOSPACE after the plan is made (below). Members raise
      // their own alarm each, and sometimes all of them have before the plan: then that one's is cleared first.
      const late =
        alarmed!.members.find((m) => m.id && !alarmed!.alarms.some((a) => a.memberId === m.id)) ??
        alarmed!.members.at(-1)!;
      if (alarmed!.alarms.some((a) => a.memberId === late.id)) {
        await client.maintenance.alarm({
          action: 'Deactivate',
          alarm: 'Nospace',
          memberID: memberIdToDecimal(late.id!),
        });
        await until(
          () => collector.current(),
          (o) => o !== null && !o.alarms.some((a) => a.memberId === late.id) && o.alarms.length > 0,
        );
      }

      const store = sqliteStore(db);
      const audit = new AuditLog(store);
      const svc = new MaintenanceService({
        clusters: [config],
        store: new MaintenanceStore(store),
        audit,
        events: null,
        observe: () => collector.current(),
        staleAfterMs: 5_000,
        snapshotRunning: () => null,
        markBusy: (_c, m, b) => collector.markBusy(m, b),
        expectLeaderMove: () => undefined,
        failureDetails: (err) => (isDomainError(err) ? { code: err.code } : {}),
        settings: () => ({ ...DEFAULT_MAINTENANCE_SETTINGS, pauseBetweenMembersMs: 200 }),
      });
      // Disarm alone is refused while the space is not back below the quota.
      await expect(
        svc.start(config.id, { action: 'disarm' }, { actor: 'bob', role: 'operator', method: 'token', source: null }),
      ).rejects.toMatchObject({
        code: 'space_not_reclaimed',
      });

      const started = await svc.start(
        config.id,
        { action: 'nospace-recovery' },
        { actor: 'bob', role: 'operator', method: 'token', source: null },
      );
      expect(started.steps.map((s) => s.step)).toEqual([
        'compact',
        'defragment',
        'defragment',
        'defragment',
        ...started.steps.filter((s) => s.step === 'disarm').map(() => 'disarm'),
        'write-check',
      ]);
      // Another member raises its own NOSPACE after the plan was made (as a member does when a write it applies would
      // pass the quota): the run clears that one too, or every write stays refused.
      const planned = new Set(started.steps.filter((s) => s.step === 'disarm').map((s) => s.memberId));
      expect(planned.has(late.id!)).toBe(false);
      await client.maintenance.alarm({ action: 'Activate', alarm: 'Nospace', memberID: memberIdToDecimal(late.id!) });
      await svc.settled(config.id);
      const run = await svc.get(config.id, started.id);
      expect(run.state, `${run.reason} ${JSON.stringify(run.steps.map((s) => [s.step, s.state, s.error]))}`).toBe(
        'succeeded',
      );
      const disarmed = run.steps.filter((x) => x.step === 'disarm').map((x) => x.detail);
      expect(disarmed.join(' ')).toContain(late.id!);
      for (const s of run.steps.filter((x) => x.step === 'defragment')) {
        expect(s.after?.dbSize).toBeLessThan(QUOTA_BYTES / 2);
      }
      // Writes succeed again, and the alarm is gone from etcd's own list.
      await client.put('after/recovery').value('ok');
      const alarms = await client.maintenance.alarm({ action: 'Get', alarm: 'None', memberID: 0 });
      expect(alarms.alarms ?? []).toHaveLength(0);
      const cleared = await until(
        () => collector.current(),
        (o) => o !== null && o.alarms.length === 0 && o.members.every((m) => m.health === 'healthy'),
      );
      expect(cleared?.alarms).toEqual([]);
    },
  );
});
