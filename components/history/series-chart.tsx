'use client';

import type { ReactNode } from 'react';
import { fitValueScale, memberLines, type LevelLine, type Outages, type TimeAxis } from '@/lib/history/chart-model';
import { SERIES, type HistoryResponse, type SeriesName, type SeriesUnit } from '@/lib/history/series';
import { formatAge, formatBytes, formatClock } from '@/lib/format/units';
import { CanvasChart } from './canvas-chart';

const COLORS = ['#0284c7', '#db2777', '#16a34a', '#ea580c', '#7c3aed', '#0d9488', '#ca8a04'];
const LEVEL_COLOR = { recommended: '#d97706', alert: '#dc2626', quota: '#dc2626' } as const;
const QUORUM_LOST_FILL = '#dc2626';
const MEMBER_DOWN_FILL = '#f59e0b';
const LEADER_COLOR = '#7c3aed';

/** Leader changes drawn as vertical lines. */
export interface TimeMarker {
  at: number;
  label: string;
}

export function formatValue(value: number, unit: SeriesUnit): string {
  if (unit === 'bytes') return formatBytes(value);
  if (unit === 'ms') return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
  return Math.round(value).toLocaleString('en');
}

/** What a value on the axis counts, said once under the title. */
function unitNote(series: SeriesName, stepMs: number | undefined): string {
  const { unit, aggregate } = SERIES[series];
  if (unit === 'count' && aggregate === 'sum') return stepMs ? `count per ${formatAge(stepMs)}` : 'count';
  if (unit === 'count') return 'count';
  if (unit === 'index') return 'index';
  return unit === 'ms' ? 'milliseconds' : 'bytes';
}

const HOUR_MINUTE = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
const DAY_MONTH = new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: 'short' });

function formatTick(ms: number, spanMs: number, stepMs: number): string {
  if (stepMs < 60_000) return formatClock(ms);
  const time = HOUR_MINUTE.format(ms);
  if (spanMs <= 2 * 86_400_000) return time;
  return `${DAY_MONTH.format(ms)} ${time}`;
}

function Swatch({ color, dash, area }: { color: string; dash?: boolean; area?: boolean }) {
  return area ? (
    <span aria-hidden className="inline-block h-2.5 w-3 rounded-sm opacity-30" style={{ background: color }} />
  ) : (
    <span
      aria-hidden
      className="inline-block w-4 border-t-2"
      style={{ borderColor: color, borderStyle: dash ? 'dashed' : 'solid' }}
    />
  );
}

export function SeriesChart({
  series,
  title,
  headline,
  data,
  axis,
  levels = [],
  markers = [],
  outages,
  memberId,
  footer,
}: {
  series: SeriesName;
  title: string;
  /** One line on the latest value, such as the share of the quota. */
  headline?: ReactNode;
  data: HistoryResponse | undefined;
  /** The time axis all charts share. */
  axis: TimeAxis;
  /** Thresholds and the quota: drawn when in range of the data, otherwise listed as off the scale. */
  levels?: LevelLine[];
  markers?: TimeMarker[];
  outages: Outages;
  /** The member picked, if any: only its outages are shaded. */
  memberId?: string | undefined;
  footer?: ReactNode;
}) {
  const meta = SERIES[series];
  const unit = data?.unit ?? meta.unit;
  const lines = memberLines(data?.members ?? [], {
    stepMs: data?.stepMs ?? 1000,
    continuous: meta.continuous,
    outages,
  });
  const points = lines.reduce((n, l) => n + l.points.filter((p) => p.v !== null).length, 0);
  const breaks = lines.reduce((n, l) => n + l.points.filter((p) => p.v === null).length, 0);
  const scale = fitValueScale(data?.members ?? [], levels);
  const [from, to] = axis.domain;
  const span = to - from;
  const tickStep = axis.ticks.length > 1 ? axis.ticks[1]! - axis.ticks[0]! : span;
  const inDomain = (i: { from: number; to: number }) => i.to > from && i.from < to;
  const quorumLost = outages.quorumLost.filter(inDomain);
  const memberDown = [...outages.memberDown]
    .filter(([id]) => !memberId || id === memberId)
    .flatMap(([, list]) => list.filter(inDomain));
  const leaderMarks = markers.filter((m) => m.at >= from && m.at <= to);
  const integer = unit === 'count' || unit === 'index';

  return (
    <section
      data-testid={`chart-${series}`}
      data-points={points}
      data-breaks={breaks}
      data-y-max={scale.domain[1]}
      data-levels-shown={scale.shown.map((l) => l.label).join('|')}
      className="flex min-w-0 flex-col rounded-xl border border-slate-200 bg-white p-3 shadow-sm dark:border-slate-700 dark:bg-slate-900"
    >
      <div className="flex flex-wrap items-baseline justify-between gap-x-3">
        <h3 className="text-sm font-semibold">{title}</h3>
        <span className="text-xs text-slate-500 dark:text-slate-400">{unitNote(series, data?.stepMs)}</span>
      </div>
      {headline && <p className="text-xs text-slate-700 dark:text-slate-300">{headline}</p>}
      <ul
        data-testid="chart-key"
        className="mt-1 flex min-h-4 flex-wrap gap-x-3 gap-y-0.5 text-[11px] text-slate-600 dark:text-slate-400"
      >
        {scale.shown.map((l) => (
          <li key={l.label} className="flex items-center gap-1">
            <Swatch color={LEVEL_COLOR[l.kind]} dash={l.kind !== 'quota'} />
            {l.label}
          </li>
        ))}
        {scale.offScale.map((l) => (
          <li key={l.label} data-off-scale className="flex items-center gap-1">
            <Swatch color={LEVEL_COLOR[l.kind]} dash={l.kind !== 'quota'} />
            {l.label}
            {scale.peak !== null && (
              <span className="text-slate-500"> (above this scale; peak {formatValue(scale.peak, unit)})</span>
            )}
          </li>
        ))}
        {quorumLost.length > 0 && (
          <li className="flex items-center gap-1">
            <Swatch color={QUORUM_LOST_FILL} area /> quorum lost
          </li>
        )}
        {memberDown.length > 0 && (
          <li className="flex items-center gap-1">
            <Swatch color={MEMBER_DOWN_FILL} area /> member down
          </li>
        )}
        {leaderMarks.length > 0 && (
          <li className="flex items-center gap-1">
            <Swatch color={LEADER_COLOR} dash /> leader change
          </li>
        )}
      </ul>
      <div className="mt-1 min-h-52">
        {points === 0 ? (
          <p className="flex h-52 items-center justify-center text-sm text-slate-500">
            {data ? 'No samples in this range yet.' : 'Loading…'}
          </p>
        ) : (
          <CanvasChart
            lines={lines.map((l, i) => ({
              label: l.name,
              color: COLORS[i % COLORS.length]!,
              points: l.points,
              // A quantile series of a quiet cluster has few points: dots keep a lone one visible.
              dots: l.points.length <= 60,
            }))}
            stepped={meta.curve === 'stepAfter'}
            x={{
              domain: axis.domain,
              ticks: axis.ticks,
              format: (v) => formatTick(v, span, tickStep),
              cursor: formatClock,
            }}
            y={{
              domain: scale.domain,
              steps: integer ? 'integer' : unit === 'bytes' ? 'bytes' : 'any',
              format: (v) => formatValue(v, unit),
            }}
            shades={[
              ...quorumLost.map((i) => ({ ...i, color: QUORUM_LOST_FILL, opacity: 0.15 })),
              ...memberDown.map((i) => ({ ...i, color: MEMBER_DOWN_FILL, opacity: 0.12 })),
            ]}
            levels={scale.shown.map((l) => ({
              at: l.value,
              color: LEVEL_COLOR[l.kind],
              dash: l.kind === 'quota' ? [] : [6, 3],
            }))}
            markers={leaderMarks.map((m) => ({ at: m.at, color: LEADER_COLOR, dash: [2, 2] }))}
            syncKey="history"
            height={176}
          />
        )}
      </div>
      {footer}
    </section>
  );
}
