// Fired alerts in the dashboard database: open ones survive a restart, resolved ones are history.
import 'server-only';
import type Database from 'better-sqlite3';
import type { Severity } from '@/lib/cluster/severity';
import type { RuleName } from '@/lib/cluster/thresholds';
import type { TrackedAlert } from './alert-tracker';

interface Row {
  id: string;
  cluster_id: string;
  rule: string;
  severity: Severity;
  alert_key: string;
  member_id: string | null;
  member_name: string | null;
  summary: string;
  pending_since: number;
  firing_since: number;
  resolved_at: number | null;
}

export interface StoredAlert extends TrackedAlert {
  clusterId: string;
  resolvedAt: number | null;
}

function toAlert(r: Row): StoredAlert {
  return {
    id: r.id,
    key: r.alert_key,
    clusterId: r.cluster_id,
    rule: r.rule as RuleName,
    severity: r.severity,
    memberId: r.member_id,
    memberName: r.member_name,
    summary: r.summary,
    state: 'firing',
    pendingSince: r.pending_since,
    firingSince: r.firing_since,
    resolvedAt: r.resolved_at,
  };
}

export class AlertStore {
  private readonly firedQuery: Database.Statement;
  private readonly resolvedQuery: Database.Statement;
  private readonly openQuery: Database.Statement;
  private readonly historyQuery: Database.Statement;
  private readonly pruneQuery: Database.Statement;

  constructor(private readonly db: Database.Database) {
    // An id already stored is never rewritten: an open alert fired again keeps when it began (only its summary and
    // member name follow), and a resolved one is history that stays as it was. INSERT OR REPLACE would delete the old
    // row and write a new one, resolved_at and pending_since lost.
    this.firedQuery = db.prepare(
      `INSERT INTO alerts (id, cluster_id, rule, severity, alert_key, member_id, member_name, summary, pending_since, firing_since)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET summary = excluded.summary, member_name = excluded.member_name
         WHERE alerts.resolved_at IS NULL AND alerts.cluster_id = excluded.cluster_id`,
    );
    // Resolved once: a second resolution of the same id does not move the time it ended.
    this.resolvedQuery = db.prepare(
      'UPDATE alerts SET resolved_at = ?, summary = ? WHERE id = ? AND resolved_at IS NULL',
    );
    this.openQuery = db.prepare('SELECT * FROM alerts WHERE cluster_id = ? AND resolved_at IS NULL');
    this.historyQuery = db.prepare(
      `SELECT * FROM alerts WHERE firing_since <= @to AND (resolved_at IS NULL OR resolved_at >= @from)
             AND (@cluster IS NULL OR cluster_id = @cluster)
           ORDER BY firing_since DESC LIMIT @limit`,
    );
    this.pruneQuery = db.prepare('DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?');
  }

  /** Records a firing alert; false (and a log line) when its id is already history, which is left as it was. */
  fired(clusterId: string, a: TrackedAlert): boolean {
    const { changes } = this.firedQuery.run(
      a.id,
      clusterId,
      a.rule,
      a.severity,
      a.key,
      a.memberId,
      a.memberName,
      a.summary,
      a.pendingSince,
      a.firingSince ?? a.pendingSince,
    );
    if (changes === 0) console.error(`alerts: ${a.id} is already recorded as resolved; its history is kept as it was`);
    return changes > 0;
  }

  resolved(id: string, at: number, summary: string): void {
    this.resolvedQuery.run(at, summary, id);
  }

  open(clusterId: string): StoredAlert[] {
    return (this.openQuery.all(clusterId) as Row[]).map(toAlert);
  }

  /** Read on every /api/alerts request: prepared once. */
  private resolvedSinceQuery: Database.Statement | null = null;

  resolvedSince(since: number): StoredAlert[] {
    this.resolvedSinceQuery ??= this.db.prepare(
      'SELECT * FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at >= ? ORDER BY resolved_at DESC LIMIT 500',
    );
    return (this.resolvedSinceQuery.all(since) as Row[]).map(toAlert);
  }

  /** Alerts that fired within [from, to] or were still firing then, newest first; at most `limit`. */
  history(q: { clusterId?: string; from: number; to: number; limit?: number }): StoredAlert[] {
    return (
      this.historyQuery.all({ from: q.from, to: q.to, cluster: q.clusterId ?? null, limit: q.limit ?? 1000 }) as Row[]
    ).map(toAlert);
  }

  prune(before: number): number {
    return this.pruneQuery.run(before).changes;
  }
}
