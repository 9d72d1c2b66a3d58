'use client';

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { formatDateTime } from '@/lib/format/units';
import { CARD_ROW, CARD_TABLE, CARD_TBODY, CARD_THEAD, Cell } from '../card-table';
import { auditQuery, type AuditFilters } from '@/lib/query/admin-queries';

const RANGES = ['-1h', '-24h', '-7d', '-31d'] as const;

export function AuditView() {
  const [filters, setFilters] = useState<AuditFilters>({ from: '-7d', actor: '', action: '', outcome: '' });
  const audit = useQuery(auditQuery(filters));
  const set = (k: keyof typeof filters) => (e: { target: { value: string } }) =>
    setFilters({ ...filters, [k]: e.target.value });
  const input = 'mt-1 block rounded-md border border-slate-300 px-2 py-1 dark:border-slate-700 dark:bg-slate-900';
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end gap-3 text-sm">
        <label>
          Since
          <select value={filters.from} onChange={set('from')} className={input}>
            {RANGES.map((r) => (
              <option key={r} value={r}>
                {r.slice(1)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Who
          <input value={filters.actor} onChange={set('actor')} placeholder="username" className={input} />
        </label>
        <label>
          Action
          <input value={filters.action} onChange={set('action')} placeholder="auth.login" className={input} />
        </label>
        <label>
          Outcome
          <select value={filters.outcome} onChange={set('outcome')} className={input}>
            <option value="">any</option>
            <option>success</option>
            <option>failure</option>
            <option>denied</option>
          </select>
        </label>
      </div>
      {audit.isError && (
        <p role="alert" className="text-sm text-red-700">
          {audit.error.message}
        </p>
      )}
      <div className="md:overflow-x-auto">
        <table className={CARD_TABLE}>
          <thead className={CARD_THEAD}>
            <tr className="border-b border-slate-300 dark:border-slate-700">
              <th className="py-1">Time</th>
              <th>Who</th>
              <th>How</th>
              <th>From</th>
              <th>Action</th>
              <th>Target</th>
              <th>Outcome</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody className={CARD_TBODY}>
            {(audit.data?.entries ?? []).map((e) => (
              <tr
                key={e.id}
                data-testid="audit-row"
                data-action={e.action}
                data-outcome={e.outcome}
                className={CARD_ROW}
              >
                <Cell label="Time" className="font-mono text-xs">
                  {formatDateTime(e.at)}
                </Cell>
                <Cell label="Who" className="break-words">
                  {e.actor}
                  {e.role ? ` (${e.role})` : ''}
                </Cell>
                <Cell label="How">{e.method}</Cell>
                <Cell label="From" className="break-all font-mono text-xs">
                  {e.source ?? '—'}
                </Cell>
                <Cell label="Action" className="break-words">
                  {e.action}
                </Cell>
                <Cell label="Target" className="break-all">
                  {[e.clusterId, e.memberId].filter(Boolean).join(' / ') || '—'}
                </Cell>
                <Cell
                  label="Outcome"
                  className={e.outcome === 'success' ? 'text-emerald-700' : 'font-semibold text-red-700'}
                >
                  {e.outcome}
                </Cell>
                <Cell label="Details" wide className="break-all font-mono text-xs md:max-w-md">
                  {Object.keys(e.details).length > 0 ? JSON.stringify(e.details) : ''}
                </Cell>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
