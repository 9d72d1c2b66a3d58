// Turns each evaluation's findings into alert states: pending until a rule's `for` duration has held, then firing,
// then resolved when the finding goes away. Pure: the caller passes `now` and persists what changes.
import type { Severity } from '@/lib/cluster/severity';
import type { RuleName } from '@/lib/cluster/thresholds';
import type { Finding } from './rules';

export interface TrackedAlert {
  /** Stable for this alert instance (rule, severity, member, instance, and when it first became pending). */
  id: string;
  key: string;
  rule: RuleName;
  severity: Severity;
  memberId: string | null;
  memberName: string | null;
  summary: string;
  state: 'pending' | 'firing';
  pendingSince: number;
  firingSince: number | null;
}

export interface Transition {
  alert: TrackedAlert;
  to: 'firing' | 'resolved';
  at: number;
}

export function findingKey(f: Pick<Finding, 'rule' | 'severity' | 'memberId' | 'instance'>): string {
  return [f.rule, f.severity, f.memberId ?? '', f.instance ?? ''].join('|');
}

/** The alert's identity without its severity. */
const baseKey = (a: Pick<TrackedAlert, 'key'>) =>
  a.key
    .split('|')
    .filter((_, i) => i !== 1)
    .join('|');

export class AlertTracker {
  private readonly active = new Map<string, TrackedAlert>();

  constructor(
    private readonly clusterId: string,
    private readonly forMs: (rule: RuleName) => number,
  ) {}

  /** Alerts found firing in the database at start: they resolve (and say so) if their condition is gone. */
  restore(alert: TrackedAlert): void {
    this.active.set(alert.key, alert);
  }

  /** The alerts as the store has them now: what another replica (the leader) has raised and resolved. */
  replaceWith(alerts: readonly TrackedAlert[]): void {
    this.active.clear();
    for (const a of alerts) this.active.set(a.key, a);
  }

  current(): TrackedAlert[] {
    return [...this.active.values()];
  }

  /**
   * `frozen`: the data is stale, so absence of a finding proves nothing: alerts that are not found stay as they are
   * instead of resolving (a NOC screen must not turn green because the dashboard went blind).
   */
  update(
    findings: Finding[],
    now: number,
    frozen = false,
    /** Alerts whose condition could not be judged this time (its input is not known yet): kept as they are. */
    unknown: (alert: TrackedAlert) => boolean = () => false,
  ): Transition[] {
    const transitions: Transition[] = [];
    const seen = new Set<string>();
    for (const f of findings) {
      const key = findingKey(f);
      seen.add(key);
      let a = this.active.get(key);
      if (!a) {
        a = {
          id: `${this.clusterId}:${key}:${now}`,
          key,
          rule: f.rule,
          severity: f.severity,
          memberId: f.memberId,
          memberName: f.memberName,
          summary: f.summary,
          state: 'pending',
          pendingSince: now,
          firingSince: null,
        };
        this.active.set(key, a);
      }
      a.summary = f.summary;
      if (f.memberName) a.memberName = f.memberName;
      if (a.state === 'pending' && now - a.pendingSince >= this.forMs(f.rule)) {
        a.state = 'firing';
        a.firingSince = now;
        transitions.push({ alert: { ...a }, to: 'firing', at: now });
      }
    }
    if (!frozen) {
      // A finding that changed severity is a new alert that must wait out its own `for`: until it fires, the firing
      // alert of the old severity stays, so getting worse never reads as "resolved" followed by silence.
      const pendingSuccessor = new Set(
        [...this.active.values()].filter((a) => a.state === 'pending' && seen.has(a.key)).map(baseKey),
      );
      for (const [key, a] of this.active) {
        if (seen.has(key)) continue;
        if (a.state === 'firing' && pendingSuccessor.has(baseKey(a))) continue;
        if (unknown(a)) continue;
        this.active.delete(key);
        if (a.state === 'firing') transitions.push({ alert: { ...a }, to: 'resolved', at: now });
      }
    }
    return transitions;
  }
}
