'use client';

import Link from 'next/link';
import { describeEvent, EVENT_LABELS } from '@/lib/history/describe-event';
import { EVENT_TYPES, type ClusterEvent, type EventType } from '@/lib/history/series';
import { formatDateTime } from '@/lib/format/units';

const SEVERITY_CLASS = {
  bad: 'border-red-600 bg-red-50 dark:bg-red-950',
  good: 'border-emerald-600 bg-emerald-50 dark:bg-emerald-950',
  info: 'border-sky-600 bg-sky-50 dark:bg-sky-950',
} as const;

/** The charts ten minutes either side of an event, with its member selected. */
export function momentHref(clusterId: string, e: ClusterEvent): string {
  const at = Date.parse(e.at);
  const params = new URLSearchParams({
    cluster: clusterId,
    from: new Date(at - 10 * 60_000).toISOString(),
    to: new Date(at + 10 * 60_000).toISOString(),
    at: e.at,
  });
  if (e.memberId) params.set('member', e.memberId);
  return `/history?${params}`;
}

export function EventTimeline({
  clusterId,
  events,
  loading,
  types,
  onTypesChange,
}: {
  clusterId: string;
  events: ClusterEvent[];
  loading: boolean;
  types: EventType[];
  onTypesChange: (types: EventType[]) => void;
}) {
  // No types in the URL means every type is shown.
  const active: readonly EventType[] = types.length === 0 ? EVENT_TYPES : types;
  const toggle = (t: EventType) => {
    const next = active.includes(t) ? active.filter((x) => x !== t) : [...active, t];
    onTypesChange(next.length === EVENT_TYPES.length ? [] : next);
  };
  return (
    <section aria-label="Events" className="space-y-3">
      <h2 className="text-lg font-semibold">Events</h2>
      <fieldset className="flex flex-wrap gap-2 text-sm">
        <legend className="sr-only">Show event types</legend>
        {EVENT_TYPES.map((t) => (
          <label
            key={t}
            className="flex items-center gap-1 rounded-full border border-slate-300 px-2 py-0.5 dark:border-slate-700"
          >
            <input type="checkbox" checked={active.includes(t)} onChange={() => toggle(t)} />
            {EVENT_LABELS[t].label}
          </label>
        ))}
        {types.length > 0 && (
          <button type="button" className="text-sky-700 underline dark:text-sky-400" onClick={() => onTypesChange([])}>
            all types
          </button>
        )}
      </fieldset>
      {events.length === 0 ? (
        <p className="text-sm text-slate-500">{loading ? 'Loading…' : 'No events in this range.'}</p>
      ) : (
        <ol className="space-y-2">
          {events.map((e, i) => {
            const meta = EVENT_LABELS[e.type];
            return (
              <li
                key={`${e.at}-${e.type}-${e.memberId ?? ''}-${i}`}
                data-testid="event"
                data-type={e.type}
                className={`rounded-md border-l-4 px-3 py-2 text-sm ${SEVERITY_CLASS[meta.severity]}`}
              >
                <div className="flex flex-wrap items-baseline justify-between gap-2">
                  <span>
                    <time dateTime={e.at} className="font-mono text-xs text-slate-600 dark:text-slate-400">
                      {formatDateTime(e.at)}
                    </time>{' '}
                    <strong>
                      <span aria-hidden>{meta.icon}</span> {meta.label}
                    </strong>
                  </span>
                  <Link href={momentHref(clusterId, e)} className="text-xs text-sky-700 underline dark:text-sky-400">
                    charts at this moment
                  </Link>
                </div>
                <p className="mt-0.5">{describeEvent(e)}</p>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
