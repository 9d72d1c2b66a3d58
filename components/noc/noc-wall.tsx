'use client';

import { useQuery } from '@tanstack/react-query';
import { deriveFreshness } from '@/lib/cluster/freshness';
import type { NocResponse, NocTile } from '@/lib/alerts/noc-types';
import type { QuorumState } from '@/lib/cluster/status-types';
import { DEFAULT_QUOTA_BYTES } from '@/lib/history/range-presets';
import { formatAge, formatBytes, formatClock } from '@/lib/format/units';
import { fetchJson } from '@/lib/query/fetch-json';
import { QUORUM_STYLE, SEVERITY_ICON } from '../health-style';
import { useNow } from '../use-now';

const NOC_POLL_MS = 2000;

/** The wall's own, darker backgrounds; the words and icons are the overview's (QUORUM_STYLE), in capitals. */
const NOC_BG: Record<QuorumState, string> = {
  healthy: 'bg-emerald-700',
  degraded: 'bg-amber-600',
  'at-risk': 'bg-orange-700',
  lost: 'bg-red-800',
};

/** Columns for n tiles on a 16:9 wall, so that up to 12 fit without scrolling. */
function columns(n: number): number {
  if (n <= 1) return 1;
  if (n <= 4) return 2;
  if (n <= 9) return 3;
  return 4;
}

function Tile({
  tile,
  receivedAt,
  fetchFailed,
  now,
}: {
  tile: NocTile;
  receivedAt: number;
  fetchFailed: boolean;
  now: number;
}) {
  const s = tile.status;
  const freshness = deriveFreshness({ status: s, receivedAt, now, fetchFailed });
  const fresh = freshness.kind === 'fresh';
  const style = { ...QUORUM_STYLE[s.quorum.state], bg: NOC_BG[s.quorum.state] };
  const maxDb = Math.max(0, ...s.members.map((m) => m.status?.dbSize ?? 0));
  const quota = s.quotaBackendBytes ?? DEFAULT_QUOTA_BYTES;
  const snap = s.lastVerifiedSnapshot;
  // No member answering is, from where the dashboard stands, the same as having no data: the cluster may be down or
  // only cut off from the dashboard. The tile says which it knows, never a colour alone.
  const noneAnswer = fresh && (s.members.length === 0 || s.members.every((m) => m.health === 'unreachable'));
  if (!fresh || noneAnswer) {
    const since =
      freshness.kind === 'no-data'
        ? freshness.since
        : s.lastAnsweredAt
          ? receivedAt - (Date.parse(s.servedAt) - Date.parse(s.lastAnsweredAt))
          : null;
    const reason =
      freshness.kind === 'no-data' && freshness.reason === 'dashboard-unreachable'
        ? 'dashboard not answering'
        : noneAnswer
          ? `no member answers (${s.members.length} configured)`
          : 'no answer from etcd';
    return (
      <section
        data-testid="noc-tile"
        data-cluster={s.clusterId}
        data-state="no-data"
        data-reason={reason}
        className="flex flex-col justify-between overflow-hidden rounded-2xl border-4 border-dashed border-slate-400 bg-slate-800 p-[1.2vw] text-slate-100"
      >
        <h2 className="truncate text-[2.2vw] font-semibold">{s.name}</h2>
        <p className="text-[3.6vw] leading-none font-black tracking-tight">
          <span aria-hidden>⊘ </span>NO DATA
        </p>
        <p className="text-[1.5vw]">
          {since !== null
            ? `since ${formatClock(since)} (${formatAge(now - since)})`
            : noneAnswer
              ? 'not since the dashboard started'
              : 'nothing received yet'}{' '}
          · {reason}
        </p>
      </section>
    );
  }
  return (
    <section
      data-testid="noc-tile"
      data-cluster={s.clusterId}
      data-state={s.quorum.state}
      className={`flex flex-col justify-between overflow-hidden rounded-2xl p-[1.2vw] text-white ${style.bg}`}
    >
      <div className="flex items-baseline justify-between gap-2">
        <h2 className="truncate text-[2.2vw] font-semibold">{s.name}</h2>
        <span className="text-[1.4vw] whitespace-nowrap">
          {s.quorum.healthy}/{s.quorum.voting} healthy
        </span>
      </div>
      <p data-testid="noc-state" className="text-[3.6vw] leading-none font-black tracking-tight">
        <span aria-hidden>{style.icon} </span>
        {style.word.toUpperCase()}
      </p>
      <div className="space-y-[0.3vw] text-[1.35vw] leading-tight">
        <p className="truncate">{s.leader ? `★ leader ${s.leader.name}` : '✕ no leader'}</p>
        {tile.worstAlert ? (
          <p data-testid="noc-alert" className="truncate font-semibold">
            {SEVERITY_ICON[tile.worstAlert.severity]} {tile.worstAlert.summary}
            {tile.firingCount > 1 ? ` (+${tile.firingCount - 1})` : ''}
          </p>
        ) : (
          <p className="opacity-80">no alerts</p>
        )}
        <p className="truncate opacity-90">
          DB {formatBytes(maxDb)} of {formatBytes(quota)} ({Math.round((100 * maxDb) / quota)} %) · snapshot{' '}
          {snap ? `${formatAge(now - Date.parse(snap.finishedAt))} ago` : 'NONE'}
        </p>
      </div>
    </section>
  );
}

export function NocWall() {
  const now = useNow(1000);
  const q = useQuery({
    queryKey: ['noc'],
    queryFn: ({ signal }) => fetchJson<NocResponse>('/api/noc', signal),
    refetchInterval: NOC_POLL_MS,
    refetchIntervalInBackground: true,
    // A wall screen retries forever: the next poll is the retry.
    retry: false,
  });
  const tiles = q.data?.tiles ?? [];
  const cols = columns(tiles.length);
  const rows = Math.max(1, Math.ceil(tiles.length / cols));
  const lost = q.isError && now - q.dataUpdatedAt > 5000;
  return (
    <main className="flex h-screen flex-col gap-[0.8vw] overflow-hidden bg-slate-950 p-[0.8vw] text-slate-100">
      <header className="flex items-baseline justify-between text-[1.2vw]">
        <h1 className="font-semibold">etcd clusters</h1>
        <p
          data-testid="noc-clock"
          className={lost ? 'font-bold text-amber-300' : 'opacity-80'}
          suppressHydrationWarning
        >
          {lost
            ? `⊘ dashboard not answering since ${formatClock(q.dataUpdatedAt || now)}`
            : `updated ${formatClock(q.dataUpdatedAt || now)}`}
        </p>
      </header>
      {tiles.length === 0 ? (
        <p className="m-auto text-[3vw] font-bold">
          {q.isError ? '⊘ NO DATA: the dashboard is not answering' : 'Loading…'}
        </p>
      ) : (
        <div
          className="grid flex-1 gap-[0.8vw]"
          style={{
            gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))`,
            gridTemplateRows: `repeat(${rows}, minmax(0, 1fr))`,
          }}
        >
          {tiles.map((t) => (
            <Tile key={t.status.clusterId} tile={t} receivedAt={q.dataUpdatedAt} fetchFailed={q.isError} now={now} />
          ))}
        </div>
      )}
    </main>
  );
}
