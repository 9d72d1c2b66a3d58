// The history series the API serves and the charts draw; shared with the browser.

// `continuous`: sampled on every poll, so a gap in its points is a gap in sampling (quantiles have points only when
// there was activity). `curve`: counts step from one value to the next; measurements are joined by straight lines.
export const SERIES = {
  probe_ms: { unit: 'ms', label: 'Health probe latency', aggregate: 'max', continuous: true, curve: 'linear' },
  db_size_bytes: { unit: 'bytes', label: 'DB size (allocated)', aggregate: 'max', continuous: true, curve: 'linear' },
  db_in_use_bytes: { unit: 'bytes', label: 'DB size in use', aggregate: 'max', continuous: true, curve: 'linear' },
  wal_fsync_p99_ms: { unit: 'ms', label: 'WAL fsync p99', aggregate: 'max', continuous: false, curve: 'linear' },
  backend_commit_p99_ms: {
    unit: 'ms',
    label: 'Backend commit p99',
    aggregate: 'max',
    continuous: false,
    curve: 'linear',
  },
  peer_rtt_p99_ms: {
    unit: 'ms',
    label: 'Peer round trip p99 (worst peer)',
    aggregate: 'max',
    continuous: false,
    curve: 'linear',
  },
  leader_changes: {
    unit: 'count',
    label: 'Leader changes seen',
    aggregate: 'sum',
    continuous: true,
    curve: 'stepAfter',
  },
  raft_index: { unit: 'index', label: 'Raft index', aggregate: 'max', continuous: true, curve: 'linear' },
  proposals_failed: {
    unit: 'count',
    label: 'Failed proposals',
    aggregate: 'sum',
    continuous: true,
    curve: 'stepAfter',
  },
  proposals_pending: {
    unit: 'count',
    label: 'Pending proposals',
    aggregate: 'max',
    continuous: true,
    curve: 'stepAfter',
  },
  revision: { unit: 'index', label: 'Revision', aggregate: 'max', continuous: true, curve: 'linear' },
} as const;

export type SeriesName = keyof typeof SERIES;
export type SeriesUnit = (typeof SERIES)[SeriesName]['unit'];

export const SERIES_NAMES = Object.keys(SERIES) as SeriesName[];

export function isSeriesName(value: string): value is SeriesName {
  return Object.hasOwn(SERIES, value);
}

/** One member's points: [epoch ms, value]. */
export interface SeriesMemberPoints {
  memberId: string;
  name: string;
  points: Array<[number, number]>;
}

export interface HistoryResponse {
  series: SeriesName;
  unit: SeriesUnit;
  from: string;
  to: string;
  /** Where the answer starts: `from`, or the first stored sample when the history begins inside the range. */
  dataFrom: string;
  /** "raw" samples or "1m" rollups; the server picks by the range that has data. */
  resolution: 'raw' | '1m';
  /** Width of one returned point in ms (points are bucketed so a member has at most about 1,000). */
  stepMs: number;
  members: SeriesMemberPoints[];
}

export const EVENT_TYPES = [
  'leader_changed',
  'member_down',
  'member_up',
  'quorum_lost',
  'quorum_restored',
  'alarm_raised',
  'alarm_cleared',
  'member_added',
  'member_removed',
  /** A maintenance run (defragment, compact, disarm, NOSPACE recovery, move leader) started or ended. */
  'maintenance',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The events that start or end an outage, shaded on the charts. */
export const OUTAGE_EVENT_TYPES: EventType[] = ['quorum_lost', 'quorum_restored', 'member_down', 'member_up'];

/** The history page's charts, in the order drawn. */
export const HISTORY_CHARTS: SeriesName[] = [
  'probe_ms',
  'wal_fsync_p99_ms',
  'backend_commit_p99_ms',
  'peer_rtt_p99_ms',
  'db_size_bytes',
  'db_in_use_bytes',
  'leader_changes',
  'raft_index',
  'proposals_failed',
  'proposals_pending',
];

export interface ClusterEvent {
  at: string;
  type: EventType;
  memberId: string | null;
  details: Record<string, unknown>;
}

export interface EventsResponse {
  events: ClusterEvent[];
}
