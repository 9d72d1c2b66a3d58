// Reads the from/to of a history request: ISO 8601 times, times relative to now (-15m, -24h, -7d) and "now".
import { DomainError } from '@/lib/errors/domain-errors';

/** A from/to parameter that cannot be used; the message names the parameter and its value. */
export class TimeRangeError extends DomainError {
  constructor(
    readonly param: 'from' | 'to',
    message: string,
  ) {
    super('invalid', 'bad_request', message);
  }
}

export const MAX_RANGE_MS = 31 * 24 * 3600_000;

const UNIT_MS = { s: 1000, m: 60_000, h: 3600_000, d: 24 * 3600_000 } as const;
const RELATIVE = /^-(\d{1,6})([smhd])$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Epoch ms of an ISO 8601 date or date-time, or null; a time without an offset is read as UTC. */
function parseIso(value: string): number | null {
  const date = ISO_DATE.exec(value);
  const dateTime = date ? null : ISO_DATE_TIME.exec(value);
  const parts = date ?? dateTime;
  if (!parts) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = parts;
  // Rebuilt in the one shape Date.parse must accept, so its leniency (e.g. "March 7") never applies.
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const ms = frac.padEnd(3, '0').slice(0, 3);
  const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${offset}`);
  if (Number.isNaN(t)) return null;
  // Date.parse rolls 2025-02-30 over into March; a date that does not exist is refused instead.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return null;
  return t;
}

function parseTime(param: 'from' | 'to', value: string, now: number): number {
  const text = value.trim();
  if (text.toLowerCase() === 'now') return now;
  const relative = RELATIVE.exec(text);
  if (relative) {
    const [, amount = '0', unit = 's'] = relative;
    return now - Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  const iso = parseIso(text);
  if (iso !== null) return iso;
  throw new TimeRangeError(param, `${param}: ${JSON.stringify(value)} is not an ISO time or a relative time like -1h`);
}

/** Missing or empty parameters mean `defaultFrom` and now. */
export function parseTimeRange(
  params: { from?: string | null; to?: string | null },
  now: number,
  defaultFrom = '-1h',
): { from: number; to: number } {
  const fromText = params.from || defaultFrom;
  const toText = params.to || 'now';
  const from = parseTime('from', fromText, now);
  const to = parseTime('to', toText, now);
  if (from >= to) {
    throw new TimeRangeError('from', `from: ${JSON.stringify(fromText)} is not before to: ${JSON.stringify(toText)}`);
  }
  if (to - from > MAX_RANGE_MS) {
    throw new TimeRangeError(
      'from',
      `from: ${JSON.stringify(fromText)} is more than 31 days before to: ${JSON.stringify(toText)}`,
    );
  }
  return { from, to };
}
