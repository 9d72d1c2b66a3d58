// The restore runbook is followed as an operator would follow it, on a real etcd 3.6 cluster (the first version whose
// etcdctl no longer restores): its "Restore on <member>" commands are copied from the API, run with that version's
// etcdutl, the data directories switched, the members started, and the restored cluster serves the snapshot's
// revision and keys.
import { expect, test, type APIRequestContext } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LocalCluster } from '../scripts/lib/local-cluster';
import type { DashboardProcess } from '../scripts/lib/dashboard-process';
import type { RunbookStep } from '../lib/snapshots/restore-runbook';
import { E2E_ROOT } from './support/e2e-env';
import { etcdctlOn, freshCluster, operatorApi, startAdminDashboard } from './support/local-stack';
import { snapshotEnding } from './support/snapshot-api';

const PORT = 3201;
const ROOT = path.join(E2E_ROOT, 'restore-runbook');
const ADMIN_PASSWORD = 'runbook-admin-password-1';

let cluster: LocalCluster;
let dashboard: DashboardProcess | null = null;
let operator: APIRequestContext;

const etcdctl = (args: string[]) => etcdctlOn(cluster, args);

function revision(): number {
  const out = JSON.parse(etcdctl(['endpoint', 'status', '-w', 'json'])) as [
    { Status: { header: { revision: number } } },
  ];
  return out[0].Status.header.revision;
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  cluster = freshCluster(ROOT, { basePort: 24500, name: 'rb', etcd: '3.6' });
  await cluster.start();
  dashboard = await startAdminDashboard({
    root: ROOT,
    port: PORT,
    adminPassword: ADMIN_PASSWORD,
    entry: { id: 'rb', name: 'Runbook cluster', cluster: cluster.state },
  });
  await expect.poll(() => /local user\(s\)/.test(dashboard!.log()), { timeout: 10_000 }).toBe(true);
  operator = await operatorApi(dashboard.url, ADMIN_PASSWORD, 'runbook-operator');
});

test.afterAll(async () => {
  await dashboard?.stop();
  await cluster?.stop();
});

test("the runbook's restore commands for an etcd 3.6 cluster, run as written, bring back the snapshot's revision", async () => {
  test.setTimeout(120_000);
  expect(cluster.binaries.line).toBe('3.6');
  for (let i = 0; i < 40; i++) etcdctl(['put', `/apps/config/key-${i}`, `value-${i}`]);
  etcdctl(['del', '/apps/config/key-0']);
  // The dashboard reads the members' versions from Status: the runbook is written for what they report.
  await expect
    .poll(async () => {
      const s = (await (await operator.get('/api/clusters/rb/status')).json()) as {
        members: { status: { version: string } | null }[];
      };
      return s.members.map((m) => m.status?.version ?? null);
    })
    .toEqual(['3.6.14', '3.6.14', '3.6.14']);
  // etcd 3.6 writes its storage version into the database a few seconds after start; etcdutl 3.6 counts live keys
  // only in a snapshot that carries it (before that, every entry of every bucket). Every member: the snapshot is read
  // from a follower, which may write it later than the first endpoint.
  await expect
    .poll(() => {
      const out = JSON.parse(etcdctl(['endpoint', 'status', '-w', 'json'])) as Array<{
        Status: { storageVersion?: string };
      }>;
      return out.map((e) => e.Status.storageVersion ?? null);
    })
    .toEqual(['3.6.0', '3.6.0', '3.6.0']);

  const taken = await snapshotEnding(operator, 'rb', 'succeeded', 60_000);
  const snapRevision = taken.revision!;
  expect(snapRevision).toBe(revision());
  // As etcdutl 3.6 counts them: the live keys.
  expect(taken.totalKeys).toBe(39);

  const downloaded = path.join(ROOT, `${taken.id}.db`);
  const dl = await operator.get(`/api/clusters/rb/snapshots/${taken.id}/download`);
  expect(dl.status()).toBe(200);
  writeFileSync(downloaded, await dl.body());

  const detail = (await (await operator.get(`/api/clusters/rb/snapshots/${taken.id}`)).json()) as {
    runbook: RunbookStep[];
  };
  const text = detail.runbook.map((s) => `${s.title}\n${s.note}\n${s.commands}`).join('\n');
  expect(text).toContain('etcdutl snapshot restore');
  expect(text).not.toMatch(/etcdctl snapshot (restore|status)/);
  const restoreSteps = detail.runbook.filter((s) => /^\d+\. Restore on /.test(s.title));
  expect(restoreSteps).toHaveLength(3);

  // Everything stops at once, as the runbook's step says, before any member restarts on restored data.
  await cluster.stop();
  for (const [i, m] of cluster.state.members.entries()) {
    const step = restoreSteps.find((s) => s.title.includes(`Restore on ${m.name} `));
    expect(step, `a restore step for ${m.name}`).toBeDefined();
    const restored = path.join(ROOT, `restored-${i}`);
    // The operator's copy: the file where step 2 put it, a data directory of their own, no sudo on this machine.
    const command = step!.commands
      .replace(/^sudo /, '')
      .replace(/\S+\/[^/\s]+\.db(?=\s)/, downloaded)
      .replace(/--data-dir \S+/, `--data-dir ${restored}`);
    execFileSync('sh', ['-c', command], {
      env: { ...process.env, PATH: `${path.dirname(cluster.binaries.etcdutl!)}:${process.env.PATH}` },
      stdio: 'pipe',
    });
    expect(existsSync(path.join(restored, 'member', 'snap', 'db'))).toBe(true);
    // The switch of the data directory (the runbook's next step).
    rmSync(m.dataDir, { recursive: true, force: true });
    renameSync(restored, m.dataDir);
  }
  await cluster.start();

  // The restored cluster: healthy, at the snapshot's revision, with its keys (the deleted one still deleted).
  expect(revision()).toBe(snapRevision);
  expect(etcdctl(['get', '/apps/config/key-39', '--print-value-only']).trim()).toBe('value-39');
  expect(etcdctl(['get', '/apps/config/key-0', '--print-value-only']).trim()).toBe('');
  const keys = etcdctl(['get', '/apps/config/', '--prefix', '--keys-only']).split('\n').filter(Boolean);
  expect(keys).toHaveLength(39);
  await expect
    .poll(async () => {
      const s = (await (await operator.get('/api/clusters/rb/status')).json()) as { quorum: { state: string } };
      return s.quorum.state;
    })
    .toBe('healthy');
});
