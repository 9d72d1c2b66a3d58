// The shapes the maintenance API returns and the browser reads; no server imports here.

export const MAINTENANCE_ACTIONS = ['defragment', 'compact', 'disarm', 'nospace-recovery', 'move-leader'] as const;
export type MaintenanceAction = (typeof MAINTENANCE_ACTIONS)[number];

export type RunState = 'running' | 'succeeded' | 'failed' | 'canceled' | 'interrupted';
export type StepState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'canceled' | 'interrupted';

/** What one step does: one member's defragment, the cluster's compaction, an alarm disarmed, a write checked… */
export type StepKind = 'defragment' | 'compact' | 'disarm' | 'write-check' | 'move-leader' | 'wait-healthy';

/** Sizes around a step: a member's DB before and after its defragment, the revision before and after a compaction. */
export interface StepFigures {
  dbSize?: number;
  dbSizeInUse?: number;
  revision?: number;
  compactRevision?: number;
  leader?: string | null;
}

export interface PlanStep {
  /** Hex member id; null for a cluster-wide step (compact, the write check). */
  memberId: string | null;
  memberName: string | null;
  step: StepKind;
  /** One line: what the step will do and why in this order ("follower", "leader last", "to revision 1200"). */
  detail: string;
  /** For a defragment: dbSize − dbSizeInUse as the member last reported it. */
  expectedReclaimBytes?: number;
}

export interface RunStep extends PlanStep {
  state: StepState;
  startedAt: string | null;
  finishedAt: string | null;
  before: StepFigures | null;
  after: StepFigures | null;
  error: string | null;
}

export interface MaintenanceRun {
  id: string;
  clusterId: string;
  action: MaintenanceAction;
  state: RunState;
  /** Who asked: a user, a token, or "schedule" for automatic defragmentation. */
  by: string;
  trigger: 'manual' | 'schedule';
  startedAt: string;
  finishedAt: string | null;
  /** Why the run failed, was canceled or interrupted; null while it runs or when it succeeded. */
  reason: string | null;
  /** A cancel was asked: the run stops before its next step. */
  cancelRequested: boolean;
  steps: RunStep[];
}

/** A dry run's answer, and the plan a run starts with. */
export interface MaintenancePlan {
  action: MaintenanceAction;
  clusterId: string;
  steps: PlanStep[];
  /** Warnings the operator should read before confirming (watchers losing history on compaction…). */
  warnings: string[];
}

export interface MaintenanceRequest {
  action: MaintenanceAction;
  /** Which members to defragment: every member (default), or these hex ids. */
  members?: 'all' | string[];
  /** compact: the revision to compact to; default: the current revision minus `keepRevisions`. */
  revision?: number;
  /** compact: how many of the newest revisions to keep when no revision is given. */
  keepRevisions?: number;
  /** compact: keep the revisions of the last this many minutes (the revision recorded then is the target). */
  keepMinutes?: number;
  /** move-leader: the hex id of the member to hand leadership to. */
  target?: string;
  dryRun?: boolean;
}

/** Why an action may not run now: a stable code and one line naming what is unsafe. */
export interface Refusal {
  code: string;
  message: string;
}
