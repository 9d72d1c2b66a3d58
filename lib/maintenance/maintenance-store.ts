// Maintenance runs and consistency checks in the dashboard database: a run's row is updated as it goes and kept.
import 'server-only';
import type Database from 'better-sqlite3';
import type { ConsistencyCheck, ConsistencyMember } from '@/lib/cluster/consistency-types';
import type { MaintenanceAction, MaintenanceRun, RunState, RunStep } from './maintenance-types';

interface RunRow {
  id: string;
  cluster_id: string;
  action: MaintenanceAction;
  state: RunState;
  requested_by: string;
  trigger: 'manual' | 'schedule';
  started_at: number;
  finished_at: number | null;
  reason: string | null;
  cancel_requested: number;
  steps: string;
}

interface CheckRow {
  cluster_id: string;
  checked_at: number;
  revision: number | null;
  agree: number | null;
  suspect: string | null;
  note: string | null;
  members: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toRun(r: RunRow): MaintenanceRun {
  return {
    id: r.id,
    clusterId: r.cluster_id,
    action: r.action,
    state: r.state,
    by: r.requested_by,
    trigger: r.trigger,
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
  constructor(private readonly db: Database.Database) {}

  insert(run: NewRun): void {
    this.db
      .prepare(
        `INSERT INTO maintenance_runs (id, cluster_id, action, state, requested_by, trigger, started_at, steps)
         VALUES (?, ?, ?, 'running', ?, ?, ?, ?)`,
      )
      .run(run.id, run.clusterId, run.action, run.by, run.trigger, run.startedAt, JSON.stringify(run.steps));
  }

  /** Saves the steps as they are now (called after every step change). */
  saveSteps(id: string, steps: RunStep[]): void {
    this.db.prepare('UPDATE maintenance_runs SET steps = ? WHERE id = ?').run(JSON.stringify(steps), id);
  }

  requestCancel(id: string): void {
    this.db.prepare('UPDATE maintenance_runs SET cancel_requested = 1 WHERE id = ?').run(id);
  }

  finish(id: string, state: Exclude<RunState, 'running'>, at: number, reason: string | null, steps: RunStep[]): void {
    this.db
      .prepare('UPDATE maintenance_runs SET state = ?, finished_at = ?, reason = ?, steps = ? WHERE id = ?')
      .run(state, at, reason, JSON.stringify(steps), id);
  }

  get(clusterId: string, id: string): MaintenanceRun | null {
    const row = this.db.prepare('SELECT * FROM maintenance_runs WHERE cluster_id = ? AND id = ?').get(clusterId, id) as
      RunRow | undefined;
    return row ? toRun(row) : null;
  }

  list(clusterId: string, limit = 100): MaintenanceRun[] {
    return (
      this.db
        .prepare('SELECT * FROM maintenance_runs WHERE cluster_id = ? ORDER BY started_at DESC, id DESC LIMIT ?')
        .all(clusterId, limit) as RunRow[]
    ).map(toRun);
  }

  /**
   * Runs left "running" by a dashboard that stopped (killed, crashed, restarted) are marked interrupted, with their
   * running and pending steps; returns them so the caller can audit each.
   */
  markInterrupted(at: number): MaintenanceRun[] {
    const rows = this.db.prepare("SELECT * FROM maintenance_runs WHERE state = 'running'").all() as RunRow[];
    const out: MaintenanceRun[] = [];
    for (const row of rows) {
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
      this.finish(run.id, 'interrupted', at, reason, steps);
      out.push({ ...run, state: 'interrupted', finishedAt: new Date(at).toISOString(), reason, steps });
    }
    return out;
  }

  addCheck(check: ConsistencyCheck): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO consistency_checks (cluster_id, checked_at, revision, agree, suspect, note, members)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        check.clusterId,
        Date.parse(check.checkedAt),
        check.revision,
        check.agree === null ? null : check.agree ? 1 : 0,
        check.suspect,
        check.note,
        JSON.stringify(check.members),
      );
  }

  checks(clusterId: string, limit = 100): ConsistencyCheck[] {
    return (
      this.db
        .prepare('SELECT * FROM consistency_checks WHERE cluster_id = ? ORDER BY checked_at DESC LIMIT ?')
        .all(clusterId, limit) as CheckRow[]
    ).map(toCheck);
  }

  /** Drops runs and checks older than `before` (epoch ms). */
  prune(before: number): void {
    this.db.prepare('DELETE FROM maintenance_runs WHERE started_at < ? AND state != ?').run(before, 'running');
    this.db.prepare('DELETE FROM consistency_checks WHERE checked_at < ?').run(before);
  }
}
