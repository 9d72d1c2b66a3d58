'use client';

import { describeQuorum, leaderLine, troubleText } from '@/lib/cluster/quorum';
import type { ClusterStatus } from '@/lib/cluster/status-types';
import { NO_DATA_STYLE, QUORUM_STYLE } from './health-style';

const ADVICE: Record<ClusterStatus['quorum']['state'], string> = {
  healthy: 'Every voting member is healthy and a leader is elected.',
  degraded: 'A member is down but the cluster can still lose another one. Bring it back before doing anything risky.',
  'at-risk':
    'One more failure loses quorum and the cluster stops accepting writes. Restore the failed member now; postpone maintenance.',
  lost: 'No quorum or no leader: etcd refuses writes and Kubernetes cannot change anything. Restart the failed members; if they cannot return, restore from a snapshot.',
};

/** The voting members busy defragmenting, by name: busy, not down (reads on them wait; they still vote). */
function busyText(status: ClusterStatus): string {
  const n = status.quorum.busy ?? 0;
  const names = status.members.filter((m) => m.defragmenting && !m.isLearner && m.health !== 'healthy');
  const who = names.length === n ? names.map((m) => m.name).join(', ') : `${n} members`;
  return n === 1
    ? `${who} is defragmenting: reads and writes on it wait until the defragment ends. Busy, not down: it still votes and counts toward quorum.`
    : `${who} are defragmenting: reads and writes on them wait until their defragments end. Busy, not down: they still vote and count toward quorum.`;
}

/** Who leads (never a leader without quorum), then which voting members are down or unhealthy. */
function LeaderText({ status }: { status: ClusterStatus }) {
  const line = leaderLine(status.quorum, status.leader);
  const trouble = troubleText(status.members);
  const troubleLine =
    trouble !== null ? (
      <>
        {' '}
        · <strong data-testid="quorum-trouble">{trouble}</strong>
      </>
    ) : null;
  if (line.kind === 'leader')
    return (
      <>
        Leader: <strong>{line.name}</strong> <code className="opacity-80">{line.id}</code>
        {troubleLine}
      </>
    );
  if (line.kind === 'none')
    return (
      <>
        <strong>No leader</strong>
        {line.lastLeader && <> (last: {line.lastLeader}, without quorum it leads nothing)</>}
        {troubleLine}
      </>
    );
  // etcd refused Status: a linearizable read proved a leader, but nothing names it.
  return <>Leader: elected, not named (etcd refuses Status to the dashboard&apos;s etcd user){troubleLine}</>;
}

export function QuorumCard({ status, fresh }: { status: ClusterStatus; fresh: boolean }) {
  const q = status.quorum;
  const style = fresh ? QUORUM_STYLE[q.state] : NO_DATA_STYLE;
  const busy = fresh && (q.busy ?? 0) > 0;
  return (
    <section
      aria-label="Quorum"
      data-testid="quorum-card"
      data-state={fresh ? q.state : 'no-data'}
      className={`rounded-xl p-5 shadow ${style.className}`}
    >
      <div className="flex flex-wrap items-baseline gap-x-4 gap-y-1">
        <h2 data-testid="quorum-state" className="text-4xl font-bold tracking-tight">
          <span aria-hidden className="mr-2">
            {style.icon}
          </span>
          {style.word}
        </h2>
        <p data-testid="quorum-summary" className="text-lg font-medium">
          {/* The busy members have their own calm badge beside it. */}
          {describeQuorum({ ...q, busy: 0 })}
        </p>
        {busy && (
          <span
            data-testid="quorum-busy"
            className="rounded-full bg-sky-100 px-3 py-0.5 text-sm font-semibold text-sky-900 dark:bg-sky-900 dark:text-sky-100"
          >
            <span aria-hidden>⟳ </span>
            {q.busy} busy defragmenting
          </span>
        )}
      </div>
      <p data-testid="quorum-leader" className="mt-2 text-base">
        <LeaderText status={status} />
        {!fresh && <> · last known state: {QUORUM_STYLE[q.state].word.toLowerCase()}</>}
      </p>
      {/* "Every voting member is healthy" is not so while one is busy: the busy line says what is. */}
      {fresh && !(busy && q.state === 'healthy' && status.alarms.length === 0) && (
        <p className="mt-2 text-sm opacity-90">
          {status.alarms.length > 0
            ? `An alarm is active (${[...new Set(status.alarms.map((a) => a.alarm))].join(', ')}): members under it refuse writes until it is cleared. See the alarm above.`
            : ADVICE[q.state]}
        </p>
      )}
      {busy && (
        <p data-testid="quorum-busy-detail" className="mt-2 text-sm opacity-90">
          {busyText(status)}
        </p>
      )}
    </section>
  );
}
