// react-query resources for maintenance: the runs of a cluster, one run while it goes, the consistency check; and the
// requests that plan, start and cancel a run or check the members now.
import { queryOptions } from '@tanstack/react-query';
import type { ConsistencyCheck } from '@/lib/cluster/consistency-types';
import type { MaintenanceRequest, Refusal } from '@/lib/maintenance/maintenance-types';
import type { MaintenancePlan, MaintenanceRun, PlanStep } from '@/lib/maintenance/maintenance-types';
import { fetchJson, sendJson } from './fetch-json';

/** A run is followed about once a second while it goes, like the status. */
export const RUN_POLL_MS = 1000;

/** The body of POST /api/clusters/{id}/maintenance, without dryRun (the request decides that). */
export type MaintenanceBody = Omit<MaintenanceRequest, 'dryRun'>;

/** A dry run's answer: the plan, and why it may not start now (null when it may). */
export type DryRun = MaintenancePlan & { refusal: Refusal | null };

/** A started run as POST answers it: the run, and its steps as planned. */
export type StartedRun = MaintenanceRun & { plan: PlanStep[] };

/** GET /api/clusters/{id}/consistency: the newest check's fields at the top (all null before the first) and the past ones. */
export type ConsistencyReport = Omit<ConsistencyCheck, 'clusterId' | 'checkedAt'> & {
  checkedAt: string | null;
  history: ConsistencyCheck[];
};

const base = (clusterId: string) => `/api/clusters/${encodeURIComponent(clusterId)}`;

export function maintenanceRunsQuery(clusterId: string) {
  return queryOptions({
    queryKey: ['clusters', clusterId, 'maintenance'],
    queryFn: ({ signal }) => fetchJson<{ runs: MaintenanceRun[] }>(`${base(clusterId)}/maintenance`, signal),
    // Fast while a run goes (someone else's included), so the history and the progress move together.
    refetchInterval: (q) => (q.state.data?.runs.some((r) => r.state === 'running') ? RUN_POLL_MS : 10_000),
    refetchIntervalInBackground: true,
  });
}

export function maintenanceRunQuery(clusterId: string, runId: string) {
  return queryOptions({
    queryKey: ['clusters', clusterId, 'maintenance', runId],
    queryFn: ({ signal }) =>
      fetchJson<MaintenanceRun>(`${base(clusterId)}/maintenance/${encodeURIComponent(runId)}`, signal),
    // Every second while it runs; a finished run does not change.
    refetchInterval: (q) => (q.state.data?.state === 'running' ? RUN_POLL_MS : false),
    refetchIntervalInBackground: true,
  });
}

export function consistencyQuery(clusterId: string) {
  return queryOptions({
    queryKey: ['clusters', clusterId, 'consistency'],
    queryFn: ({ signal }) => fetchJson<ConsistencyReport>(`${base(clusterId)}/consistency?limit=20`, signal),
    // Checks run minutes apart; a few seconds' delay in showing a new verdict costs nothing.
    refetchInterval: 10_000,
    refetchIntervalInBackground: true,
  });
}

export const planMaintenance = (clusterId: string, body: MaintenanceBody) =>
  sendJson<DryRun>(`${base(clusterId)}/maintenance`, 'POST', { ...body, dryRun: true });

export const startMaintenance = (clusterId: string, body: MaintenanceBody) =>
  sendJson<StartedRun>(`${base(clusterId)}/maintenance`, 'POST', body);

/** Asks the run to stop before its next step. */
export const cancelMaintenance = (clusterId: string, runId: string) =>
  sendJson<MaintenanceRun>(`${base(clusterId)}/maintenance/${encodeURIComponent(runId)}`, 'DELETE');

/** Compares the members now; the answer is the report with the new check (200) or without one (202: it could not run). */
export const checkConsistencyNow = (clusterId: string) =>
  sendJson<ConsistencyReport>(`${base(clusterId)}/consistency`, 'POST');
