'use client';

import type { MemberView } from '@/lib/cluster/status-types';
import { formatBytes } from '@/lib/format/units';
import { HEALTH_STYLE, type StateStyle } from './health-style';

/** A member that fails its health read only because it is defragmenting: busy, not down (calm, never red). */
const BUSY_STYLE: StateStyle = {
  word: 'busy',
  icon: '⟳',
  className: 'bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100',
};

function role(m: MemberView): 'Leader' | 'Follower' | 'Learner' {
  if (m.isLearner) return 'Learner';
  return m.status?.isLeader ? 'Leader' : 'Follower';
}

const ROLE_ORDER = { Leader: 0, Follower: 1, Learner: 2 } as const;

function lagText(m: MemberView, leaderIndex: number | null): string {
  if (!m.status || leaderIndex === null) return '—';
  const lag = leaderIndex - m.status.raftIndex;
  if (m.status.isLeader) return 'leader';
  if (lag <= 0) return 'in sync';
  return `${lag.toLocaleString('en')} behind`;
}

export function MemberTopology({ members, fresh }: { members: MemberView[]; fresh: boolean }) {
  const leader = members.find((m) => m.status?.isLeader);
  const leaderIndex = leader?.status?.raftIndex ?? null;
  const sorted = [...members].sort((a, b) => ROLE_ORDER[role(a)] - ROLE_ORDER[role(b)] || a.name.localeCompare(b.name));
  return (
    <section aria-label="Members">
      <h2 className="mb-2 text-lg font-semibold">Members ({members.length})</h2>
      <ul className="grid grid-cols-1 gap-3 sm:grid-cols-2 xl:grid-cols-3 min-[1440px]:grid-cols-2 min-[1800px]:grid-cols-3">
        {sorted.map((m) => {
          const busy = m.defragmenting === true && m.health !== 'healthy';
          const h = busy ? BUSY_STYLE : HEALTH_STYLE[m.health];
          const r = role(m);
          const endpoint = m.endpoint ?? m.clientURLs[0] ?? 'no endpoint';
          return (
            <li
              key={m.id ?? m.endpoint ?? m.name}
              data-testid="member-row"
              data-member-name={m.name}
              data-health={m.health}
              data-busy={busy ? 'true' : undefined}
              className={`min-w-0 rounded-xl border bg-white p-4 shadow-sm dark:bg-slate-900 ${
                r === 'Leader' ? 'border-sky-500 border-2' : 'border-slate-200 dark:border-slate-700'
              } ${fresh ? '' : 'opacity-60'}`}
            >
              <div className="flex items-start justify-between gap-2">
                <div className="min-w-0">
                  <p className="truncate text-base font-semibold" title={m.name}>
                    {m.name}
                  </p>
                  <p className="truncate text-xs text-slate-500" title={`${m.id ?? 'id unknown'} · ${endpoint}`}>
                    <code>{m.id ?? 'id unknown'}</code> · {endpoint}
                  </p>
                </div>
                <div className="flex shrink-0 flex-col items-end gap-1">
                  <span
                    data-testid="member-health"
                    className={`rounded px-2 py-0.5 text-sm font-semibold ${fresh ? h.className : 'bg-slate-200 text-slate-700'}`}
                  >
                    <span aria-hidden>{h.icon}</span> {h.word}
                  </span>
                  <span className="text-xs font-medium text-slate-600 dark:text-slate-300">
                    {r === 'Leader' ? '★ ' : ''}
                    {r}
                  </span>
                </div>
              </div>
              {(m.defragmenting || m.status?.downgrade?.enabled) && (
                <p className="mt-2 flex flex-wrap gap-1 text-xs font-semibold">
                  {m.defragmenting && (
                    <span
                      data-testid="member-defragmenting"
                      title="A defragment is running (a maintenance run, or etcd_disk_defrag_inflight is 1): reads and writes on this member wait until it ends; it still votes"
                      className="rounded bg-sky-100 px-2 py-0.5 text-sky-900 dark:bg-sky-900 dark:text-sky-100"
                    >
                      <span aria-hidden>⟳</span> defragmenting
                    </span>
                  )}
                  {m.status?.downgrade?.enabled && (
                    <span
                      data-testid="member-downgrade"
                      title="etcdctl downgrade enable is in effect: the cluster version and storage version are lowered; cancel with etcdctl downgrade cancel"
                      className="rounded bg-amber-100 px-2 py-0.5 [overflow-wrap:anywhere] text-amber-900 dark:bg-amber-900 dark:text-amber-100"
                    >
                      <span aria-hidden>↓</span> downgrade to {m.status.downgrade.targetVersion || '?'} enabled
                    </span>
                  )}
                </p>
              )}
              {m.error && (
                <p
                  data-testid="member-error"
                  className={`mt-2 text-sm [overflow-wrap:anywhere] ${busy ? 'text-slate-700 dark:text-slate-300' : 'text-red-800 dark:text-red-300'}`}
                >
                  {m.error}
                </p>
              )}
              <dl className="mt-3 grid grid-cols-2 gap-x-3 gap-y-1 text-sm [&>dd]:min-w-0 [&>dd]:[overflow-wrap:anywhere]">
                <dt className="text-slate-500">Probe</dt>
                <dd>{m.probeMs !== null ? `${m.probeMs} ms` : '—'}</dd>
                <dt className="text-slate-500">Raft index</dt>
                <dd>
                  {m.status ? m.status.raftIndex.toLocaleString('en') : '—'}{' '}
                  <span className="text-slate-500">({lagText(m, leaderIndex)})</span>
                </dd>
                <dt className="text-slate-500">DB size</dt>
                <dd>{m.status ? formatBytes(m.status.dbSize) : '—'}</dd>
                <dt className="text-slate-500">In use</dt>
                <dd>
                  {m.status
                    ? `${formatBytes(m.status.dbSizeInUse)} (${m.status.dbSize > 0 ? Math.round((100 * m.status.dbSizeInUse) / m.status.dbSize) : 0} %)`
                    : '—'}
                </dd>
                <dt className="text-slate-500">Version</dt>
                <dd>
                  {m.status?.version ?? '—'}
                  {m.status?.storageVersion && (
                    <>
                      {' '}
                      <span
                        data-testid="member-storage-version"
                        title="Storage version of the member's db file (etcd 3.6+)"
                        className="text-slate-500"
                      >
                        (storage {m.status.storageVersion})
                      </span>
                    </>
                  )}
                </dd>
                <dt className="text-slate-500">Raft term</dt>
                <dd>{m.status?.raftTerm ?? '—'}</dd>
              </dl>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
