// The append-only record of who signed in and what they did, with secrets kept out of it.
import 'server-only';
import type Database from 'better-sqlite3';
import { isRole, type Role } from './roles';

export const AUDIT_METHODS = ['password', 'session', 'token', 'proxy', 'anonymous', 'none'] as const;
/** How the actor was identified. */
export type AuditMethod = (typeof AUDIT_METHODS)[number];

export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditAppend {
  /** Epoch ms. */
  at: number;
  /** Username, token name, or 'anonymous'. */
  actor: string;
  role: Role | null;
  method: AuditMethod;
  /** The client address. */
  source: string | null;
  action: string;
  clusterId?: string | null;
  memberId?: string | null;
  outcome: AuditOutcome;
  /** Stored without any key, at any depth, that names a secret (password, token, secret, cookie…). */
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  id: number;
  /** ISO time. */
  at: string;
  actor: string;
  role: Role | null;
  method: AuditMethod;
  source: string | null;
  action: string;
  clusterId: string | null;
  memberId: string | null;
  outcome: AuditOutcome;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, inclusive. */
  to?: number;
  actor?: string;
  action?: string;
  outcome?: AuditOutcome;
  /** Default 200, at most 1000. */
  limit?: number;
}

export const DEFAULT_AUDIT_LIMIT = 200;
export const MAX_AUDIT_LIMIT = 1000;

/** A longer details object is replaced by a note of its size: the log is kept for good, so rows stay small. */
export const MAX_DETAILS_CHARS = 8192;
const MAX_DEPTH = 8;

// Matched against the key lower-cased without separators, so `Set-Cookie`, `newPassword`, `api_token`,
// `passwordHash` and `x-api-secret` all go, while `tokenName` and `tokenId` stay.
const SECRET_KEY = /password|passwd|secret|authorization|cookie|credential|apikey|privatekey|token$|hash$/;
// A token of ours pasted into a free-text value (an error message, a header dump) is recognisable by its shape.
const TOKEN_IN_TEXT = /etcdd_[0-9a-f]{16}_[A-Za-z0-9_-]+/g;
const REDACTED = '[redacted]';

const isSecretKey = (key: string) => SECRET_KEY.test(key.toLowerCase().replace(/[^a-z0-9]/g, ''));

/** A JSON-safe copy of `value` without secret-named keys at any depth; cycles and very deep nesting are cut. */
function redact(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return value.replace(TOKEN_IN_TEXT, REDACTED);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH || seen.has(value)) return '[omitted]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (!isSecretKey(key)) out[key] = redact(v, depth + 1, seen);
    }
    return out;
  } finally {
    // Only ancestors count as a cycle: the same object twice side by side is fine.
    seen.delete(value);
  }
}

function serializeDetails(details: Record<string, unknown> | undefined): string {
  const json = JSON.stringify(redact(details ?? {}, 0, new WeakSet())) ?? '{}';
  return json.length <= MAX_DETAILS_CHARS ? json : JSON.stringify({ truncated: true, chars: json.length });
}

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  role: string | null;
  method: string;
  source: string | null;
  action: string;
  cluster_id: string | null;
  member_id: string | null;
  outcome: string;
  details: string;
}

const isMethod = (v: string): v is AuditMethod => (AUDIT_METHODS as readonly string[]).includes(v);
const isOutcome = (v: string): v is AuditOutcome => (AUDIT_OUTCOMES as readonly string[]).includes(v);

function toEntry(row: AuditRow): AuditEntry | null {
  // The table's CHECKs make this unreachable; it keeps a bad row from passing as a type it is not.
  const role = row.role === null || isRole(row.role) ? row.role : undefined;
  if (!isMethod(row.method) || !isOutcome(row.outcome) || role === undefined) return null;
  const details: unknown = JSON.parse(row.details);
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    role,
    method: row.method,
    source: row.source,
    action: row.action,
    clusterId: row.cluster_id,
    memberId: row.member_id,
    outcome: row.outcome,
    details: typeof details === 'object' && details !== null && !Array.isArray(details) ? { ...details } : {},
  };
}

type InsertParams = [
  number,
  string,
  string | null,
  string,
  string | null,
  string,
  string | null,
  string | null,
  string,
  string,
];

export class AuditLog {
  private readonly insertEntry: Database.Statement<InsertParams>;

  constructor(private readonly db: Database.Database) {
    this.insertEntry = db.prepare(
      `INSERT INTO audit_log (at, actor, role, method, source, action, cluster_id, member_id, outcome, details)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  append(entry: AuditAppend): void {
    if (!Number.isSafeInteger(entry.at)) throw new RangeError(`audit at: ${entry.at} is not an epoch ms time`);
    if (!entry.actor) throw new RangeError('audit actor must not be empty');
    if (!entry.action) throw new RangeError('audit action must not be empty');
    if (entry.role !== null && !isRole(entry.role)) {
      throw new RangeError(`audit role ${JSON.stringify(entry.role)} is unknown`);
    }
    if (!isMethod(entry.method)) throw new RangeError(`audit method ${JSON.stringify(entry.method)} is unknown`);
    if (!isOutcome(entry.outcome)) throw new RangeError(`audit outcome ${JSON.stringify(entry.outcome)} is unknown`);
    this.insertEntry.run(
      entry.at,
      entry.actor,
      entry.role,
      entry.method,
      entry.source,
      entry.action,
      entry.clusterId ?? null,
      entry.memberId ?? null,
      entry.outcome,
      serializeDetails(entry.details),
    );
  }

  /** Entries matching every given filter, newest first, at most `limit` (clamped to 1…1000). */
  query(q: AuditQuery = {}): AuditEntry[] {
    const where: string[] = [];
    const params: Array<string | number> = [];
    const filter = (sql: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(sql);
      params.push(value);
    };
    filter('at >= ?', q.from);
    filter('at <= ?', q.to);
    filter('actor = ?', q.actor);
    filter('action = ?', q.action);
    filter('outcome = ?', q.outcome);
    const asked = q.limit !== undefined && Number.isFinite(q.limit) ? Math.floor(q.limit) : DEFAULT_AUDIT_LIMIT;
    const limit = Math.min(MAX_AUDIT_LIMIT, Math.max(1, asked));
    const rows = this.db
      .prepare<unknown[], AuditRow>(
        `SELECT id, at, actor, role, method, source, action, cluster_id, member_id, outcome, details FROM audit_log
         ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY at DESC, id DESC
         LIMIT ?`,
      )
      .all(...params, limit);
    return rows.map(toEntry).filter((e): e is AuditEntry => e !== null);
  }
}
