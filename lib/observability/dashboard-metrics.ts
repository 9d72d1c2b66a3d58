// The dashboard's own /metrics in Prometheus format, so an existing Prometheus can scrape what it sees. The etcd
// cluster is the `etcd_cluster` label: `cluster` is the target label of many multi-cluster Prometheus setups, and a
// scraped `cluster` would be renamed `exported_cluster`.
import 'server-only';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { alertName } from '@/lib/alerts/alert-names';
import packageJson from '@/package.json';
import { isStale } from '@/lib/cluster/staleness';
import type { AlertService } from '@/lib/alerts/alert-service';
import type { ClusterCollector } from '@/lib/collector/cluster-collector';
import type { ConsistencyChecker } from '@/lib/maintenance/consistency-check';
import type { MaintenanceService } from '@/lib/maintenance/maintenance-service';
import type { SnapshotManager } from '@/lib/snapshots/snapshot-manager';

export interface MetricsDeps {
  clusters: { list(): ReadonlyArray<{ id: string }> };
  collectors: ReadonlyMap<string, ClusterCollector>;
  staleAfterMs: number;
  snapshots: Pick<SnapshotManager, 'latestVerifiedSummary'> &
    Partial<Pick<SnapshotManager, 'latestRestoreTestedSummary'>>;
  alerts: Pick<AlertService, 'active'> & Partial<Pick<AlertService, 'deliveryCounts'>>;
  consistency?: Pick<ConsistencyChecker, 'latest'>;
  maintenance?: Pick<MaintenanceService, 'running'>;
}

const QUORUM_STATES = ['healthy', 'degraded', 'at-risk', 'lost'] as const;

/**
 * The process' own metrics (CPU, memory, open files, event loop lag, heap), kept in one registry for the process:
 * prom-client reads them at scrape time.
 */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    // Gauges named like counters, which `promtool check metrics` flags; nodejs_active_* by type stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      processRegistry.removeSingleMetric(name);
  }
  return processRegistry;
}

/** The dashboard's release, as package.json has it (the build inlines the number). */
const DASHBOARD_VERSION = packageJson.version;

/** Built per scrape from the services' current state: nothing to keep in step between Next.js's bundles. */
export async function renderDashboardMetrics(
  rt: MetricsDeps,
  now = Date.now(),
): Promise<{ body: string; contentType: string }> {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[]) =>
    new Gauge({ name, help, labelNames, registers: [registry] });

  const quorum = gauge(
    'etcd_dashboard_quorum_state',
    '1 for the quorum state the cluster is in (healthy, degraded, at-risk, lost)',
    ['etcd_cluster', 'state'],
  );
  const healthy = gauge('etcd_dashboard_members_healthy', 'Healthy voting members', ['etcd_cluster']);
  const voting = gauge('etcd_dashboard_members_voting', 'Voting members', ['etcd_cluster']);
  const tolerance = gauge(
    'etcd_dashboard_quorum_tolerance',
    'How many more voting members may fail; negative when quorum is lost',
    ['etcd_cluster'],
  );
  const stale = gauge('etcd_dashboard_data_stale', '1 when the dashboard has no fresh data for the cluster', [
    'etcd_cluster',
  ]);
  const age = gauge('etcd_dashboard_observation_age_seconds', 'Age of the last completed poll', ['etcd_cluster']);
  const pollSeconds = gauge('etcd_dashboard_collector_poll_duration_seconds', 'Duration of the last poll', [
    'etcd_cluster',
  ]);
  const snapshotAge = gauge(
    'etcd_dashboard_last_verified_snapshot_age_seconds',
    'Age of the newest verified snapshot; +Inf when there is none',
    ['etcd_cluster'],
  );
  const restoreTestedAge = gauge(
    'etcd_dashboard_last_restore_tested_snapshot_age_seconds',
    'Age of the newest snapshot that passed its restore test; +Inf when none has',
    ['etcd_cluster'],
  );
  const alerts = gauge('etcd_dashboard_alerts', 'Alerts by name, rule, severity and state (pending, firing)', [
    'etcd_cluster',
    'alertname',
    'rule',
    'severity',
    'state',
  ]);
  const hasSnapshot = gauge(
    'etcd_dashboard_has_verified_snapshot',
    '1 when the cluster has a verified snapshot on record, 0 when it has none',
    ['etcd_cluster'],
  );
  const counter = (name: string, help: string) =>
    new Counter({ name, help, labelNames: ['etcd_cluster', 'receiver', 'type'], registers: [registry] });
  const sent = counter('etcd_dashboard_notifications_sent_total', 'Alert notifications delivered to a receiver');
  const failed = counter(
    'etcd_dashboard_notifications_failed_total',
    'Alert notifications not delivered: refused, given up after retries, or dropped from a full queue',
  );
  const retried = counter(
    'etcd_dashboard_notifications_retried_total',
    'Delivery attempts that failed and are tried again',
  );
  const heldUp = new Counter({
    name: 'etcd_dashboard_polls_held_up_total',
    help: 'Polls not shown because this process was held up (its event loop late by a whole probe timeout) while their calls missed their deadline',
    labelNames: ['etcd_cluster'],
    registers: [registry],
  });
  const heldBack = new Counter({
    name: 'etcd_dashboard_polls_held_back_total',
    help: "First polls after taking a cluster over from another replica not shown because calls of theirs missed their deadline (asked again within seconds; the old owner's view stays shown)",
    labelNames: ['etcd_cluster'],
    registers: [registry],
  });
  gauge('etcd_dashboard_build_info', 'The dashboard release and the Node.js it runs on; always 1', [
    'version',
    'nodejs_version',
  ]).set({ version: DASHBOARD_VERSION, nodejs_version: process.versions.node }, 1);

  const agree = gauge(
    'etcd_dashboard_members_agree',
    '1 when the last consistency check found every member with the same HashKV, 0 when one differs; absent when unknown',
    ['etcd_cluster'],
  );
  const checkAge = gauge('etcd_dashboard_consistency_check_age_seconds', 'Age of the last consistency check', [
    'etcd_cluster',
  ]);
  const running = gauge('etcd_dashboard_maintenance_running', '1 while a maintenance run is in progress', [
    'etcd_cluster',
  ]);

  const clusters = rt.clusters.list();
  // The newest checks are kept in memory once read; one the database cannot give now is left out of this scrape.
  const checks = await Promise.all(clusters.map((c) => rt.consistency?.latest(c.id).catch(() => null) ?? null));
  for (const [i, c] of clusters.entries()) {
    const check = checks[i] ?? null;
    if (check) {
      if (check.agree !== null) agree.set({ etcd_cluster: c.id }, check.agree ? 1 : 0);
      checkAge.set({ etcd_cluster: c.id }, (now - Date.parse(check.checkedAt)) / 1000);
    }
    if (rt.maintenance) running.set({ etcd_cluster: c.id }, rt.maintenance.running(c.id) ? 1 : 0);
    const collector = rt.collectors.get(c.id);
    const obs = collector?.current() ?? null;
    const isStaleNow = isStale(obs?.observedAt ?? null, now, rt.staleAfterMs);
    stale.set({ etcd_cluster: c.id }, isStaleNow ? 1 : 0);
    if (obs) {
      for (const s of QUORUM_STATES)
        quorum.set({ etcd_cluster: c.id, state: s }, !isStaleNow && obs.quorum.state === s ? 1 : 0);
      healthy.set({ etcd_cluster: c.id }, obs.quorum.healthy);
      voting.set({ etcd_cluster: c.id }, obs.quorum.voting);
      tolerance.set({ etcd_cluster: c.id }, obs.quorum.tolerance);
      if (obs.observedAt) age.set({ etcd_cluster: c.id }, (now - Date.parse(obs.observedAt)) / 1000);
    }
    if (collector) {
      heldUp.inc({ etcd_cluster: c.id }, collector.counters.heldUp);
      heldBack.inc({ etcd_cluster: c.id }, collector.counters.heldBack);
    }
    if (collector?.counters.lastPollMs != null)
      pollSeconds.set({ etcd_cluster: c.id }, collector.counters.lastPollMs / 1000);
    // +Inf when there is none, so a plain threshold rule (age > 86400) fires on a cluster never snapshotted.
    const snap = rt.snapshots.latestVerifiedSummary(c.id);
    snapshotAge.set({ etcd_cluster: c.id }, snap ? (now - Date.parse(snap.finishedAt)) / 1000 : Infinity);
    hasSnapshot.set({ etcd_cluster: c.id }, snap ? 1 : 0);
    if (rt.snapshots.latestRestoreTestedSummary) {
      const tested = rt.snapshots.latestRestoreTestedSummary(c.id);
      restoreTestedAge.set({ etcd_cluster: c.id }, tested ? (now - Date.parse(tested.finishedAt)) / 1000 : Infinity);
    }
  }
  for (const a of rt.alerts.active()) {
    alerts.inc({
      etcd_cluster: a.clusterId,
      alertname: alertName(a.rule),
      rule: a.rule,
      severity: a.severity,
      state: a.state,
    });
  }
  for (const d of rt.alerts.deliveryCounts?.() ?? []) {
    const labels = { etcd_cluster: d.clusterId, receiver: d.receiver, type: d.type };
    sent.inc(labels, d.sent);
    failed.inc(labels, d.failed);
    retried.inc(labels, d.retried);
  }
  const merged = Registry.merge([registry, processMetrics()]);
  return { body: await merged.metrics(), contentType: registry.contentType };
}
