// The dashboard's own /metrics in Prometheus format, so an existing Prometheus can scrape what it sees.
import 'server-only';
import { Gauge, Registry } from 'prom-client';
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
  alerts: Pick<AlertService, 'active'>;
  consistency?: Pick<ConsistencyChecker, 'latest'>;
  maintenance?: Pick<MaintenanceService, 'running'>;
}

const QUORUM_STATES = ['healthy', 'degraded', 'at-risk', 'lost'] as const;

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
    ['cluster', 'state'],
  );
  const healthy = gauge('etcd_dashboard_members_healthy', 'Healthy voting members', ['cluster']);
  const voting = gauge('etcd_dashboard_members_voting', 'Voting members', ['cluster']);
  const tolerance = gauge(
    'etcd_dashboard_quorum_tolerance',
    'How many more voting members may fail; negative when quorum is lost',
    ['cluster'],
  );
  const stale = gauge('etcd_dashboard_data_stale', '1 when the dashboard has no fresh data for the cluster', [
    'cluster',
  ]);
  const age = gauge('etcd_dashboard_observation_age_seconds', 'Age of the last completed poll', ['cluster']);
  const pollSeconds = gauge('etcd_dashboard_collector_poll_duration_seconds', 'Duration of the last poll', ['cluster']);
  const snapshotAge = gauge(
    'etcd_dashboard_last_verified_snapshot_age_seconds',
    'Age of the newest verified snapshot; absent when there is none',
    ['cluster'],
  );
  const restoreTestedAge = gauge(
    'etcd_dashboard_last_restore_tested_snapshot_age_seconds',
    'Age of the newest snapshot that passed its restore test; absent when none has',
    ['cluster'],
  );
  const alerts = gauge('etcd_dashboard_alerts', 'Alerts by rule, severity and state (pending, firing)', [
    'cluster',
    'rule',
    'severity',
    'state',
  ]);

  const agree = gauge(
    'etcd_dashboard_members_agree',
    '1 when the last consistency check found every member with the same HashKV, 0 when one differs; absent when unknown',
    ['cluster'],
  );
  const checkAge = gauge('etcd_dashboard_consistency_check_age_seconds', 'Age of the last consistency check', [
    'cluster',
  ]);
  const running = gauge('etcd_dashboard_maintenance_running', '1 while a maintenance run is in progress', ['cluster']);

  for (const c of rt.clusters.list()) {
    const check = rt.consistency?.latest(c.id) ?? null;
    if (check) {
      if (check.agree !== null) agree.set({ cluster: c.id }, check.agree ? 1 : 0);
      checkAge.set({ cluster: c.id }, (now - Date.parse(check.checkedAt)) / 1000);
    }
    if (rt.maintenance) running.set({ cluster: c.id }, rt.maintenance.running(c.id) ? 1 : 0);
    const collector = rt.collectors.get(c.id);
    const obs = collector?.current() ?? null;
    const isStaleNow = isStale(obs?.observedAt ?? null, now, rt.staleAfterMs);
    stale.set({ cluster: c.id }, isStaleNow ? 1 : 0);
    if (obs) {
      for (const s of QUORUM_STATES)
        quorum.set({ cluster: c.id, state: s }, !isStaleNow && obs.quorum.state === s ? 1 : 0);
      healthy.set({ cluster: c.id }, obs.quorum.healthy);
      voting.set({ cluster: c.id }, obs.quorum.voting);
      tolerance.set({ cluster: c.id }, obs.quorum.tolerance);
      if (obs.observedAt) age.set({ cluster: c.id }, (now - Date.parse(obs.observedAt)) / 1000);
    }
    if (collector?.counters.lastPollMs != null)
      pollSeconds.set({ cluster: c.id }, collector.counters.lastPollMs / 1000);
    const snap = rt.snapshots.latestVerifiedSummary(c.id);
    if (snap) snapshotAge.set({ cluster: c.id }, (now - Date.parse(snap.finishedAt)) / 1000);
    const tested = rt.snapshots.latestRestoreTestedSummary?.(c.id) ?? null;
    if (tested) restoreTestedAge.set({ cluster: c.id }, (now - Date.parse(tested.finishedAt)) / 1000);
  }
  for (const a of rt.alerts.active()) {
    alerts.inc({ cluster: a.clusterId, rule: a.rule, severity: a.severity, state: a.state });
  }
  return { body: await registry.metrics(), contentType: registry.contentType };
}
