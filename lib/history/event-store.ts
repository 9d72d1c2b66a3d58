// The cluster's story as stored events: leader changes, members down and up, alarms, membership changes.
import 'server-only';
import type { Kysely } from 'kysely';
import type { StoreSchema } from '@/lib/db/schema';
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

/** Events per INSERT (five values each): well inside both engines' limits on bound parameters. */
const INSERT_CHUNK = 1000;

/** One event of one cluster, to write. */
export interface ClusterEventRow {
  clusterId: string;
  event: ClusterEvent;
}

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

/** The row of an event; throws RangeError for a time that is not one. */
export function eventRow(clusterId: string, event: ClusterEvent) {
  const at = Date.parse(event.at);
  if (Number.isNaN(at)) throw new RangeError(`event at: ${JSON.stringify(event.at)} is not an ISO time`);
  return {
    cluster_id: clusterId,
    at,
    type: event.type,
    member_id: event.memberId,
    details: JSON.stringify(event.details),
  };
}

export class EventStore {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async insert(clusterId: string, event: ClusterEvent): Promise<void> {
    await this.insertMany([{ clusterId, event }]);
  }

  /**
   * Writes the events in the order given (later ones get later ids, which order events at the same ms). Every event
   * is checked before anything is written.
   */
  async insertMany(events: ReadonlyArray<ClusterEventRow>): Promise<void> {
    const rows = events.map((e) => eventRow(e.clusterId, e.event));
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await this.db
        .insertInto('events')
        .values(rows.slice(i, i + INSERT_CHUNK))
        .execute();
    }
  }

  /** Events of one cluster in [from, to], newest first, at most `limit` (clamped to 1…5000). */
  async query(q: EventQuery): Promise<ClusterEvent[]> {
    if (q.types?.length === 0) return [];
    const limit = Math.min(MAX_EVENT_LIMIT, Math.max(1, Math.floor(q.limit ?? DEFAULT_EVENT_LIMIT)));
    let select = this.db
      .selectFrom('events')
      .select(['at', 'type', 'member_id', 'details'])
      .where('cluster_id', '=', q.clusterId)
      .where('at', '>=', Math.ceil(q.from))
      .where('at', '<=', Math.floor(q.to));
    if (q.types) select = select.where('type', 'in', [...new Set(q.types)]);
    const rows: EventRow[] = await select.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toEvent).filter((e): e is ClusterEvent => e !== null);
  }

  /** How many events of one type one cluster has in [from, to] (epoch ms, inclusive); read on every alert poll. */
  async countByType(clusterId: string, type: EventType, from: number, to: number): Promise<number> {
    const row = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('cluster_id', '=', clusterId)
      .where('type', '=', type)
      .where('at', '>=', Math.ceil(from))
      .where('at', '<=', Math.floor(to))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Deletes events older than `retentionMs` before `now`; returns how many. */
  async prune(now: number, retentionMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('events')
      .where('at', '<', Math.ceil(now - retentionMs))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
