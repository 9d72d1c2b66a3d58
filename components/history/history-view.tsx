'use client';

import { useQuery } from '@tanstack/react-query';
import { memo, useMemo, useState } from 'react';
import Link from 'next/link';
import { usePathname, useSearchParams } from 'next/navigation';
import {
  firstSample,
  fitTimeAxis,
  largestLatest,
  outagesFrom,
  type LevelLine,
  type Outages,
  type TimeAxis,
} from '@/lib/history/chart-model';
import { projectGrowth } from '@/lib/history/growth';
import { DEFAULT_QUOTA_BYTES } from '@/lib/cluster/thresholds';
import { RANGE_PRESETS, type RangePreset, type Threshold } from '@/lib/history/range-presets';
import {
  EVENT_TYPES,
  HISTORY_CHARTS,
  OUTAGE_EVENT_TYPES,
  SERIES,
  type EventType,
  type SeriesName,
} from '@/lib/history/series';
import { formatAge, formatBytes, formatDateTime } from '@/lib/format/units';
import { clusterStatusQuery } from '@/lib/query/cluster-queries';
import type { HistoryWindow } from '@/lib/history/history-params';
import { eventsQuery, historyQuery } from '@/lib/query/history-queries';
import { useNow } from '../use-now';
import { AlertHistory } from './alert-history';
import { EventTimeline } from './event-timeline';
import { SeriesChart, type TimeMarker } from './series-chart';

export interface HistoryViewProps {
  clusterId: string;
  range: RangePreset | null;
  from: string;
  to: string;
  at: string | null;
  /** The lines each chart draws: the cluster's configured alert levels. */
  thresholds: Partial<Record<SeriesName, Threshold[]>>;
}

function GrowthLine({ win, memberId, quota }: { win: HistoryWindow; memberId?: string; quota: number }) {
  const { data } = useQuery(historyQuery(win, 'db_size_bytes', memberId));
  const now = useNow(10_000);
  // The fastest-growing member decides when the quota is reached.
  const projections = (data?.members ?? []).map((m) => ({ name: m.name, p: projectGrowth(m.points, quota, now) }));
  const soonest = projections
    .filter((x) => x.p.kind === 'reaches-quota' || x.p.kind === 'over-quota')
    .sort((a, b) =>
      a.p.kind === 'over-quota'
        ? -1
        : b.p.kind === 'over-quota'
          ? 1
          : (a.p as { days: number }).days - (b.p as { days: number }).days,
    )[0];
  let text: string;
  if (!data) text = '';
  else if (soonest?.p.kind === 'over-quota') text = `${soonest.name} is over the quota.`;
  else if (soonest?.p.kind === 'reaches-quota') {
    const days = soonest.p.days;
    text = `Quota reached in about ${days < 1 ? `${Math.max(1, Math.round(days * 24))} h` : `${Math.round(days)} days`} (${soonest.name}, +${formatBytes(soonest.p.bytesPerDay)}/day).`;
  } else if (projections.some((x) => x.p.kind === 'not-growing')) text = 'Not growing.';
  else text = 'Not enough data for a projection yet.';
  return (
    <p data-testid="growth-projection" className="mt-1 text-xs text-slate-600 dark:text-slate-400">
      {text}
    </p>
  );
}

export function HistoryView({ clusterId, range, from, to, at, thresholds }: HistoryViewProps) {
  const pathname = usePathname();
  const searchParams = useSearchParams();
  // Read on the client: the member picker changes it with the history API, without a server round trip.
  const member = searchParams.get('member') || null;
  const live = range !== null;
  const now = useNow(10_000);
  // Memoized, like the axis, outages and markers below: each chart redraws only when its own data or these change,
  // not at every one of the page's other answers (ten charts redrawn a dozen times cost seconds on a small machine).
  const win: HistoryWindow = useMemo(() => ({ clusterId, from, to, live }), [clusterId, from, to, live]);
  const rangeDomain: [number, number] = live
    ? [now - RANGE_PRESETS[range].ms, now]
    : [Date.parse(from), Date.parse(to)];
  // Every chart shares one time axis, fitted to the history that exists (probe latency is sampled on every poll).
  const probe = useQuery(historyQuery(win, 'probe_ms', member ?? undefined));
  const first = firstSample([probe.data]);
  const [domainFrom, domainTo] = rangeDomain;
  const axis = useMemo(() => fitTimeAxis([domainFrom, domainTo], first), [domainFrom, domainTo, first]);

  // Local state answers the checkbox at once; the URL follows, for links pasted into a chat.
  const [types, setTypes] = useState<EventType[]>(() =>
    (searchParams.get('types')?.split(',') ?? []).filter((t): t is EventType =>
      (EVENT_TYPES as readonly string[]).includes(t),
    ),
  );
  const status = useQuery({ ...clusterStatusQuery(clusterId), refetchInterval: 10_000 });
  const events = useQuery(eventsQuery(win, types));
  const leaderEvents = useQuery(eventsQuery(win, ['leader_changed']));
  const outageEvents = useQuery(eventsQuery(win, OUTAGE_EVENT_TYPES));
  // A live range also knows the state now: an outage that began before the range and goes on has no event in it.
  const lostNow = live && status.data?.quorum.state === 'lost';
  const downNow =
    live && status.data
      ? status.data.members
          .filter((m) => m.id && m.health !== 'healthy')
          .map((m) => m.id!)
          .join(',')
      : '';
  const outages = useMemo(
    () =>
      outagesFrom(outageEvents.data?.events ?? [], axis.domain, {
        quorumLost: lostNow,
        downMemberIds: downNow ? downNow.split(',') : [],
      }),
    [outageEvents.data, axis.domain, lostNow, downNow],
  );
  const markers: TimeMarker[] = useMemo(() => {
    const list = (leaderEvents.data?.events ?? []).map((e) => ({ at: Date.parse(e.at), label: 'leader' }));
    if (at) list.push({ at: Date.parse(at), label: 'event' });
    return list;
  }, [leaderEvents.data, at]);
  const quota = status.data?.quotaBackendBytes ?? DEFAULT_QUOTA_BYTES;

  const withParams = (changes: Record<string, string | null>) => {
    const p = new URLSearchParams(searchParams.toString());
    p.set('cluster', clusterId);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) p.delete(k);
      else p.set(k, v);
    }
    return `${pathname}?${p}`;
  };
  const memberIds = new Set<string>();
  const members = (status.data?.members ?? []).filter((m) => m.id && !memberIds.has(m.id) && memberIds.add(m.id));

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <nav aria-label="Range" className="flex flex-wrap gap-1">
          {(Object.keys(RANGE_PRESETS) as RangePreset[]).map((r) => (
            <Link
              key={r}
              href={withParams({ range: r, from: null, to: null, at: null })}
              aria-current={r === range ? 'page' : undefined}
              className={`rounded-md border px-2 py-1 text-sm ${r === range ? 'border-sky-600 bg-sky-600 text-white' : 'border-slate-300 dark:border-slate-700'}`}
            >
              {RANGE_PRESETS[r].label}
            </Link>
          ))}
        </nav>
        <label className="flex items-center gap-2 text-sm">
          Member
          <select
            data-testid="member-select"
            className="rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-700 dark:bg-slate-900"
            value={member ?? ''}
            onChange={(e) => globalThis.history.pushState(null, '', withParams({ member: e.target.value || null }))}
          >
            <option value="">all members</option>
            {members.map((m) => (
              <option key={m.id} value={m.id ?? ''}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
        {!live && (
          <p className="text-sm text-slate-600 dark:text-slate-400" suppressHydrationWarning>
            {formatDateTime(from)} – {formatDateTime(to)}
          </p>
        )}
      </div>
      {axis.fitted && (
        // Times of day in the reader's zone: the server's render may say them in another.
        <p data-testid="axis-fitted" className="text-sm text-slate-600 dark:text-slate-400" suppressHydrationWarning>
          History begins at {formatDateTime(probe.data?.dataFrom ?? firstSample([probe.data])!)}: the charts show the{' '}
          {formatAge(axis.domain[1] - axis.domain[0])} since then, not the whole{' '}
          {live ? RANGE_PRESETS[range].label : formatAge(rangeDomain[1] - rangeDomain[0])} chosen.
        </p>
      )}

      <div className="grid gap-3 md:grid-cols-2 2xl:grid-cols-3">
        {HISTORY_CHARTS.map((s) => (
          <ChartFor
            key={s}
            series={s}
            win={win}
            memberId={member ?? undefined}
            axis={axis}
            outages={outages}
            markers={markers}
            thresholds={thresholds[s]}
            quota={s === 'db_size_bytes' || s === 'db_in_use_bytes' ? quota : null}
            quotaIsDefault={status.data?.quotaBackendBytes == null}
          />
        ))}
      </div>

      <AlertHistory win={win} now={now} />

      <EventTimeline
        clusterId={clusterId}
        events={events.data?.events ?? []}
        loading={events.isPending}
        types={types}
        onTypesChange={(t) => {
          setTypes(t);
          globalThis.history.replaceState(null, '', withParams({ types: t.length > 0 ? t.join(',') : null }));
        }}
      />
    </div>
  );
}

const ChartFor = memo(function ChartFor({
  series,
  win,
  memberId,
  axis,
  outages,
  markers,
  thresholds,
  quota,
  quotaIsDefault,
}: {
  series: SeriesName;
  win: HistoryWindow;
  memberId?: string;
  axis: TimeAxis;
  outages: Outages;
  markers: TimeMarker[];
  thresholds: Threshold[] | undefined;
  quota: number | null;
  quotaIsDefault: boolean;
}) {
  const { data, isError, error } = useQuery(historyQuery(win, series, memberId));
  const levels: LevelLine[] = (thresholds ?? []).map((t) => ({ value: t.value, label: t.label, kind: t.severity }));
  const quotaLabel = quota !== null ? `quota ${formatBytes(quota)}${quotaIsDefault ? ' (default)' : ''}` : '';
  if (quota !== null) levels.push({ value: quota, label: quotaLabel, kind: 'quota' });
  const largest = quota !== null && data ? largestLatest(data.members, quota) : null;
  return (
    <SeriesChart
      series={series}
      title={SERIES[series].label}
      headline={
        largest && (
          <span data-testid="quota-share">
            {formatBytes(largest.value)} on {largest.name}: {formatShare(largest.share)} of the {quotaLabel}
          </span>
        )
      }
      data={data}
      axis={axis}
      levels={levels}
      markers={markers}
      outages={outages}
      memberId={memberId}
      footer={
        <>
          {isError && <p className="text-xs text-red-700">Could not load: {error.message}</p>}
          {series === 'db_size_bytes' && quota !== null && <GrowthLine win={win} memberId={memberId} quota={quota} />}
        </>
      }
    />
  );
});

/** "0.4 %", "37 %", "<0.1 %" */
function formatShare(share: number): string {
  const pct = share * 100;
  if (pct > 0 && pct < 0.1) return '<0.1 %';
  return `${pct < 10 ? pct.toFixed(1) : Math.round(pct)} %`;
}
