// Words, icons and colours of maintenance actions, runs and steps: colour is never the only signal.
import type { MaintenanceAction, RunState, StepKind, StepState } from '@/lib/maintenance/maintenance-types';
import type { StateStyle } from '../health-style';

export const ACTION_TEXT: Record<MaintenanceAction, { label: string; what: string }> = {
  defragment: {
    label: 'Defragment',
    what: 'Gives the space that compaction freed back to the disk, one member at a time: followers first, the leader last.',
  },
  compact: {
    label: 'Compact',
    what: 'Drops the old revisions of every key up to a revision. The space is reused by etcd; only a defragment returns it to the disk.',
  },
  'nospace-recovery': {
    label: 'NOSPACE recovery',
    what: 'After a NOSPACE alarm: compacts to the current revision, defragments every member, disarms the alarm and checks that a write succeeds again.',
  },
  disarm: {
    label: 'Disarm NOSPACE alarm',
    what: 'Clears the NOSPACE alarm once the space is already freed (every member below the quota) and checks that a write succeeds.',
  },
  'move-leader': {
    label: 'Move leader',
    what: 'Hands leadership to another voting member, for example before restarting the leader’s machine: one short election instead of a timeout.',
  },
};

export const STEP_TEXT: Record<StepKind, string> = {
  defragment: 'Defragment',
  compact: 'Compact',
  disarm: 'Disarm alarm',
  'write-check': 'Write check',
  'move-leader': 'Move leader',
  'wait-healthy': 'Wait until healthy',
};

const SKY = 'bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100';
const GREEN = 'bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100';
const RED = 'bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100';
const AMBER = 'bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100';
const GREY = 'bg-slate-200 text-slate-800 dark:bg-slate-800 dark:text-slate-200';

export const RUN_STATE_STYLE: Record<RunState, StateStyle> = {
  running: { word: 'running', icon: '⟳', className: SKY },
  succeeded: { word: 'succeeded', icon: '✓', className: GREEN },
  failed: { word: 'failed', icon: '✕', className: RED },
  canceled: { word: 'canceled', icon: '⊘', className: AMBER },
  interrupted: { word: 'interrupted', icon: '!', className: AMBER },
};

export const STEP_STATE_STYLE: Record<StepState, StateStyle> = {
  pending: { word: 'pending', icon: '·', className: GREY },
  running: { word: 'running', icon: '⟳', className: SKY },
  succeeded: { word: 'done', icon: '✓', className: GREEN },
  failed: { word: 'failed', icon: '✕', className: RED },
  skipped: { word: 'skipped', icon: '–', className: GREY },
  canceled: { word: 'canceled', icon: '⊘', className: AMBER },
  interrupted: { word: 'interrupted', icon: '!', className: AMBER },
};

const MIB = 1024 * 1024;

/** Space in MiB, as etcd operators compare it with --quota-backend-bytes. */
export function mib(bytes: number): string {
  const v = bytes / MIB;
  if (v === 0) return '0 MiB';
  return `${v >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(v < 1 ? 2 : 1)} MiB`;
}

/** "850 ms", "12.4 s", "3 min 5 s" */
export function duration(fromIso: string, toIso: string | null, now: number): string {
  const ms = Math.max(0, (toIso ? Date.parse(toIso) : now) - Date.parse(fromIso));
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}
