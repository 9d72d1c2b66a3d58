'use client';

import type { AlarmView, MemberView } from '@/lib/cluster/status-types';

const WHAT_TO_DO: Record<AlarmView['alarm'], string> = {
  NOSPACE:
    'The database reached its quota: the cluster accepts only reads and deletes. Free space (compact old revisions, defragment each member), then run `etcdctl alarm disarm`.',
  CORRUPT:
    'A member’s data disagrees with the others. Stop writes, find the diverged member, and replace it or restore from a verified snapshot.',
};

export function AlarmBanner({ alarms, members }: { alarms: AlarmView[]; members: MemberView[] }) {
  if (alarms.length === 0) return null;
  return (
    <section
      role="alert"
      data-testid="alarm-banner"
      className="rounded-xl border-2 border-red-700 bg-red-50 p-4 text-red-950 dark:bg-red-950 dark:text-red-50"
    >
      <h2 className="text-lg font-bold">✖ {alarms.length === 1 ? 'Alarm active' : `${alarms.length} alarms active`}</h2>
      <ul className="mt-2 space-y-2">
        {alarms.map((a) => {
          const member = members.find((m) => m.id === a.memberId);
          return (
            <li key={`${a.memberId}-${a.alarm}`}>
              <strong>{a.alarm}</strong> on {member?.name ?? 'member'} <code>{a.memberId}</code>: {WHAT_TO_DO[a.alarm]}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
