'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ROLES } from '@/lib/auth/roles';
import { tokensQuery } from '@/lib/query/admin-queries';
import { formatDateTime } from '@/lib/format/units';
import { sendJson } from '@/lib/query/fetch-json';
import { CARD_ROW, CARD_TABLE, CARD_TBODY, CARD_THEAD, Cell } from '../card-table';
import { CopyButton } from '../copy-button';

const when = (v: number | string | null) => (v === null ? '—' : formatDateTime(v));

export function TokensAdmin() {
  const qc = useQueryClient();
  const tokens = useQuery(tokensQuery);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const create = useMutation({
    mutationFn: (input: { name: string; role: string; expiresAt: string | null }) =>
      sendJson<{ id: string; token: string }>('/api/tokens', 'POST', input),
    onSuccess: (res, input) => {
      setCreated({ name: input.name, token: res.token });
      void qc.invalidateQueries({ queryKey: tokensQuery.queryKey });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => sendJson(`/api/tokens/${id}`, 'DELETE'),
    onSuccess: () => void qc.invalidateQueries({ queryKey: tokensQuery.queryKey }),
  });

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const days = Number(f.get('days'));
    create.mutate({
      name: String(f.get('name')),
      role: String(f.get('role')),
      expiresAt: days > 0 ? new Date(Date.now() + days * 86_400_000).toISOString() : null,
    });
  }

  return (
    <div className="space-y-6">
      <form
        onSubmit={submit}
        aria-label="New API token"
        className="flex flex-wrap items-end gap-3 rounded-xl border border-slate-200 p-4 dark:border-slate-700"
      >
        <label className="text-sm">
          Name
          <input
            name="name"
            required
            maxLength={100}
            placeholder="nightly-snapshot"
            className="mt-1 block rounded-md border border-slate-300 px-2 py-1 dark:border-slate-700 dark:bg-slate-900"
          />
        </label>
        <label className="text-sm">
          Role
          <select
            name="role"
            defaultValue="operator"
            className="mt-1 block rounded-md border border-slate-300 px-2 py-1 dark:border-slate-700 dark:bg-slate-900"
          >
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label className="text-sm">
          Expires after (days, 0 = never)
          <input
            name="days"
            type="number"
            min={0}
            defaultValue={90}
            className="mt-1 block w-28 rounded-md border border-slate-300 px-2 py-1 dark:border-slate-700 dark:bg-slate-900"
          />
        </label>
        <button
          type="submit"
          disabled={create.isPending}
          className="rounded-md bg-sky-700 px-3 py-1.5 font-semibold text-white disabled:opacity-60"
        >
          Create token
        </button>
        {create.isError && (
          <p role="alert" className="text-sm text-red-700">
            {create.error.message}
          </p>
        )}
      </form>

      {created && (
        <div
          role="status"
          data-testid="new-token"
          className="rounded-xl border-2 border-amber-500 bg-amber-50 p-4 text-amber-950 dark:bg-amber-950 dark:text-amber-50"
        >
          <p className="font-semibold">Token “{created.name}” — copy it now: it is shown only once.</p>
          <code className="mt-2 block break-all rounded bg-white px-2 py-1 text-sm dark:bg-slate-900">
            {created.token}
          </code>
          <CopyButton text={created.token} className="mt-2 text-sm underline" />
        </div>
      )}

      <table className={CARD_TABLE}>
        <thead className={CARD_THEAD}>
          <tr className="border-b border-slate-300 dark:border-slate-700">
            <th className="py-1">Name</th>
            <th>Role</th>
            <th>State</th>
            <th>Created</th>
            <th>Expires</th>
            <th>Last used</th>
            <th>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody className={CARD_TBODY}>
          {(tokens.data?.tokens ?? []).map((t) => (
            <tr key={t.id} data-testid="token-row" className={CARD_ROW}>
              <Cell label="Name" wide className="break-all">
                {t.name} <code className="text-xs text-slate-500">{t.id}</code>
              </Cell>
              <Cell label="Role">{t.role}</Cell>
              <Cell label="State">{t.state}</Cell>
              <Cell label="Created" className="break-words">
                {when(t.createdAt)} by {t.createdBy}
              </Cell>
              <Cell label="Expires">{when(t.expiresAt)}</Cell>
              <Cell label="Last used">{when(t.lastUsedAt)}</Cell>
              <td className="md:py-1">
                {t.state === 'active' && (
                  <button type="button" className="text-red-700 underline" onClick={() => revoke.mutate(t.id)}>
                    revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {tokens.isError && (
        <p role="alert" className="text-sm text-red-700">
          {tokens.error.message}
        </p>
      )}
    </div>
  );
}
