// Maintenance runs and consistency checks in the dashboard's store (SQLite or PostgreSQL): a run's row is updated as
// it goes and kept.
import 'server-only';
import type { Kysely, Selectable } from 'kysely';
import type { ConsistencyCheck, ConsistencyMember } from '@/lib/cluster/consistency-types';
import type { ConsistencyChecksTable, MaintenanceRunsTable, StoreSchema } from '@/lib/db/schema';
import { writeFenced, type WriteFence } from '@/lib/replicas/lease-store';
import type { MaintenanceAction, MaintenanceRun, RunState, RunStep } from './maintenance-types';

type RunRow = Selectable<MaintenanceRunsTable>;
type CheckRow = Selectable<ConsistencyChecksTable>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toRun(r: RunRow): MaintenanceRun {
  return {
    id: r.id,
    clusterId: r.cluster_id,
    action: r.action as MaintenanceAction,
    state: r.state as RunState,
    by: r.requested_by,
    trigger: r.trigger as MaintenanceRun['trigger'],
    startedAt: new Date(r.started_at).toISOString(),
    finishedAt: iso(r.finished_at),
    reason: r.reason,
    cancelRequested: r.cancel_requested === 1,
    steps: JSON.parse(r.steps) as RunStep[],
  };
}

function toCheck(r: CheckRow): ConsistencyCheck {
  return {
    clusterId: r.cluster_id,
    checkedAt: new Date(r.checked_at).toISOString(),
    revision: r.revision,
    agree: r.agree === null ? null : r.agree === 1,
    suspect: r.suspect,
    note: r.note,
    members: JSON.parse(r.members) as ConsistencyMember[],
  };
}

export interface NewRun {
  id: string;
  clusterId: string;
  action: MaintenanceAction;
  by: string;
  trigger: 'manual' | 'schedule';
  startedAt: number;
  steps: RunStep[];
}

export class MaintenanceStore {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /**
   * A new run. With a fence (the leader's term a scheduled run began in), in one transaction with it: a replica that
   * stopped leading meanwhile stores no run, so it starts none (LeaseLost).
   */
  async insert(run: NewRun, fence?: WriteFence): Promise<void> {
    const write = (db: Kysely<StoreSchema>) =>
      db
        .insertInto('maintenance_runs')
        .values({
          id: run.id,
          cluster_id: run.clusterId,
          action: run.action,
          state: 'running',
          requested_by: run.by,
          trigger: run.trigger,
          started_at: run.startedAt,
          steps: JSON.stringify(run.steps),
        })
        .execute();
    await writeFenced(this.db, fence, write);
  }

  /** Saves the steps as they are now (called after every step change). */
  async saveSteps(id: string, steps: RunStep[]): Promise<void> {
    await this.db
      .updateTable('maintenance_runs')
      .set({ steps: JSON.stringify(steps) })
      .where('id', '=', id)
      .execute();
  }

  async requestCancel(id: string): Promise<void> {
    await this.db.updateTable('maintenance_runs').set({ cancel_requested: 1 }).where('id', '=', id).execute();
  }

  async finish(
    id: string,
    state: Exclude<RunState, 'running'>,
    at: number,
    reason: string | null,
    steps: RunStep[],
  ): Promise<void> {
    await this.db
      .updateTable('maintenance_runs')
      .set({ state, finished_at: at, reason, steps: JSON.stringify(steps) })
      .where('id', '=', id)
      .execute();
  }

  async get(clusterId: string, id: string): Promise<MaintenanceRun | null> {
    const row = await this.db
      .selectFrom('maintenance_runs')
      .selectAll()
      .where('cluster_id', '=', clusterId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRun(row) : null;
  }

  /** The cluster's newest runs first (by start; runs started in the same ms by id, descending), at most `limit`. */
  async list(clusterId: string, limit = 100): Promise<MaintenanceRun[]> {
    if (limit <= 0) return [];
    const base = () => this.db.selectFrom('maintenance_runs').where('cluster_id', '=', clusterId);
    // Ids are compared here, not by the database (PostgreSQL's collation may order them otherwise than SQLite): so
    // every run started at the `limit`-th newest start is read, and the cut made after ordering.
    const cutoff = await base()
      .select('started_at')
      .orderBy('started_at', 'desc')
      .offset(limit - 1)
      .limit(1)
      .executeTakeFirst();
    let select = base().selectAll();
    if (cutoff) select = select.where('started_at', '>=', cutoff.started_at);
    const rows = await select.execute();
    return rows
      .sort((a, b) => b.started_at - a.started_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, limit)
      .map(toRun);
  }

  /**
   * Runs left "running" by a dashboard that stopped (killed, crashed, restarted) are marked interrupted, with their
   * running and pending steps; returns them so the caller can audit each. Each row is updated only while it still
   * says running (no transaction: a run another writer finished in between is left as it finished, and not returned).
   * Runs in `keep` (live on some replica) are left alone.
   */
  async markInterrupted(at: number, keep: ReadonlySet<string> = new Set()): Promise<MaintenanceRun[]> {
    const rows = await this.db
      .selectFrom('maintenance_runs')
      .selectAll()
      .where('state', '=', 'running')
      .orderBy('started_at', 'asc')
      .execute();
    const out: MaintenanceRun[] = [];
    for (const row of rows) {
      if (keep.has(row.id)) continue;
      const run = toRun(row);
      const steps = run.steps.map((s) =>
        s.state === 'running'
          ? {
              ...s,
              state: 'interrupted' as const,
              finishedAt: new Date(at).toISOString(),
              error: 'the dashboard stopped during this step',
            }
          : s.state === 'pending'
            ? { ...s, state: 'canceled' as const }
            : s,
      );
      const reason = 'the dashboard stopped while the run was in progress';
      const result = await this.db
        .updateTable('maintenance_runs')
        .set({ state: 'interrupted', finished_at: at, reason, steps: JSON.stringify(steps) })
        .where('id', '=', run.id)
        .where('state', '=', 'running')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) continue;
      out.push({ ...run, state: 'interrupted', finishedAt: new Date(at).toISOString(), reason, steps });
    }
    return out;
  }

  /**
   * Stores a check; one already stored for the same cluster and time is replaced. With a fence (the leader's term the
   * check ran in), in one transaction with it: a replica that no longer leads stores nothing (LeaseLost).
   */
  async addCheck(check: ConsistencyCheck, fence?: WriteFence): Promise<void> {
    const row = {
      cluster_id: check.clusterId,
      checked_at: Date.parse(check.checkedAt),
      revision: check.revision,
      agree: check.agree === null ? null : check.agree ? 1 : 0,
      suspect: check.suspect,
      note: check.note,
      members: JSON.stringify(check.members),
    };
    const { cluster_id: _c, checked_at: _t, ...rest } = row;
    const write = (db: Kysely<StoreSchema>) =>
      db
        .insertInto('consistency_checks')
        .values(row)
        .onConflict((oc) => oc.columns(['cluster_id', 'checked_at']).doUpdateSet(rest))
        .execute();
    await writeFenced(this.db, fence, write);
  }

  /** The cluster's newest checks first, at most `limit`. */
  async checks(clusterId: string, limit = 100): Promise<ConsistencyCheck[]> {
    const rows = await this.db
      .selectFrom('consistency_checks')
      .selectAll()
      .where('cluster_id', '=', clusterId)
      .orderBy('checked_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toCheck);
  }

  /** Every cluster's newest check, in one read (of two at the same instant, both: the caller keeps one). */
  async latestChecks(): Promise<ConsistencyCheck[]> {
    const newest = this.db
      .selectFrom('consistency_checks')
      .select((eb) => ['cluster_id', eb.fn.max('checked_at').as('at')])
      .groupBy('cluster_id')
      .as('n');
    const rows = await this.db
      .selectFrom('consistency_checks as c')
      .innerJoin(newest, (j) => j.onRef('c.cluster_id', '=', 'n.cluster_id').onRef('c.checked_at', '=', 'n.at'))
      .selectAll('c')
      .execute();
    return rows.map(toCheck);
  }

  /**
   * Drops runs (not those still running) and checks older than `before` (epoch ms): two statements, each complete by
   * itself, so a failure between them leaves nothing half done. Returns how many of each.
   */
  async prune(before: number): Promise<{ runs: number; checks: number }> {
    const runs = await this.db
      .deleteFrom('maintenance_runs')
      .where('started_at', '<', before)
      .where('state', '!=', 'running')
      .executeTakeFirst();
    const checks = await this.db.deleteFrom('consistency_checks').where('checked_at', '<', before).executeTakeFirst();
    return { runs: Number(runs.numDeletedRows), checks: Number(checks.numDeletedRows) };
  }
}
