// Fired alerts in the dashboard's store (SQLite or PostgreSQL): open ones survive a restart, resolved ones are history.
import 'server-only';
import type { Kysely, Selectable, SelectQueryBuilder } from 'kysely';
import type { Severity } from '@/lib/cluster/severity';
import type { RuleName } from '@/lib/cluster/thresholds';
import type { AlertsTable, StoreSchema } from '@/lib/db/schema';
import type { TrackedAlert } from './alert-tracker';

type Row = Selectable<AlertsTable>;
type SelectFrom = SelectQueryBuilder<StoreSchema, 'alerts', object>;

export interface StoredAlert extends TrackedAlert {
  clusterId: string;
  resolvedAt: number | null;
  /** The newest state whose notice every receiver is done with (delivered, or given up); null before the first. */
  notified: 'firing' | 'resolved' | null;
}

function toAlert(r: Row): StoredAlert {
  return {
    id: r.id,
    key: r.alert_key,
    clusterId: r.cluster_id,
    rule: r.rule as RuleName,
    severity: r.severity as Severity,
    memberId: r.member_id,
    memberName: r.member_name,
    summary: r.summary,
    state: 'firing',
    pendingSince: r.pending_since,
    firingSince: r.firing_since,
    resolvedAt: r.resolved_at,
    notified: r.notified === 'firing' || r.notified === 'resolved' ? r.notified : null,
  };
}

const byId = (a: Row, b: Row) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Rows in the order of a time (`newest` first or oldest first), those at the same time by id: ids are compared in JS
 * (code units), not by the database, so both engines agree whatever PostgreSQL's collation.
 */
function byTime(rows: Row[], time: (r: Row) => number, newest: boolean): Row[] {
  const sign = newest ? -1 : 1;
  return rows.sort((a, b) => sign * (time(a) - time(b)) || byId(a, b));
}

export class AlertStore {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /**
   * Records a firing alert; false (and a log line) when its id is already history, which is left as it was.
   *
   * An id already stored is never rewritten: an open alert fired again keeps when it began (only its summary and
   * member name follow), and a resolved one is history that stays as it was. A plain replace would delete the old
   * row and write a new one, resolved_at and pending_since lost. One statement, so no transaction is needed.
   */
  async fired(clusterId: string, a: TrackedAlert): Promise<boolean> {
    const result = await this.db
      .insertInto('alerts')
      .values({
        id: a.id,
        cluster_id: clusterId,
        rule: a.rule,
        severity: a.severity,
        alert_key: a.key,
        member_id: a.memberId,
        member_name: a.memberName,
        summary: a.summary,
        pending_since: a.pendingSince,
        firing_since: a.firingSince ?? a.pendingSince,
      })
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet((eb) => ({ summary: eb.ref('excluded.summary'), member_name: eb.ref('excluded.member_name') }))
          .where('alerts.resolved_at', 'is', null)
          .whereRef('alerts.cluster_id', '=', 'excluded.cluster_id'),
      )
      .executeTakeFirst();
    const changed = Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    if (!changed) console.error(`alerts: ${a.id} is already recorded as resolved; its history is kept as it was`);
    return changed;
  }

  /** Resolved once: a second resolution of the same id does not move the time it ended. */
  async resolved(id: string, at: number, summary: string): Promise<void> {
    await this.db
      .updateTable('alerts')
      .set({ resolved_at: at, summary })
      .where('id', '=', id)
      .where('resolved_at', 'is', null)
      .execute();
  }

  /**
   * Every receiver is done with the alert's `state` notice. Only forward: a firing notice settled after the resolved
   * one (a repeat) does not undo it.
   */
  async notified(id: string, state: 'firing' | 'resolved'): Promise<void> {
    await this.db
      .updateTable('alerts')
      .set({ notified: state })
      .where('id', '=', id)
      .where((eb) =>
        state === 'resolved'
          ? eb.or([eb('notified', 'is', null), eb('notified', '=', 'firing')])
          : eb('notified', 'is', null),
      )
      .execute();
  }

  /**
   * The cluster's alerts resolved at or after `since` whose firing notice went out but whose resolved one did not
   * (their replica stopped in between): the resolve a replica taking over still owes. Oldest first. Null: every
   * cluster's, in one read.
   */
  async resolvedUnnotified(clusterId: string | null, since: number): Promise<StoredAlert[]> {
    const all = this.db.selectFrom('alerts').selectAll();
    const rows = await (clusterId === null ? all : all.where('cluster_id', '=', clusterId))
      .where('resolved_at', '>=', since)
      .where('notified', '=', 'firing')
      .execute();
    return byTime(rows, (r) => r.resolved_at ?? 0, false).map(toAlert);
  }

  /** The cluster's open alerts, oldest firing first (of two open with one key, the newer comes last). */
  async open(clusterId: string): Promise<StoredAlert[]> {
    const rows = await this.db
      .selectFrom('alerts')
      .selectAll()
      .where('cluster_id', '=', clusterId)
      .where('resolved_at', 'is', null)
      .orderBy('firing_since', 'asc')
      .execute();
    return byTime(rows, (r) => r.firing_since, false).map(toAlert);
  }

  /** Every cluster's open alerts in one read, oldest firing first: what a replica that does not lead shows. */
  async openEverywhere(): Promise<StoredAlert[]> {
    const rows = await this.db
      .selectFrom('alerts')
      .selectAll()
      .where('resolved_at', 'is', null)
      .orderBy('firing_since', 'asc')
      .execute();
    return byTime(rows, (r) => r.firing_since, false).map(toAlert);
  }

  /** Resolved at or after `since`, newest first, at most 500: read on every /api/alerts request. */
  async resolvedSince(since: number): Promise<StoredAlert[]> {
    const rows = await this.newest(
      'resolved_at',
      500,
      (db) => db.where('resolved_at', 'is not', null).where('resolved_at', '>=', since),
      (r) => r.resolved_at ?? 0,
    );
    return rows.map(toAlert);
  }

  /** Alerts that fired within [from, to] or were still firing then, newest first; at most `limit`. */
  async history(q: { clusterId?: string; from: number; to: number; limit?: number }): Promise<StoredAlert[]> {
    const rows = await this.newest(
      'firing_since',
      q.limit ?? 1000,
      (db) => {
        const inRange = db
          .where('firing_since', '<=', q.to)
          .where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>=', q.from)]));
        return q.clusterId === undefined ? inRange : inRange.where('cluster_id', '=', q.clusterId);
      },
      (r) => r.firing_since,
    );
    return rows.map(toAlert);
  }

  /**
   * The `limit` rows `where` picks that are newest by `column`, ties in id order. The database orders by the time
   * only: every row at the `limit`-th newest time is read, and ordered and cut here, so both engines answer the same
   * rows.
   */
  private async newest(
    column: 'firing_since' | 'resolved_at',
    limit: number,
    where: (db: SelectFrom) => SelectFrom,
    time: (r: Row) => number,
  ): Promise<Row[]> {
    if (limit <= 0) return [];
    const cutoff = await where(this.db.selectFrom('alerts'))
      .select(column)
      .orderBy(column, 'desc')
      .offset(limit - 1)
      .limit(1)
      .executeTakeFirst();
    let select = where(this.db.selectFrom('alerts')).selectAll();
    const at = cutoff?.[column];
    if (at !== undefined && at !== null) select = select.where(column, '>=', at);
    return byTime(await select.execute(), time, true).slice(0, limit);
  }

  /** Deletes alerts resolved before `before` (epoch ms); open ones stay. Returns how many. */
  async prune(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('alerts')
      .where('resolved_at', 'is not', null)
      .where('resolved_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
