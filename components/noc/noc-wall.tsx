'use client';

import { useQuery } from '@tanstack/react-query';
import { deriveFreshness } from '@/lib/cluster/freshness';
import type { NocTile } from '@/lib/alerts/noc-types';
import { leaderLine, troubleText } from '@/lib/cluster/quorum';
import type { QuorumState } from '@/lib/cluster/status-types';
import { DEFAULT_QUOTA_BYTES } from '@/lib/history/range-presets';
import { formatAge, formatBytes, formatClock } from '@/lib/format/units';
import { nocQuery } from '@/lib/query/noc-queries';
import { QUORUM_STYLE, SEVERITY_ICON } from '../health-style';
import { judgeConsistency, type ConsistencyVerdict } from '../maintenance/consistency-verdict';
import { useNow } from '../use-now';

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

/*
 * A tile is a size container: its text is sized in container units (cqh, cqw) from the tile's own box, so any number
 * of tiles, any wall and any font fit; content can never make a tile (or the wall) taller.
 */
const TILE =
  'flex min-h-0 min-w-0 flex-col justify-between overflow-hidden rounded-2xl p-[1.2vw] [container-type:size]';
const NAME = 'text-[min(10cqh,7cqw)] leading-tight';
// Secondary text at 4 % of the screen's height (readable from 5 m) wherever the tile has room for it; smaller tiles
// (nine and more on a wall) size it from the tile, as before.
const SMALL = 'text-[min(max(4.2vh,7cqh),11cqh,5.2cqw)]';
const LINE = 'text-[min(max(4.2vh,7cqh),11cqh,5.2cqw)]';

/** The state as one large line: as large as the tile allows, never wrapped, whatever the word's length. */
function StateWord({ icon, word, testId }: { icon: string; word: string; testId: string }) {
  // About 0.8 em a character in a heavy capital face, the fallback fonts' included: the word fills at most the width.
  const chars = word.length + 2;
  return (
    <p
      data-testid={testId}
      className="overflow-hidden leading-none font-black tracking-tight text-ellipsis whitespace-nowrap"
      style={{ fontSize: `min(22cqh, ${(125 / chars).toFixed(2)}cqw)` }}
    >
      <span aria-hidden>{icon} </span>
      {word}
    </p>
  );
}

/** The members' data in two words (DejaVu is wide): the full sentence is the overview's, the suspect the alert line's. */
const CONSISTENCY_MARK: Record<Exclude<ConsistencyVerdict['kind'], 'off'>, string> = {
  agree: '✓ data agree',
  differs: '✖ DATA DIFFERS',
  stale: '? check old',
  unknown: '? data unchecked',
};

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
  // The live state first, before any alert's for-duration has passed: who is down, and a leader only with quorum.
  const trouble = troubleText(s.members);
  const leader = leaderLine(s.quorum, s.leader);
  const leaderText =
    leader.kind === 'leader'
      ? `★ leader ${leader.name}`
      : leader.kind === 'unnamed'
        ? '★ leader elected'
        : '✕ no leader';
  // With members down, who is down is the line (the leader only when there is none); the leader is on the overview.
  const liveLine = trouble !== null ? `✖ ${trouble}${leader.kind === 'none' ? ' · no leader' : ''}` : leaderText;
  const quota = s.quotaBackendBytes ?? DEFAULT_QUOTA_BYTES;
  const snap = s.lastVerifiedSnapshot;
  // Judged on the server's clock (the browser's plus the offset this answer showed), as the overview does.
  const offset = Date.parse(s.servedAt) - receivedAt;
  const consistency = judgeConsistency(
    tile.consistency.check,
    now + (Number.isNaN(offset) ? 0 : offset),
    tile.consistency.intervalMs,
  );
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
        className={`${TILE} border-4 border-dashed border-slate-400 bg-slate-800 text-slate-100`}
      >
        <h2 className={`truncate font-semibold ${NAME}`} title={s.name}>
          {s.name}
        </h2>
        <StateWord testId="noc-state" icon="⊘" word="NO DATA" />
        <p className={`line-clamp-2 ${LINE}`}>
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
      className={`${TILE} text-white ${style.bg}`}
    >
      <div className="flex min-w-0 items-baseline justify-between gap-[2cqw]">
        <h2 className={`truncate font-semibold ${NAME}`} title={s.name}>
          {s.name}
        </h2>
        <span className={`shrink-0 whitespace-nowrap ${SMALL}`}>
          {s.quorum.healthy}/{s.quorum.voting} healthy{s.quorum.busy ? ` · ${s.quorum.busy} busy` : ''}
        </span>
      </div>
      <StateWord testId="noc-state" icon={style.icon} word={style.word.toUpperCase()} />
      <div className={`min-w-0 space-y-[1cqh] leading-tight ${LINE}`}>
        <div className="flex min-w-0 items-baseline justify-between gap-[2cqw]">
          <p
            data-testid="noc-live"
            className={`truncate ${trouble !== null || s.quorum.state === 'lost' ? 'font-black' : ''}`}
          >
            {liveLine}
          </p>
          {consistency.kind !== 'off' && (
            <p
              data-testid="noc-consistency"
              data-verdict={consistency.kind}
              className={`shrink-0 whitespace-nowrap ${consistency.kind === 'differs' ? 'font-black' : 'opacity-90'}`}
            >
              {CONSISTENCY_MARK[consistency.kind]}
            </p>
          )}
        </div>
        {tile.worstAlert ? (
          // The count of the others never gives way to a long summary: the summary is what is cut.
          <div
            data-testid="noc-alert"
            className="flex min-w-0 items-baseline gap-[1.5cqw] font-semibold"
            title={tile.worstAlert.summary}
          >
            <p className="min-w-0 truncate">
              {SEVERITY_ICON[tile.worstAlert.severity]} {tile.worstAlert.summary}
            </p>
            {tile.firingCount > 1 && (
              <p data-testid="noc-more" className="shrink-0 whitespace-nowrap opacity-90">
                +{tile.firingCount - 1} more alert{tile.firingCount > 2 ? 's' : ''}
              </p>
            )}
          </div>
        ) : (
          <p className="opacity-80">no alerts</p>
        )}
        <div className="flex min-w-0 items-baseline justify-between gap-[2cqw] opacity-90">
          <p className="truncate" title={`DB ${formatBytes(maxDb)} of ${formatBytes(quota)}`}>
            DB {Math.round((100 * maxDb) / quota)} % of quota
          </p>
          <p data-testid="noc-snapshot" className="shrink-0 whitespace-nowrap">
            snapshot {snap ? `${formatAge(now - Date.parse(snap.finishedAt))} ago` : 'NONE'}
          </p>
        </div>
      </div>
    </section>
  );
}

export function NocWall() {
  const now = useNow(1000);
  const q = useQuery(nocQuery);
  const tiles = q.data?.tiles ?? [];
  const cols = columns(tiles.length);
  const rows = Math.max(1, Math.ceil(tiles.length / cols));
  const lost = q.isError && now - q.dataUpdatedAt > 5000;
  return (
    <main className="flex h-screen flex-col gap-[0.8vw] overflow-hidden bg-slate-950 p-[0.8vw] text-slate-100">
      <header className="flex items-baseline justify-between text-[min(4.2vh,2.4vw)] leading-tight">
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
          className="grid min-h-0 flex-1 gap-[0.8vw]"
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
