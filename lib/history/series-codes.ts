// The integer each series is stored under: fixed forever, so a code is never changed or given to another series.
import 'server-only';
import type { SeriesName } from './series';

/** Retired codes, never to be given out again: none yet. */
export const SERIES_CODES: Readonly<Record<SeriesName, number>> = {
  probe_ms: 1,
  db_size_bytes: 2,
  db_in_use_bytes: 3,
  wal_fsync_p99_ms: 4,
  backend_commit_p99_ms: 5,
  peer_rtt_p99_ms: 6,
  leader_changes: 7,
  raft_index: 8,
  proposals_failed: 9,
  proposals_pending: 10,
  revision: 11,
};
