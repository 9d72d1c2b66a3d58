'use client';

import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { ReactNode } from 'react';
import type { Threshold } from '@/lib/history/range-presets';
import type { HistoryResponse, SeriesUnit } from '@/lib/history/series';
import { formatBytes, formatClock } from '@/lib/format/units';

const COLORS = ['#0284c7', '#db2777', '#16a34a', '#ea580c', '#7c3aed', '#0d9488', '#ca8a04'];

export interface TimeMarker {
  at: number;
  label: string;
}

export function formatValue(value: number, unit: SeriesUnit): string {
  if (unit === 'bytes') return formatBytes(value);
  if (unit === 'ms') return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
  return Math.round(value).toLocaleString('en');
}

function formatTick(ms: number, spanMs: number): string {
  const d = new Date(ms);
  if (spanMs > 2 * 86_400_000)
    return (
      d.toLocaleDateString('en-GB', { day: '2-digit', month: 'short' }) +
      ' ' +
      d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })
    );
  return d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
}

export function SeriesChart({
  series,
  title,
  data,
  domain,
  thresholds = [],
  markers = [],
  horizontal = [],
  footer,
}: {
  series: string;
  title: string;
  data: HistoryResponse | undefined;
  domain: [number, number];
  thresholds?: Threshold[];
  markers?: TimeMarker[];
  /** Extra horizontal lines, such as the DB quota. */
  horizontal?: Array<{ value: number; label: string }>;
  footer?: ReactNode;
}) {
  const members = data?.members ?? [];
  const rows = new Map<number, Record<string, number>>();
  let points = 0;
  for (const m of members) {
    for (const [t, v] of m.points) {
      const row = rows.get(t) ?? { t };
      row[m.memberId] = v;
      rows.set(t, row);
      points++;
    }
  }
  const chartRows = [...rows.values()].sort((a, b) => (a.t ?? 0) - (b.t ?? 0));
  const unit = data?.unit ?? 'count';
  const span = domain[1] - domain[0];

  return (
    <section
      data-testid={`chart-${series}`}
      data-points={points}
      className="rounded-xl border border-slate-200 bg-white p-3 shadow-sm dark:border-slate-700 dark:bg-slate-900"
    >
      <h3 className="mb-1 text-sm font-semibold">{title}</h3>
      <div className="h-56">
        {points === 0 ? (
          <p className="flex h-full items-center justify-center text-sm text-slate-500">
            {data ? 'No samples in this range yet.' : 'Loading…'}
          </p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={chartRows} margin={{ top: 8, right: 12, bottom: 0, left: 4 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#94a3b8" strokeOpacity={0.3} />
              <XAxis
                dataKey="t"
                type="number"
                scale="time"
                domain={domain}
                allowDataOverflow
                tickFormatter={(v: number) => formatTick(v, span)}
                fontSize={11}
              />
              <YAxis width={64} fontSize={11} tickFormatter={(v: number) => formatValue(v, unit)} />
              <Tooltip
                labelFormatter={(v) => formatClock(Number(v))}
                formatter={(v, name) => [
                  formatValue(Number(v), unit),
                  members.find((m) => m.memberId === name)?.name ?? String(name),
                ]}
              />
              <Legend
                formatter={(value: string) => members.find((m) => m.memberId === value)?.name ?? value}
                wrapperStyle={{ fontSize: 11 }}
              />
              {thresholds.map((t) => (
                <ReferenceLine
                  key={`${t.value}`}
                  y={t.value}
                  stroke={t.severity === 'alert' ? '#dc2626' : '#d97706'}
                  strokeDasharray="6 3"
                  label={{
                    value: t.label,
                    position: 'insideTopRight',
                    fontSize: 10,
                    fill: t.severity === 'alert' ? '#dc2626' : '#d97706',
                  }}
                  ifOverflow="hidden"
                />
              ))}
              {horizontal.map((h) => (
                <ReferenceLine
                  key={h.label}
                  y={h.value}
                  stroke="#dc2626"
                  label={{ value: h.label, position: 'insideTopRight', fontSize: 10, fill: '#dc2626' }}
                  ifOverflow="extendDomain"
                />
              ))}
              {markers.map((m) => (
                <ReferenceLine
                  key={`${m.at}-${m.label}`}
                  x={m.at}
                  stroke="#7c3aed"
                  strokeDasharray="2 2"
                  label={{ value: '★', position: 'top', fontSize: 12, fill: '#7c3aed' }}
                />
              ))}
              {members.map((m, i) => (
                <Line
                  key={m.memberId}
                  dataKey={m.memberId}
                  name={m.memberId}
                  type="monotone"
                  dot={false}
                  isAnimationActive={false}
                  stroke={COLORS[i % COLORS.length]}
                  strokeWidth={1.5}
                  // Quantile series have no point in a window without activity; join across those gaps.
                  connectNulls
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
