// What the NOC wall reads in one request: every cluster's status and its worst firing alert. Shared with the browser.
import type { ConsistencyCheck } from '@/lib/cluster/consistency-types';
import type { ClusterStatus } from '@/lib/cluster/status-types';
import type { AlertView } from './alert-types';

export interface NocTile {
  status: ClusterStatus;
  /** The worst firing alert (critical before warning, oldest first); null when none fires. */
  worstAlert: AlertView | null;
  firingCount: number;
  /** The newest consistency check (null before the first) and the configured interval (0: checks are off). */
  consistency: { check: ConsistencyCheck | null; intervalMs: number };
}

export interface NocResponse {
  servedAt: string;
  tiles: NocTile[];
}
