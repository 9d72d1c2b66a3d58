'use client';

import { useQuery } from '@tanstack/react-query';
import { deriveFreshness } from '@/lib/cluster/freshness';
import { sizeWarning } from '@/lib/cluster/quorum';
import { clusterStatusQuery } from '@/lib/query/cluster-queries';
import { AlarmBanner } from './alarm-banner';
import { AlertsPanel } from './alerts-panel';
import { EtcdAccess } from './etcd-access';
import { FreshnessLine } from './freshness-line';
import { ConsistencyCard } from './maintenance/consistency-card';
import { MemberTopology } from './member-topology';
import { QuorumCard } from './quorum-card';
import { SecretsAtRest } from './secrets-at-rest';
import { SnapshotFreshness } from './snapshot-freshness';
import { useNow } from './use-now';

export function ClusterOverview({ clusterId }: { clusterId: string }) {
  const query = useQuery(clusterStatusQuery(clusterId));
  const now = useNow();
  const status = query.data;
  const freshness = deriveFreshness({ status, receivedAt: query.dataUpdatedAt, now, fetchFailed: query.isError });
  const fresh = freshness.kind === 'fresh';
  const warning = status ? sizeWarning(status.quorum.voting) : null;

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <FreshnessLine freshness={freshness} now={now} />
        {status && <SnapshotFreshness status={status} now={now} />}
        {status && <SecretsAtRest status={status} />}
      </div>
      {status && (
        // One column: the quorum, the worst problems, then the members. From 1440 px two: the quorum and the members
        // on the left, the alerts beside them.
        <div className="grid gap-4 min-[1440px]:grid-cols-[minmax(0,1fr)_minmax(0,1fr)] min-[1440px]:grid-rows-[auto_auto_1fr] min-[1440px]:items-start">
          <div className="space-y-4">
            <AlarmBanner alarms={status.alarms} members={status.members} />
            <QuorumCard status={status} fresh={fresh} />
            {warning && (
              <p
                data-testid="size-warning"
                className="rounded-md border border-amber-400 bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:bg-amber-950 dark:text-amber-50"
              >
                ⚠ {warning}
              </p>
            )}
          </div>
          <div className="space-y-4 min-[1440px]:row-span-3">
            <AlertsPanel clusterId={clusterId} now={now} />
          </div>
          <MemberTopology members={status.members} fresh={fresh} />
          <div className="space-y-4">
            <ConsistencyCard clusterId={clusterId} />
            {status.warnings.length > 0 && (
              <ul className="text-sm text-slate-600 dark:text-slate-400">
                {status.warnings.map((w) => (
                  <li key={w}>ℹ {w}</li>
                ))}
              </ul>
            )}
            <EtcdAccess clusterId={clusterId} />
          </div>
        </div>
      )}
    </div>
  );
}
