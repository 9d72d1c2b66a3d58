// Words, icons and colours for states: colour is never the only signal.
import type { Severity } from '@/lib/alerts/alert-types';
import type { MemberHealth, QuorumState } from '@/lib/cluster/status-types';

export interface StateStyle {
  word: string;
  icon: string;
  className: string;
}

export const QUORUM_STYLE: Record<QuorumState, StateStyle> = {
  healthy: { word: 'Healthy', icon: '✓', className: 'bg-emerald-600 text-white' },
  degraded: { word: 'Degraded', icon: '!', className: 'bg-amber-500 text-black' },
  'at-risk': { word: 'At risk', icon: '⚠', className: 'bg-orange-600 text-white' },
  lost: { word: 'Quorum lost', icon: '✕', className: 'bg-red-700 text-white' },
};

export const NO_DATA_STYLE: StateStyle = {
  word: 'NO DATA',
  icon: '?',
  className:
    'bg-slate-500 text-white bg-[repeating-linear-gradient(45deg,transparent,transparent_10px,rgba(0,0,0,.15)_10px,rgba(0,0,0,.15)_20px)]',
};

export const HEALTH_STYLE: Record<MemberHealth, StateStyle> = {
  healthy: {
    word: 'healthy',
    icon: '✓',
    className: 'bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100',
  },
  unhealthy: {
    word: 'unhealthy',
    icon: '!',
    className: 'bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100',
  },
  unreachable: {
    word: 'unreachable',
    icon: '✕',
    className: 'bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100',
  },
};

/** The icon beside an alert's severity, wherever an alert is shown. */
export const SEVERITY_ICON: Record<Severity, string> = { critical: '✖', warning: '⚠', info: 'ℹ' };
