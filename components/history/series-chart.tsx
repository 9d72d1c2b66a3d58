'use client';

import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceArea,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { ReactNode } from 'react';
import { fitValueScale, memberLines, type LevelLine, type Outages, type TimeAxis } from '@/lib/history/chart-model';
import { SERIES, type HistoryResponse, type SeriesName, type SeriesUnit } from '@/lib/history/series';
import { formatAge, formatBytes, formatClock } from '@/lib/format/units';

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

function formatTick(ms: number, spanMs: number, stepMs: number): string {
  const d = new Date(ms);
  if (stepMs < 60_000) return formatClock(ms);
  const time = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  if (spanMs <= 2 * 86_400_000) return time;
  return `${d.toLocaleDateString('en-GB', { day: '2-digit', month: 'short' })} ${time}`;
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
      <div className="mt-1 h-52">
        {points === 0 ? (
          <p className="flex h-full items-center justify-center text-sm text-slate-500">
            {data ? 'No samples in this range yet.' : 'Loading…'}
          </p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart syncId="history" syncMethod="value" margin={{ top: 6, right: 12, bottom: 0, left: 4 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#94a3b8" strokeOpacity={0.3} />
              <XAxis
                dataKey="t"
                type="number"
                scale="time"
                domain={axis.domain}
                ticks={axis.ticks}
                allowDataOverflow
                tickFormatter={(v: number) => formatTick(v, span, tickStep)}
                fontSize={11}
              />
              <YAxis
                width={64}
                fontSize={11}
                domain={scale.domain}
                allowDataOverflow
                allowDecimals={!integer}
                tickFormatter={(v: number) => formatValue(v, unit)}
              />
              {quorumLost.map((i) => (
                <ReferenceArea
                  key={`q${i.from}`}
                  x1={Math.max(i.from, from)}
                  x2={Math.min(i.to, to)}
                  fill={QUORUM_LOST_FILL}
                  fillOpacity={0.15}
                  ifOverflow="hidden"
                />
              ))}
              {memberDown.map((i, n) => (
                <ReferenceArea
                  key={`m${n}-${i.from}`}
                  x1={Math.max(i.from, from)}
                  x2={Math.min(i.to, to)}
                  fill={MEMBER_DOWN_FILL}
                  fillOpacity={0.12}
                  ifOverflow="hidden"
                />
              ))}
              <Tooltip
                labelFormatter={(v) => formatClock(Number(v))}
                formatter={(v, name) => [formatValue(Number(v), unit), String(name)]}
              />
              <Legend wrapperStyle={{ fontSize: 11 }} />
              {scale.shown.map((l) => (
                <ReferenceLine
                  key={l.label}
                  y={l.value}
                  stroke={LEVEL_COLOR[l.kind]}
                  strokeDasharray={l.kind === 'quota' ? undefined : '6 3'}
                />
              ))}
              {leaderMarks.map((m) => (
                <ReferenceLine key={`${m.at}-${m.label}`} x={m.at} stroke={LEADER_COLOR} strokeDasharray="2 2" />
              ))}
              {lines.map((l, i) => (
                <Line
                  key={l.memberId}
                  data={l.points}
                  dataKey="v"
                  name={l.name}
                  type={meta.curve}
                  // A quantile series of a quiet cluster has few points: dots keep a lone one visible.
                  dot={l.points.length <= 60 ? { r: 2 } : false}
                  isAnimationActive={false}
                  stroke={COLORS[i % COLORS.length]}
                  strokeWidth={1.5}
                  connectNulls={false}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
      {footer}
    </section>
  );
}
