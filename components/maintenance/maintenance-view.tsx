'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { clusterStatusQuery } from '@/lib/query/cluster-queries';
import { maintenanceRunQuery, maintenanceRunsQuery } from '@/lib/query/maintenance-queries';
import { SnapshotFreshness } from '../snapshot-freshness';
import { useNow } from '../use-now';
import { ActionForm } from './action-form';
import { ConsistencyCard } from './consistency-card';
import { RunHistory } from './run-history';
import { RunProgress } from './run-progress';

/** The cluster's maintenance settings from the dashboard's config, as the page shows and explains them. */
export interface MaintenanceSettingsView {
  pauseBetweenMembersMs: number;
  keepRevisions: number;
  /** 0: no scheduled consistency checks. */
  consistencyCheckMs: number;
}

/**
 * The maintenance page: whether the members agree, the actions (operators only: plan, start, follow, cancel), the
 * run in progress for everyone, and the history of runs.
 */
export function MaintenanceView({
  clusterId,
  canAct,
  settings,
}: {
  clusterId: string;
  canAct: boolean;
  settings: MaintenanceSettingsView;
}) {
  const qc = useQueryClient();
  const now = useNow(1000);
  const status = useQuery(clusterStatusQuery(clusterId));
  const list = useQuery(maintenanceRunsQuery(clusterId));
  const [selected, setSelected] = useState<string | null>(null);
  const runs = list.data?.runs ?? [];
  const running = runs.find((r) => r.state === 'running');
  // The run asked for, else the one in progress (someone else's too), else the newest: a reload never loses sight of
  // a run, and a run someone else started stays on the screen when it ends.
  const shown = selected ?? running?.id ?? runs[0]?.id ?? null;

  return (
    <div className="space-y-6">
      <ConsistencyCard clusterId={clusterId} intervalMs={settings.consistencyCheckMs} canCheck={canAct} />
      {canAct ? (
        <>
          {status.data && <SnapshotFreshness status={status.data} now={now} />}
          <ActionForm
            clusterId={clusterId}
            status={status.data}
            now={now}
            keepRevisions={settings.keepRevisions}
            pauseBetweenMembersMs={settings.pauseBetweenMembersMs}
            onStarted={(run) => {
              qc.setQueryData(maintenanceRunQuery(clusterId, run.id).queryKey, run);
              void qc.invalidateQueries({ queryKey: maintenanceRunsQuery(clusterId).queryKey, exact: true });
              setSelected(run.id);
            }}
          />
        </>
      ) : (
        <p data-testid="maintenance-viewer-note" className="text-sm text-slate-600 dark:text-slate-400">
          Maintenance actions (defragment, compact, NOSPACE recovery, move leader) need the operator role. You see the
          runs, their progress and whether the members agree.
        </p>
      )}
      {shown && (
        <RunProgress
          key={shown}
          clusterId={clusterId}
          runId={shown}
          canAct={canAct}
          members={status.data?.members ?? []}
          now={now}
        />
      )}
      <RunHistory runs={runs} loaded={list.isSuccess} selected={shown} onSelect={setSelected} now={now} />
      {list.isError && (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          The runs could not be read: {list.error.message}
        </p>
      )}
    </div>
  );
}
