// How figures are written in docs/performance.md: units, the machine line, and the note on quick runs.
import type { MachineInfo } from '../lib/machine';
import type { FigureRecord } from '../lib/results';
import type { Summary } from '../lib/stats';

export const MIB = 1024 * 1024;

export const ms = (v: number | null | undefined) => (typeof v === 'number' ? `${Math.round(v)} ms` : '–');
export const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;
export const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
export const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
/** Megabytes (10^6), one decimal below 10 MB. */
export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
export const seconds = (msValue: number) => `${(msValue / 1000).toFixed(1)} s`;
export const pct = (v: number) => `${v.toFixed(1)} %`;
export const yesNo = (met: boolean) => (met ? 'yes' : '**no**');

/** A ratio to three significant digits; small ones (below 0.1) as "1/N", which reads better. */
export function ratio(r: number | null | undefined): string {
  if (typeof r !== 'number' || !Number.isFinite(r)) return '–';
  if (r > 0 && r < 0.1) return `1/${Math.round(1 / r)}`;
  return r.toPrecision(3);
}

export function p50p99(s: Summary | null | undefined): string {
  return s ? `p50 ${ms(s.p50)}, p99 ${ms(s.p99)} (n ${s.n})` : '–';
}

export function day(m: MachineInfo): string {
  return m.date.slice(0, 10);
}

/** One line under each section's heading: when, where, and how busy the machine was. */
export function measuredOn(rec: FigureRecord<unknown>, command: string): string {
  const m = rec.machine;
  const quick = rec.quick
    ? ' **This was a `--quick` run (smaller data, fewer trials): for trying the benchmark out, not a record.**'
    : '';
  return (
    `Measured ${m.date.slice(0, 16).replace('T', ' ')} UTC with \`${command}\` on ${m.cpuModel} × ${m.cpuCount}, ` +
    `${gib(m.totalMemoryBytes)}, Node.js ${m.node}, etcd ${m.etcd}; load average (1/5/15 min) ` +
    `${m.loadAverageAtStart.join(' / ')} at the start, ${m.loadAverageAtEnd.join(' / ')} at the end.${quick}`
  );
}

export function notMeasured(heading: string, figure: string): string {
  return `${heading}\n\nNot measured yet with the current benchmark: \`npm run bench -- --only ${figure}\`.`;
}
