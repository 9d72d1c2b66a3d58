// One sentence per event, in the words an operator reads in an incident timeline; shared with the browser.
import type { ClusterEvent, EventType } from './series';

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export const EVENT_LABELS: Record<EventType, { label: string; icon: string; severity: 'bad' | 'good' | 'info' }> = {
  leader_changed: { label: 'Leader changed', icon: '★', severity: 'info' },
  member_down: { label: 'Member down', icon: '✕', severity: 'bad' },
  member_up: { label: 'Member up', icon: '✓', severity: 'good' },
  quorum_lost: { label: 'Quorum lost', icon: '✖', severity: 'bad' },
  quorum_restored: { label: 'Quorum restored', icon: '✓', severity: 'good' },
  alarm_raised: { label: 'Alarm raised', icon: '⚠', severity: 'bad' },
  alarm_cleared: { label: 'Alarm cleared', icon: '✓', severity: 'good' },
  member_added: { label: 'Member added', icon: '+', severity: 'info' },
  member_removed: { label: 'Member removed', icon: '−', severity: 'info' },
  maintenance: { label: 'Maintenance', icon: '⚙', severity: 'info' },
};

const MAINTENANCE_WORDS: Record<string, string> = {
  defragment: 'Defragment',
  compact: 'Compaction',
  disarm: 'Alarm disarm',
  'nospace-recovery': 'NOSPACE recovery',
  'move-leader': 'Leader move',
};

export function describeEvent(e: ClusterEvent): string {
  const d = e.details;
  const who = str(d.name) ?? e.memberId ?? 'a member';
  switch (e.type) {
    case 'leader_changed': {
      const from = str(d.oldLeaderName) ?? str(d.oldLeader) ?? 'unknown';
      const to = str(d.newLeaderName) ?? str(d.newLeader) ?? 'unknown';
      const term = typeof d.term === 'number' ? ` (term ${d.term})` : '';
      const base = from === to ? `${to} was elected leader again${term}` : `Leader moved from ${from} to ${to}${term}`;
      return str(d.note) ? `${base}: ${String(d.note)}` : base;
    }
    case 'member_down':
      return `${who} became ${str(d.health) ?? 'unhealthy'}${str(d.reason) ? `: ${String(d.reason)}` : ''}`;
    case 'member_up':
      return `${who} is healthy again${str(d.was) ? ` (was ${String(d.was)})` : ''}`;
    case 'quorum_lost':
      return `Quorum lost: ${String(d.healthy)} of ${String(d.voting)} voting members healthy, ${String(d.required)} needed`;
    case 'quorum_restored':
      return `Quorum restored: ${String(d.healthy)} of ${String(d.voting)} healthy (${str(d.state) ?? 'ok'})`;
    case 'alarm_raised':
      return `${str(d.alarm) ?? 'An'} alarm raised on ${who}`;
    case 'alarm_cleared':
      return `${str(d.alarm) ?? 'An'} alarm cleared on ${who}`;
    case 'member_added':
      return `${who} joined the member list${d.isLearner === true ? ' as a learner' : ''}`;
    case 'member_removed':
      return `${who} left the member list`;
    case 'maintenance': {
      const action = MAINTENANCE_WORDS[str(d.action) ?? ''] ?? str(d.action) ?? 'Maintenance';
      const by = str(d.by) ? ` (asked by ${String(d.by)})` : '';
      const phase = str(d.phase) ?? 'ran';
      const reason = str(d.reason) ? `: ${String(d.reason)}` : '';
      return `${action} ${phase}${by}${reason}`;
    }
  }
}
