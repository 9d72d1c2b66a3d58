// The cluster's story as stored events: leader changes, members down and up, alarms, membership changes.
import 'server-only';
import type Database from 'better-sqlite3';
import { EVENT_TYPES, type ClusterEvent, type EventType } from './series';

export interface EventQuery {
  clusterId: string;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, inclusive. */
  to: number;
  /** Only these types; omitted means all, an empty list means none. */
  types?: readonly EventType[];
  /** Default 500, at most 5000. */
  limit?: number;
}

export const DEFAULT_EVENT_LIMIT = 500;
export const MAX_EVENT_LIMIT = 5000;

interface EventRow {
  at: number;
  type: string;
  member_id: string | null;
  details: string;
}

function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

function toEvent(row: EventRow): ClusterEvent | null {
  // A type this code no longer knows is skipped rather than passed on as an EventType it is not.
  if (!isEventType(row.type)) return null;
  const details: unknown = JSON.parse(row.details);
  return {
    at: new Date(row.at).toISOString(),
    type: row.type,
    memberId: row.member_id,
    details: typeof details === 'object' && details !== null && !Array.isArray(details) ? { ...details } : {},
  };
}

export class EventStore {
  private readonly insertEvent: Database.Statement<[string, number, string, string | null, string]>;
  private readonly pruneEvents: Database.Statement<[number]>;
  private readonly countEvents: Database.Statement<[string, string, number, number], number>;

  constructor(private readonly db: Database.Database) {
    this.insertEvent = db.prepare(
      'INSERT INTO events (cluster_id, at, type, member_id, details) VALUES (?, ?, ?, ?, ?)',
    );
    this.pruneEvents = db.prepare('DELETE FROM events WHERE at < ?');
    this.countEvents = db
      .prepare<[string, string, number, number], number>(
        'SELECT COUNT(*) FROM events WHERE cluster_id = ? AND type = ? AND at >= ? AND at <= ?',
      )
      .pluck();
  }

  insert(clusterId: string, event: ClusterEvent): void {
    const at = Date.parse(event.at);
    if (Number.isNaN(at)) throw new RangeError(`event at: ${JSON.stringify(event.at)} is not an ISO time`);
    this.insertEvent.run(clusterId, at, event.type, event.memberId, JSON.stringify(event.details));
  }

  /** Events of one cluster in [from, to], newest first, at most `limit` (clamped to 1…5000). */
  query(q: EventQuery): ClusterEvent[] {
    if (q.types?.length === 0) return [];
    const limit = Math.min(MAX_EVENT_LIMIT, Math.max(1, Math.floor(q.limit ?? DEFAULT_EVENT_LIMIT)));
    const types = q.types ? [...new Set(q.types)] : [];
    const typeFilter = types.length > 0 ? `AND type IN (${types.map(() => '?').join(', ')})` : '';
    const rows = this.db
      .prepare<unknown[], EventRow>(
        `SELECT at, type, member_id, details FROM events
         WHERE cluster_id = ? AND at >= ? AND at <= ? ${typeFilter}
         ORDER BY at DESC, id DESC
         LIMIT ?`,
      )
      .all(q.clusterId, q.from, q.to, ...types, limit);
    return rows.map(toEvent).filter((e): e is ClusterEvent => e !== null);
  }

  /** How many events of one type one cluster has in [from, to] (epoch ms, inclusive); read on every alert poll. */
  countByType(clusterId: string, type: EventType, from: number, to: number): number {
    return this.countEvents.get(clusterId, type, from, to) ?? 0;
  }

  /** Deletes events older than `retentionMs` before `now`; returns how many. */
  prune(now: number, retentionMs: number): number {
    return this.pruneEvents.run(now - retentionMs).changes;
  }
}
