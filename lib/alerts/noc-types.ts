// What the NOC wall reads in one request: every cluster's status and its worst firing alert. Shared with the browser.
import type { ClusterStatus } from '@/lib/cluster/status-types';
import type { AlertView } from './alert-types';

export interface NocTile {
  status: ClusterStatus;
  /** The worst firing alert (critical before warning, oldest first); null when none fires. */
  worstAlert: AlertView | null;
  firingCount: number;
}

export interface NocResponse {
  servedAt: string;
  tiles: NocTile[];
}
