// Writes what the collector sees into the history store: per-poll samples, metric-derived samples, events.
import 'server-only';
import type { Observation } from '@/lib/cluster/status-types';
import type { EventStore } from '@/lib/history/event-store';
import type { SampleRow, SampleStore } from '@/lib/history/sample-store';
import type { ClusterEvent } from '@/lib/history/series';
import type { EtcdMetricsSample } from '@/lib/metrics/etcd-metrics';

export class HistoryRecorder {
  constructor(
    readonly samples: SampleStore,
    readonly events: EventStore,
  ) {}

  recordPoll(clusterId: string, obs: Observation, at: number): void {
    const rows: SampleRow[] = [];
    for (const m of obs.members) {
      if (!m.id) continue;
      const base = { clusterId, memberId: m.id, memberName: m.name, at };
      if (m.probeMs !== null) rows.push({ ...base, series: 'probe_ms', value: m.probeMs });
      if (m.status) {
        rows.push({ ...base, series: 'db_size_bytes', value: m.status.dbSize });
        rows.push({ ...base, series: 'db_in_use_bytes', value: m.status.dbSizeInUse });
        rows.push({ ...base, series: 'raft_index', value: m.status.raftIndex });
        if (m.status.revision !== undefined) rows.push({ ...base, series: 'revision', value: m.status.revision });
      }
    }
    if (rows.length > 0) this.samples.insert(rows);
  }

  recordMetrics(clusterId: string, member: { id: string; name: string }, sample: EtcdMetricsSample, at: number): void {
    const base = { clusterId, memberId: member.id, memberName: member.name, at };
    const rows: SampleRow[] = [];
    const add = (series: SampleRow['series'], value: number | null) => {
      if (value !== null && Number.isFinite(value)) rows.push({ ...base, series, value });
    };
    add('wal_fsync_p99_ms', sample.walFsyncP99Ms);
    add('backend_commit_p99_ms', sample.backendCommitP99Ms);
    add('peer_rtt_p99_ms', sample.worstPeerRttP99Ms);
    add('leader_changes', sample.leaderChanges);
    add('proposals_failed', sample.proposalsFailed);
    add('proposals_pending', sample.proposalsPending);
    if (rows.length > 0) this.samples.insert(rows);
  }

  recordEvents(clusterId: string, events: ClusterEvent[]): void {
    for (const e of events) this.events.insert(clusterId, e);
  }
}
