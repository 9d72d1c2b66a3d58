'use client';
// The one place that draws a time chart: uPlot on a canvas. Ten charts of six members at 400 points each drew in
// ~2 s as SVG (Recharts) on a 2-core machine; a canvas draws them in milliseconds.

import { useEffect, useRef } from 'react';
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { LinePoint } from '@/lib/history/chart-model';

export interface ChartLine {
  label: string;
  color: string;
  /** Sorted by time; a { v: null } breaks the line. */
  points: LinePoint[];
  /** Dots on each point, for a line of a few points. */
  dots: boolean;
}

/** A band across the plot's height, such as an outage. */
export interface ChartShade {
  from: number;
  to: number;
  color: string;
  opacity: number;
}

/** A horizontal line at a value (a threshold) or a vertical one at a time (a leader change). */
export interface ChartRule {
  at: number;
  color: string;
  dash: number[];
}

export interface CanvasChartProps {
  lines: ChartLine[];
  /** Counts step from one value to the next; measurements are joined by straight lines. */
  stepped: boolean;
  x: { domain: [number, number]; ticks: number[]; format: (v: number) => string; cursor: (v: number) => string };
  /** `steps`: whole numbers for counts, powers of two for bytes. */
  y: { domain: [number, number]; steps: 'integer' | 'bytes' | 'any'; format: (v: number) => string };
  shades: ChartShade[];
  levels: ChartRule[];
  markers: ChartRule[];
  /** Charts with the same key share the cursor. */
  syncKey: string;
  height: number;
}

const AXIS = '#64748b';
const GRID = 'rgba(148, 163, 184, 0.3)';
/** The steps between value ticks: whole numbers only for counts and indexes; 4 KiB, 8 KiB … for bytes. */
const INCRS = {
  integer: Array.from({ length: 16 }, (_, e) => [1, 2, 5].map((m) => m * 10 ** e)).flat(),
  bytes: Array.from({ length: 6 }, (_, e) => Array.from({ length: 10 }, (_, m) => 2 ** m * 1024 ** e)).flat(),
} as const;
/** Pixels a time label needs per character, plus the gap between two labels. */
const LABEL_CHAR_PX = 6.5;
const LABEL_GAP_PX = 14;

/** Every k-th of the shared ticks, so that their labels do not run together on a narrow chart. */
function thinTicks(ticks: number[], format: (v: number) => string, plotWidth: number): number[] {
  const widest = Math.max(0, ...ticks.map((t) => format(t).length)) * LABEL_CHAR_PX + LABEL_GAP_PX;
  const every = Math.max(1, Math.ceil((ticks.length * widest) / Math.max(plotWidth, 1)));
  return ticks.filter((_, i) => i % every === 0);
}

/** uPlot.join's mode for a line's own nulls: they also swallow the other lines' times next to them. */
const NULL_EXPAND = 2;

/**
 * One x array for all lines. A line missing a time gets undefined there, which uPlot bridges; its own nulls (a break)
 * are widened over the other lines' times around them, or an outage would be drawn across but for a sliver.
 */
function aligned(lines: ChartLine[]): AlignedData {
  const tables: AlignedData[] = lines.map((l) => [l.points.map((p) => p.t), l.points.map((p) => p.v)]);
  return tables.length === 1
    ? tables[0]!
    : uPlot.join(
        tables,
        tables.map(() => [0, NULL_EXPAND]),
      );
}

/** What the chart's series are made of: when it changes the chart is built anew, otherwise only given new data. */
function shapeOf(p: CanvasChartProps): string {
  return JSON.stringify([p.lines.map((l) => [l.label, l.color, l.dots]), p.stepped, p.height, p.syncKey]);
}

/** `now()` gives the latest props: the chart outlives a render, its callbacks read what the last one passed. */
function options(now: () => CanvasChartProps, width: number, root: HTMLElement): Options {
  const p = now();
  // The page's own typeface (app/fonts.ts), which a canvas only knows by its family name.
  const font = `11px ${getComputedStyle(root).fontFamily}`;
  const drawn = { x: [] as string[], y: [] as string[] };
  const rule = (u: uPlot, r: ChartRule, axis: 'x' | 'y') => {
    const { left, top, width: w, height: h } = u.bbox;
    const pos = Math.round(u.valToPos(r.at, axis, true)) + 0.5;
    u.ctx.strokeStyle = r.color;
    u.ctx.setLineDash(r.dash.map((d) => d * uPlot.pxRatio));
    u.ctx.beginPath();
    if (axis === 'y') {
      u.ctx.moveTo(left, pos);
      u.ctx.lineTo(left + w, pos);
    } else {
      u.ctx.moveTo(pos, top);
      u.ctx.lineTo(pos, top + h);
    }
    u.ctx.stroke();
  };
  return {
    width,
    height: p.height,
    cursor: { sync: { key: p.syncKey }, drag: { x: false, y: false }, points: { size: 6 } },
    legend: { show: true, live: true },
    scales: {
      x: { time: false, range: () => now().x.domain },
      y: { range: () => now().y.domain },
    },
    series: [
      { label: 'Time', value: (_u, v) => (v === null ? '' : now().x.cursor(v)) },
      ...p.lines.map((l) => ({
        label: l.label,
        stroke: l.color,
        width: 1.5,
        spanGaps: false,
        points: { show: l.dots, size: 4, fill: l.color },
        ...(p.stepped && { paths: uPlot.paths.stepped!({ align: 1 }) }),
        value: (_u: uPlot, v: number | null) => (v === null ? '' : now().y.format(v)),
      })),
    ],
    axes: [
      {
        stroke: AXIS,
        font,
        size: 28,
        grid: { stroke: GRID, width: 1, dash: [3, 3] },
        ticks: { stroke: GRID, width: 1 },
        splits: (u) => thinTicks(now().x.ticks, now().x.format, u.bbox.width / uPlot.pxRatio),
        values: (_u, splits) => (drawn.x = splits.map(now().x.format)),
      },
      {
        stroke: AXIS,
        font,
        size: 64,
        grid: { stroke: GRID, width: 1, dash: [3, 3] },
        ticks: { stroke: GRID, width: 1 },
        ...(p.y.steps !== 'any' && { incrs: [...INCRS[p.y.steps]] }),
        values: (_u, splits) => (drawn.y = splits.map(now().y.format)),
      },
    ],
    hooks: {
      // Under the lines: the outages.
      drawAxes: [
        (u) => {
          const p = now();
          const { left, top, width: w, height: h } = u.bbox;
          const rects: number[][] = [];
          u.ctx.save();
          u.ctx.beginPath();
          u.ctx.rect(left, top, w, h);
          u.ctx.clip();
          for (const s of p.shades) {
            const x0 = u.valToPos(Math.max(s.from, p.x.domain[0]), 'x', true);
            const x1 = u.valToPos(Math.min(s.to, p.x.domain[1]), 'x', true);
            u.ctx.globalAlpha = s.opacity;
            u.ctx.fillStyle = s.color;
            u.ctx.fillRect(x0, top, Math.max(x1 - x0, uPlot.pxRatio), h);
            rects.push([Math.round(x0), Math.round(top), Math.round(Math.max(x1 - x0, 1)), Math.round(h)]);
          }
          u.ctx.restore();
          root.dataset.shades = JSON.stringify(rects);
        },
      ],
      // Over the lines: thresholds and leader changes; then what was drawn, for the page's tests and tools.
      draw: [
        (u) => {
          const p = now();
          u.ctx.save();
          u.ctx.lineWidth = uPlot.pxRatio;
          for (const l of p.levels) rule(u, l, 'y');
          for (const m of p.markers) if (m.at >= p.x.domain[0] && m.at <= p.x.domain[1]) rule(u, m, 'x');
          u.ctx.restore();
          root.dataset.lines = String(p.lines.length);
          root.dataset.xTicks = JSON.stringify(drawn.x);
          root.dataset.yTicks = JSON.stringify(drawn.y);
        },
      ],
    },
  };
}

export function CanvasChart(props: CanvasChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const latest = useRef(props);
  const shape = shapeOf(props);

  // Built when the series change (a member joins, another is picked); kept across renders otherwise, so a live page's
  // refresh does not take the cursor and the synced crosshair from under the reader's mouse.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const u = new uPlot(
      options(() => latest.current, el.clientWidth, el),
      aligned(latest.current.lines),
      el,
    );
    chart.current = u;
    const resized = new ResizeObserver(() => {
      if (el.clientWidth > 0 && el.clientWidth !== u.width)
        u.setSize({ width: el.clientWidth, height: latest.current.height });
    });
    resized.observe(el);
    let mounted = true;
    // Labels drawn before the typeface arrived are drawn again with it.
    void document.fonts.ready.then(() => mounted && u.redraw(false, true));
    return () => {
      mounted = false;
      resized.disconnect();
      chart.current = null;
      u.destroy();
    };
  }, [shape]);

  // New data, axis, levels or outages: the same chart, drawn again.
  useEffect(() => {
    if (latest.current === props) return; // just built with these
    latest.current = props;
    chart.current?.setData(aligned(props.lines));
  }, [props]);

  return <div ref={box} data-testid="chart-canvas" className="min-w-0 text-[11px]" />;
}
