// The append-only record of who signed in and what they did, with secrets kept out of it.
import 'server-only';
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { AuditLogTable, StoreSchema } from '@/lib/db/schema';
import { WriteQueue } from '@/lib/db/write-queue';
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

type AuditRow = Selectable<AuditLogTable>;

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

/**
 * Refusals ("denied") are written one by one up to REFUSALS_PER_KEY per window for one source, actor and action, and
 * REFUSALS_PER_WINDOW in all; past that they are counted, and each count is written as one row when the window ends
 * (or when the log is read). A script sending thousands of refused requests leaves a few rows and a count; thousands
 * of addresses or user names at once leave one count per action, naming how many of each there were.
 */
export const REFUSAL_WINDOW_MS = 60_000;
export const REFUSALS_PER_KEY = 5;
export const REFUSALS_PER_WINDOW = 200;
/** Counts kept by source and actor at once; past this, refusals are counted by action alone. */
const MAX_FOLDED_KEYS = 1000;
/** Distinct actors and sources remembered per count, to say "various" and roughly how many. */
const MAX_DISTINCT = 1000;

interface Folded {
  /** The last refusal counted: its actor, role, method and source stand for all when they were all the same. */
  entry: AuditAppend;
  count: number;
  firstAt: number;
  lastAt: number;
  actors: Set<string>;
  sources: Set<string | null>;
}

/** Entries written in one statement. */
const WRITE_BATCH = 500;
/** Entries held while the database refuses writes; past this the newest are counted as lost, and the count written. */
export const MAX_PENDING = 10_000;

function toRow(entry: AuditAppend): Insertable<AuditLogTable> {
  return {
    at: entry.at,
    actor: entry.actor,
    role: entry.role,
    method: entry.method,
    source: entry.source,
    action: entry.action,
    cluster_id: entry.clusterId ?? null,
    member_id: entry.memberId ?? null,
    outcome: entry.outcome,
    details: serializeDetails(entry.details),
  };
}

/**
 * The audit log over the dashboard's store (SQLite or PostgreSQL). `append` is synchronous for its callers: it checks
 * the entry, then the entry is written in order a moment later. When the database refuses writes (PostgreSQL down),
 * entries are held in memory, in order, and written when it answers again; readers (`query`, `flush`) get the error.
 */
export class AuditLog {
  private readonly queue: WriteQueue<AuditAppend>;
  /** When the current refusal window began (the `at` of its first refusal), or null with no window open. */
  private windowStart: number | null = null;
  private windowWritten = 0;
  private readonly writtenPerKey = new Map<string, number>();
  private readonly folded = new Map<string, Folded>();
  private flushTimer: NodeJS.Timeout | null = null;

  private readonly maxPending: number;

  constructor(
    private readonly db: Kysely<StoreSchema>,
    opts: { maxPending?: number } = {},
  ) {
    this.maxPending = opts.maxPending ?? MAX_PENDING;
    this.queue = new WriteQueue({
      name: 'audit log',
      unit: 'entries',
      write: async (batch) => {
        await this.db.insertInto('audit_log').values(batch.map(toRow)).execute();
      },
      batchSize: (waiting) => Math.min(waiting.length, WRITE_BATCH),
      // Past the bound the newest are counted, not kept, and the count is written as a row once there is room.
      bound: { max: this.maxPending, drop: 'newest', notice: (lost) => this.lostEntry(lost) },
    });
  }

  /** Whether a refusal is written now; false when it was counted for the window instead. */
  private admitRefusal(entry: AuditAppend): boolean {
    if (this.windowStart !== null && entry.at - this.windowStart >= REFUSAL_WINDOW_MS) this.flushRefusals();
    this.windowStart ??= entry.at;
    const clusterId = entry.clusterId ?? null;
    const key = JSON.stringify([entry.source, entry.actor, entry.method, entry.action, clusterId]);
    const written = this.writtenPerKey.get(key) ?? 0;
    if (written < REFUSALS_PER_KEY && this.windowWritten < REFUSALS_PER_WINDOW) {
      this.writtenPerKey.set(key, written + 1);
      this.windowWritten++;
      return true;
    }
    // A flood from everywhere is counted by action: one row each, however many addresses and names it came with.
    const coarse =
      this.windowWritten >= REFUSALS_PER_WINDOW || (!this.folded.has(key) && this.folded.size >= MAX_FOLDED_KEYS);
    const bucket = coarse ? JSON.stringify([entry.action, clusterId]) : key;
    const f = this.folded.get(bucket) ?? {
      entry,
      count: 0,
      firstAt: entry.at,
      lastAt: entry.at,
      actors: new Set<string>(),
      sources: new Set<string | null>(),
    };
    f.entry = entry;
    f.count++;
    f.firstAt = Math.min(f.firstAt, entry.at);
    f.lastAt = Math.max(f.lastAt, entry.at);
    if (f.actors.size < MAX_DISTINCT) f.actors.add(entry.actor);
    if (f.sources.size < MAX_DISTINCT) f.sources.add(entry.source);
    this.folded.set(bucket, f);
    // Written when the window ends even if no other refusal comes to close it.
    this.flushTimer ??= setTimeout(() => this.flushRefusals(), REFUSAL_WINDOW_MS).unref();
    return false;
  }

  /** Ends the refusal window: its counts are written, and refusals are written one by one again. */
  flushRefusals(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.writeFolded();
    this.writtenPerKey.clear();
    this.windowStart = null;
    this.windowWritten = 0;
  }

  /** Writes each count of refusals not written one by one so far (the window goes on). */
  private writeFolded(): void {
    const folded = [...this.folded.values()];
    this.folded.clear();
    for (const f of folded) {
      const oneActor = f.actors.size === 1;
      const oneSource = f.sources.size === 1;
      const lastReason = f.entry.details?.reason;
      this.insert({
        ...f.entry,
        ...(oneActor ? {} : { actor: 'various', role: null, method: 'none' as const }),
        ...(oneSource ? {} : { source: null }),
        at: f.lastAt,
        details: {
          reason: `${f.count} more refused like this, counted instead of written one by one`,
          folded: f.count,
          firstAt: new Date(f.firstAt).toISOString(),
          lastAt: new Date(f.lastAt).toISOString(),
          ...(typeof lastReason === 'string' ? { lastReason } : {}),
          ...(oneActor ? {} : { actors: f.actors.size }),
          ...(oneSource ? {} : { sources: f.sources.size }),
        },
      });
    }
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
    if (entry.outcome === 'denied' && !this.admitRefusal(entry)) return;
    this.insert(entry);
  }

  private insert(entry: AuditAppend): void {
    this.queue.enqueue(entry);
  }

  /** The row that says how many entries could not be kept while the database refused writes. */
  private lostEntry(lost: number): AuditAppend {
    return {
      at: Date.now(),
      actor: 'dashboard',
      role: null,
      method: 'none',
      source: null,
      action: 'audit.lost',
      outcome: 'failure',
      details: {
        reason: `${lost} audit entries were lost: more than ${this.maxPending} waited for the database`,
        lost,
      },
    };
  }

  /** Resolves once everything appended so far is stored; rejects with the database's error if a write fails. */
  flush(): Promise<void> {
    // Counted refusals are part of what a reader asks for.
    this.writeFolded();
    // A reader does not wait out the back-off: it tries now, and hears the answer.
    return this.queue.flush();
  }

  /** Entries held in memory, not yet stored. */
  get pendingCount(): number {
    return this.queue.size;
  }

  /** Entries matching every given filter, newest first, at most `limit` (clamped to 1…1000). */
  async query(q: AuditQuery = {}): Promise<AuditEntry[]> {
    await this.flush();
    const asked = q.limit !== undefined && Number.isFinite(q.limit) ? Math.floor(q.limit) : DEFAULT_AUDIT_LIMIT;
    const limit = Math.min(MAX_AUDIT_LIMIT, Math.max(1, asked));
    let select = this.db
      .selectFrom('audit_log')
      .select([
        'id',
        'at',
        'actor',
        'role',
        'method',
        'source',
        'action',
        'cluster_id',
        'member_id',
        'outcome',
        'details',
      ]);
    if (q.from !== undefined) select = select.where('at', '>=', q.from);
    if (q.to !== undefined) select = select.where('at', '<=', q.to);
    if (q.actor !== undefined) select = select.where('actor', '=', q.actor);
    if (q.action !== undefined) select = select.where('action', '=', q.action);
    if (q.outcome !== undefined) select = select.where('outcome', '=', q.outcome);
    const rows = await select.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toEntry).filter((e): e is AuditEntry => e !== null);
  }
}
