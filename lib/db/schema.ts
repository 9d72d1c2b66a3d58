// The tables the stores reach through Kysely, the same on SQLite and PostgreSQL (times are epoch ms integers).
import type { Generated } from 'kysely';

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor: string;
  role: string | null;
  method: string;
  source: string | null;
  action: string;
  cluster_id: string | null;
  member_id: string | null;
  outcome: string;
  /** JSON text. */
  details: string;
}

export interface UsersTable {
  username: string;
  /** scrypt hash, never the password. */
  password_hash: string;
  role: string;
  /** Where the account is defined: 'config' | 'env' | 'demo'. */
  source: string;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  /** Hex sha256 of the cookie value. */
  id_hash: string;
  username: string;
  /** As at sign-in; the users row is authoritative. */
  role: string;
  created_at: number;
  expires_at: number;
  /** The client address at sign-in. */
  source: string | null;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  /** Hex sha256 of the whole token. */
  token_hash: string;
  role: string;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

/** A cluster member as the history knows it: a small integer id, so every sample row stays short. */
export interface MembersTable {
  id: Generated<number>;
  cluster_id: string;
  /** etcd's member id, hex. */
  member_id: string;
  /** The name last seen. */
  name: string;
}

export interface SamplesTable {
  /** The code from lib/history/series-codes.ts. */
  series: number;
  /** members.id */
  member: number;
  at: number;
  value: number;
}

export interface Rollups1mTable {
  series: number;
  member: number;
  /** The minute's start. */
  minute: number;
  min: number;
  max: number;
  sum: number;
  n: number;
}

/** The history's bookkeeping, such as the rollup watermark. */
export interface MetaTable {
  key: string;
  value: number;
}

export interface EventsTable {
  id: Generated<number>;
  cluster_id: string;
  at: number;
  type: string;
  member_id: string | null;
  /** JSON text. */
  details: string;
}

/** An alert that fired: open while resolved_at is null, kept as history once resolved. */
export interface AlertsTable {
  /** The tracker's id: cluster, key and when it became pending. */
  id: string;
  cluster_id: string;
  rule: string;
  /** 'info' | 'warning' | 'critical' */
  severity: string;
  alert_key: string;
  member_id: string | null;
  member_name: string | null;
  summary: string;
  pending_since: number;
  firing_since: number;
  resolved_at: number | null;
  /** 'firing' | 'resolved': the newest state whose notice every receiver is done with; null before the first. */
  notified: string | null;
}

/** A maintenance run: one row, updated as it goes and kept. */
export interface MaintenanceRunsTable {
  id: string;
  cluster_id: string;
  action: string;
  /** 'running' | 'succeeded' | 'failed' | 'canceled' | 'interrupted' */
  state: string;
  requested_by: string;
  /** 'manual' | 'schedule' */
  trigger: string;
  started_at: number;
  finished_at: number | null;
  reason: string | null;
  /** 0 or 1. */
  cancel_requested: Generated<number>;
  /** JSON text: the steps. */
  steps: Generated<string>;
}

/** A consistency check: HashKV of every member at one revision. */
export interface ConsistencyChecksTable {
  cluster_id: string;
  checked_at: number;
  revision: number | null;
  /** 0 or 1; null when nothing could be compared. */
  agree: number | null;
  suspect: string | null;
  note: string | null;
  /** JSON text: the members' hashes. */
  members: string;
}

/** The latest view of a cluster, as the replica that polls it published it. */
export interface ClusterViewsTable {
  cluster_id: string;
  /** The replica that published it. */
  owner: string;
  /** Epoch ms of the observation (the owner's clock). */
  observed_at: number;
  /** JSON: lib/collector/cluster-collector.ts ClusterView. */
  view: string;
}

/** A named lease (the leader's, a replica's membership): held by `holder` until `expires_at`. */
export interface LeasesTable {
  name: string;
  /** The replica's id. */
  holder: string;
  /** 1 for the first tenure, one more at each change of holder or after an expiry: the fencing token. */
  generation: number;
  /** 0 once released. */
  expires_at: number;
}

/** One row per snapshot attempt, kept after its file is deleted by retention (deleted_at) or found gone (missing). */
export interface SnapshotsTable {
  id: string;
  cluster_id: string;
  /** 'running' | 'succeeded' | 'failed' */
  status: string;
  started_at: number;
  finished_at: number | null;
  member_id: string | null;
  member_name: string | null;
  /** 'manual' | 'schedule' */
  trigger: string;
  triggered_by: string;
  file_name: string;
  size_bytes: number | null;
  revision: number | null;
  total_keys: number | null;
  /** The CRC-32C etcd's status reports, 0 to 2^32 - 1. */
  hash: number | null;
  sha256: string | null;
  /** 0 or 1. */
  verified: Generated<number>;
  /** 0 or 1. */
  missing: Generated<number>;
  deleted_at: number | null;
  /** JSON text: where copies are. */
  locations: Generated<string>;
  /** JSON text, or null before verification. */
  keyspace: string | null;
  error: string | null;
  /** JSON text: the last restore test, or null. */
  restore_test: string | null;
}

/** Failed sign-ins counted per key ('user:…' or 'address:…') in a fixed window that opens at the first failure. */
export interface LoginFailuresTable {
  key: string;
  window_start: number;
  failures: number;
}

export interface StoreSchema {
  audit_log: AuditLogTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  members: MembersTable;
  samples: SamplesTable;
  rollups_1m: Rollups1mTable;
  meta: MetaTable;
  events: EventsTable;
  alerts: AlertsTable;
  maintenance_runs: MaintenanceRunsTable;
  consistency_checks: ConsistencyChecksTable;
  snapshots: SnapshotsTable;
  login_failures: LoginFailuresTable;
  leases: LeasesTable;
  cluster_views: ClusterViewsTable;
}
