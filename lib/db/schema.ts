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

export interface StoreSchema {
  audit_log: AuditLogTable;
}
