// The dashboard beside a real Prometheus and Alertmanager (Debian bookworm's 2.42 and 0.25), as a shared monitoring
// stack runs them: /metrics passes promtool and keeps its etcd cluster label beside the target's `cluster`; a plain
// threshold rule fires on a cluster with no verified snapshot; a member stopped reaches Alertmanager as
// etcdDashboardMemberDown with the member's host:port as `instance` (so a silence written for the etcd rules covers
// it), a runbook link that opens the runbook, and the resolve arrives when it is back.
import { expect, request, test, type APIRequestContext } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureMonitoringTools, type MonitoringTools } from '../scripts/lib/monitoring-tools';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import type { LocalCluster } from '../scripts/lib/local-cluster';
import { startReceiver, type TestReceiver } from '../test/support/test-receiver';
import { writeDashboardConfig } from './support/config-file';
import { E2E_ROOT } from './support/e2e-env';
import { freshCluster } from './support/local-stack';
import { startAlertmanager, startPrometheus, type Daemon } from './support/monitoring-stack';

const ROOT = path.join(E2E_ROOT, 'prometheus-alertmanager');
const DASHBOARD_PORT = 3330;
const ALERTMANAGER_PORT = 25790;
const PROMETHEUS_PORT = 25791;
const CLUSTER_ID = 'pa';
/** The target label a multi-cluster Prometheus puts on everything it scrapes. */
const TARGET_CLUSTER = 'k8s-prod';

let tools: MonitoringTools;
let cluster: LocalCluster;
let dashboard: DashboardProcess;
let alertmanager: Daemon;
let prometheus: Daemon;
let hook: TestReceiver;
let api: APIRequestContext;

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL: string;
  status: { state: string; silencedBy: string[] };
}

/** Alertmanager's webhook payloads, as its `hook` receiver was sent them. */
interface AmWebhook {
  status: 'firing' | 'resolved';
  groupLabels: Record<string, string>;
  alerts: Array<{ status: string; labels: Record<string, string> }>;
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  tools = ensureMonitoringTools();
  hook = await startReceiver();
  cluster = freshCluster(ROOT, { basePort: 25760, name: 'pa' });
  await cluster.start();
  alertmanager = await startAlertmanager(tools, ROOT, ALERTMANAGER_PORT, `${hook.origin}/alertmanager`);
  const config = writeDashboardConfig(path.join(ROOT, 'dashboard.yaml'), [
    {
      id: CLUSTER_ID,
      name: 'Prometheus neighbours',
      cluster: cluster.state,
      alerts: {
        receivers: [{ type: 'alertmanager', name: 'shared-am', url: alertmanager.url }],
        thresholds: { forSeconds: { member_down: 2 } },
      },
    },
  ]);
  const url = `http://127.0.0.1:${DASHBOARD_PORT}`;
  dashboard = await startDashboard({
    port: DASHBOARD_PORT,
    env: { ETCD_DASHBOARD_CONFIG: config, DASHBOARD_ANONYMOUS: 'viewer', DASHBOARD_URL: url },
    logFile: path.join(ROOT, 'dashboard.log'),
  });
  prometheus = await startPrometheus(tools, ROOT, PROMETHEUS_PORT, dashboard.url, TARGET_CLUSTER, [
    {
      name: 'etcd-backups',
      rules: [
        {
          // The rule an SRE writes first: no snapshot for a day. With no snapshot at all the age is +Inf, so it fires.
          alert: 'EtcdBackupMissing',
          expr: 'etcd_dashboard_last_verified_snapshot_age_seconds > 86400',
        },
      ],
    },
  ]);
  api = await request.newContext();
});

test.afterAll(async () => {
  await api?.dispose();
  await prometheus?.stop();
  await dashboard?.stop();
  await alertmanager?.stop();
  await cluster?.stop();
  await hook?.close();
});

async function promQuery(query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await api.get(`${prometheus.url}/api/v1/query`, { params: { query } });
  expect(res.status(), await res.text()).toBe(200);
  return (
    (await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }
  ).data.result;
}

async function amAlerts(alertname: string): Promise<AmAlert[]> {
  const res = await api.get(`${alertmanager.url}/api/v2/alerts`, {
    params: { filter: `alertname="${alertname}"`, silenced: 'true', inhibited: 'true' },
  });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()) as AmAlert[];
}

const hostPort = (url: string) => new URL(url).host;

test('/metrics passes promtool, keeps etcd_cluster beside the target’s cluster label, and an age rule fires with no snapshot', async () => {
  test.setTimeout(90_000);
  const text = await (await api.get(`${dashboard.url}/metrics`)).text();
  const lint = spawnSync(tools.promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(`${lint.stdout}${lint.stderr}`.trim()).toBe('');
  expect(lint.status).toBe(0);

  // Scraped with the target label cluster="k8s-prod": ours stays etcd_cluster, nothing becomes exported_cluster.
  await expect
    .poll(async () => (await promQuery('etcd_dashboard_members_healthy'))[0], { timeout: 30_000 })
    .toMatchObject({
      metric: { cluster: TARGET_CLUSTER, etcd_cluster: CLUSTER_ID, job: 'etcd-dashboard' },
      value: [expect.any(Number), '3'],
    });
  expect(await promQuery('{exported_cluster!=""}')).toEqual([]);
  expect((await promQuery('etcd_dashboard_build_info'))[0]?.value[1]).toBe('1');
  expect(Number((await promQuery('process_resident_memory_bytes'))[0]?.value[1])).toBeGreaterThan(10_000_000);
  expect((await promQuery('etcd_dashboard_has_verified_snapshot'))[0]?.value[1]).toBe('0');

  await expect
    .poll(
      async () => {
        const res = await api.get(`${prometheus.url}/api/v1/alerts`);
        const alerts = (
          (await res.json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } }
        ).data.alerts;
        return alerts.find((a) => a.labels.alertname === 'EtcdBackupMissing');
      },
      { timeout: 30_000 },
    )
    .toMatchObject({ state: 'firing', labels: { etcd_cluster: CLUSTER_ID, cluster: TARGET_CLUSTER } });
});

test('a member stopped reaches Alertmanager as etcdDashboardMemberDown, silenced by its host:port, and resolves', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const index = 2;
  const member = cluster.state.members[index]!;
  await cluster.stopMember(index);

  let alert: AmAlert | undefined;
  await expect
    .poll(async () => ((alert = (await amAlerts('etcdDashboardMemberDown'))[0]), alert?.labels.member), {
      timeout: 60_000,
    })
    .toBe(member.name);
  expect(alert!.labels).toMatchObject({
    alertname: 'etcdDashboardMemberDown',
    rule: 'member_down',
    severity: expect.any(String),
    etcd_cluster: CLUSTER_ID,
    instance: hostPort(member.clientUrl),
    // As etcdctl prints it: hex without leading zeros (a random id has one in 1 of 16 cases).
    member_id: expect.stringMatching(/^[1-9a-f][0-9a-f]{0,15}$/),
  });
  expect(alert!.labels).not.toHaveProperty('cluster');
  expect(alert!.generatorURL).toBe(`${dashboard.url}/?cluster=${CLUSTER_ID}`);
  const runbook = alert!.annotations.runbook_url!;
  expect(runbook).toBe(`${dashboard.url}/runbooks#etcdDashboardMemberDown`);

  // The runbook link opens the rule's entry, with the advice the alert carries.
  await page.goto(runbook);
  const entry = page.locator('#etcdDashboardMemberDown');
  await expect(entry.getByRole('heading')).toHaveText('Member down');
  await expect(entry.locator('code').first()).toHaveText('etcdDashboardMemberDown');
  await expect(entry).toContainText(alert!.annotations.description!);

  // Alertmanager grouped and sent it on.
  await expect
    .poll(() =>
      hook.requests
        .map((r) => r.body as AmWebhook)
        .some((b) => b.status === 'firing' && b.groupLabels.alertname === 'etcdDashboardMemberDown'),
    )
    .toBe(true);

  // A silence written as for the etcd project's rules (instance = host:port) covers the dashboard's alert too.
  const now = Date.now();
  const silence = await api.post(`${alertmanager.url}/api/v2/silences`, {
    data: {
      matchers: [{ name: 'instance', value: hostPort(member.clientUrl), isRegex: false, isEqual: true }],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      createdBy: 'e2e',
      comment: `maintenance on ${member.name}`,
    },
  });
  expect(silence.status(), await silence.text()).toBe(200);
  const { silenceID } = (await silence.json()) as { silenceID: string };
  await expect
    .poll(async () => (await amAlerts('etcdDashboardMemberDown'))[0]?.status)
    .toEqual({ state: 'suppressed', silencedBy: [silenceID], inhibitedBy: [] });
  expect((await api.delete(`${alertmanager.url}/api/v2/silence/${silenceID}`)).status()).toBe(200);

  // Back: the dashboard sends the resolve, Alertmanager passes it on.
  cluster.startMember(index);
  await expect
    .poll(
      () =>
        hook.requests
          .map((r) => r.body as AmWebhook)
          .some((b) => b.status === 'resolved' && b.groupLabels.alertname === 'etcdDashboardMemberDown'),
      { timeout: 60_000 },
    )
    .toBe(true);
  const text = await (await api.get(`${dashboard.url}/metrics`)).text();
  const sent =
    /^etcd_dashboard_notifications_sent_total\{etcd_cluster="pa",receiver="shared-am",type="alertmanager"\} (\d+)$/m.exec(
      text,
    );
  expect(Number(sent?.[1])).toBeGreaterThanOrEqual(2);
  expect(text).toMatch(
    /^etcd_dashboard_notifications_failed_total\{etcd_cluster="pa",receiver="shared-am",type="alertmanager"\} 0$/m,
  );
});
