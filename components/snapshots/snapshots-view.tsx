'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { formatAge, formatBytes, formatDateTime } from '@/lib/format/units';
import { clusterStatusQuery } from '@/lib/query/cluster-queries';
import { sendJson } from '@/lib/query/fetch-json';
import { snapshotDetailQuery, snapshotsQuery } from '@/lib/query/snapshot-queries';
import type { RestoreTest, SnapshotRecord } from '@/lib/snapshots/snapshot-types';
import { useNow } from '../use-now';
import { SnapshotProgress } from './snapshot-progress';
import { CARD_ROW, CARD_TABLE, CARD_TBODY, CARD_THEAD, Cell } from '../card-table';
import { CopyButton } from '../copy-button';
import { formatDuration } from './duration';
import { RestoreTestBadge, RestoreTestDetails, restoreTestable, restoreTestShown } from './restore-test-result';

const STATUS_STYLE: Record<SnapshotRecord['status'], string> = {
  running: 'bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100',
  succeeded: 'bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100',
  failed: 'bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100',
};

function duration(s: SnapshotRecord): string {
  if (!s.finishedAt) return '—';
  return formatDuration(Date.parse(s.finishedAt) - Date.parse(s.startedAt));
}

function statusWord(s: SnapshotRecord): string {
  if (s.status === 'succeeded' && s.deletedAt) return 'deleted by retention';
  if (s.status === 'succeeded' && s.missing) return 'file missing';
  if (s.status === 'succeeded') return s.verified ? '✓ verified' : 'unverified';
  if (s.status === 'failed') return '✕ failed';
  return '… running';
}

export function SnapshotsView({ clusterId, canAct }: { clusterId: string; canAct: boolean }) {
  const qc = useQueryClient();
  const now = useNow(5000);
  const list = useQuery(snapshotsQuery(clusterId));
  const status = useQuery({ ...clusterStatusQuery(clusterId), refetchInterval: 5000 });
  const [memberId, setMemberId] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  // The list's key is a prefix of every snapshot's detail key: both refresh.
  const refresh = () => void qc.invalidateQueries({ queryKey: snapshotsQuery(clusterId).queryKey });

  const take = useMutation({
    mutationFn: () =>
      sendJson<SnapshotRecord>(
        `/api/clusters/${encodeURIComponent(clusterId)}/snapshots`,
        'POST',
        memberId ? { memberId } : {},
      ),
    onSuccess: (s) => {
      setSelected(s.id);
      refresh();
    },
  });
  const restoreTest = useMutation({
    mutationFn: (id: string) =>
      sendJson<{ restoreTest: RestoreTest }>(
        `/api/clusters/${encodeURIComponent(clusterId)}/snapshots/${encodeURIComponent(id)}/restore-test`,
        'POST',
      ),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) => sendJson(`/api/clusters/${encodeURIComponent(clusterId)}/snapshots/${id}`, 'DELETE'),
    onSuccess: refresh,
  });

  const snapshots = list.data?.snapshots ?? [];
  const running = snapshots.find((s) => s.progress !== null);
  const members = (status.data?.members ?? []).filter((m) => m.id);
  const selectedRecord = snapshots.find((s) => s.id === selected);
  const restoreTestRunning = snapshots.some((s) => s.restoreTest?.state === 'running');

  return (
    <div className="space-y-6">
      {canAct && (
        <section
          aria-label="Take a snapshot"
          className="space-y-3 rounded-xl border border-slate-200 p-4 dark:border-slate-700"
        >
          <div className="flex flex-wrap items-end gap-3">
            <label className="text-sm">
              From member
              <select
                data-testid="snapshot-member"
                value={memberId}
                onChange={(e) => setMemberId(e.target.value)}
                className="mt-1 block rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-700 dark:bg-slate-900"
              >
                <option value="">a healthy follower (spares the leader)</option>
                {members.map((m) => (
                  <option key={m.id} value={m.id ?? ''} disabled={m.health === 'unreachable'}>
                    {m.name}
                    {m.status?.isLeader ? ' (leader)' : ''} — {m.health}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              data-testid="take-snapshot"
              disabled={take.isPending || running !== undefined}
              onClick={() => take.mutate()}
              className="rounded-md bg-sky-700 px-4 py-2 font-semibold text-white hover:bg-sky-800 disabled:opacity-60"
            >
              Take snapshot
            </button>
          </div>
          {take.isError && (
            <p role="alert" className="text-sm text-red-700 dark:text-red-400">
              {take.error.message}
            </p>
          )}
          {running?.progress && <SnapshotProgress progress={running.progress} />}
        </section>
      )}

      <section aria-label="Snapshot history" className="md:overflow-x-auto">
        <h2 className="mb-2 text-lg font-semibold">History</h2>
        {/* A table from 768 px; below, each row is a card of labelled fields (no sideways scroll on a phone). */}
        <table className={CARD_TABLE}>
          <thead className={CARD_THEAD}>
            <tr className="border-b border-slate-300 dark:border-slate-700">
              <th className="py-1">Status</th>
              <th>Restore test</th>
              <th>Taken</th>
              <th>Size</th>
              <th>Revision</th>
              <th title="etcdctl snapshot status's total keys: every stored revision of every key, not only the live keys">
                Keys (all revisions)
              </th>
              <th>Duration</th>
              <th>Who</th>
              <th>Where</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody className={CARD_TBODY}>
            {snapshots.map((s) => (
              <tr
                key={s.id}
                data-testid="snapshot-row"
                data-status={s.status}
                data-snapshot-id={s.id}
                data-restore-test={restoreTestShown(s) ?? undefined}
                className={`${CARD_ROW} ${selected === s.id ? 'bg-sky-50 dark:bg-sky-950' : ''}`}
              >
                <td className="col-span-2 min-w-0 sm:col-span-3 md:py-1">
                  <span className={`rounded px-1.5 py-0.5 text-xs font-semibold ${STATUS_STYLE[s.status]}`}>
                    {statusWord(s)}
                  </span>
                  {s.error && (
                    <p className="mt-1 max-w-xs break-words text-xs text-red-700 dark:text-red-400">{s.error}</p>
                  )}
                </td>
                <td className="col-span-2 min-w-0 sm:col-span-3 md:py-1">
                  <span className="block text-xs text-slate-500 md:hidden">Restore test</span>
                  <RestoreTestBadge snapshot={s} />
                  {restoreTest.isError && restoreTest.variables === s.id && (
                    <p
                      role="alert"
                      data-testid="restore-test-error"
                      className="mt-1 max-w-xs break-words text-xs text-red-700 dark:text-red-400"
                    >
                      {restoreTest.error.message}
                    </p>
                  )}
                </td>
                <Cell label="Taken">
                  <span title={formatDateTime(s.startedAt)}>{formatAge(now - Date.parse(s.startedAt))} ago</span>
                </Cell>
                <Cell label="Size">{s.sizeBytes !== null ? formatBytes(s.sizeBytes) : '—'}</Cell>
                <Cell label="Revision">{s.revision?.toLocaleString('en') ?? '—'}</Cell>
                <Cell label="Keys (all revisions)">{s.totalKeys?.toLocaleString('en') ?? '—'}</Cell>
                <Cell label="Duration">{duration(s)}</Cell>
                <Cell label="Who" className="break-words">
                  {s.trigger === 'schedule' ? 'schedule' : s.triggeredBy}
                  {s.memberName && <span className="text-slate-500"> · from {s.memberName}</span>}
                </Cell>
                <Cell label="Where">
                  {s.locations.map((l) => (l.kind === 's3' ? 'off-site (S3)' : 'dashboard disk')).join(', ') || '—'}
                </Cell>
                <td className="col-span-2 flex flex-wrap gap-x-3 gap-y-1 sm:col-span-3 md:table-cell md:space-x-2 md:whitespace-nowrap">
                  <button
                    type="button"
                    className="text-sky-700 underline dark:text-sky-400"
                    onClick={() => setSelected(s.id)}
                  >
                    details
                  </button>
                  {canAct && s.status === 'succeeded' && s.verified && !s.deletedAt && !s.missing && (
                    <>
                      <a
                        className="text-sky-700 underline dark:text-sky-400"
                        href={`/api/clusters/${encodeURIComponent(clusterId)}/snapshots/${s.id}/download`}
                      >
                        download
                      </a>
                      <button type="button" className="text-red-700 underline" onClick={() => remove.mutate(s.id)}>
                        delete
                      </button>
                    </>
                  )}
                  {canAct && restoreTestable(s) && (
                    <button
                      type="button"
                      data-testid="restore-test-now"
                      className="text-sky-700 underline disabled:text-slate-400 disabled:no-underline dark:text-sky-400"
                      disabled={restoreTest.isPending || s.restoreTest?.state === 'running'}
                      title={
                        restoreTestRunning
                          ? 'a restore test is running: one runs at a time'
                          : 'restore it into a throwaway etcd and compare'
                      }
                      onClick={() => restoreTest.mutate(s.id)}
                    >
                      Restore-test now
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {snapshots.length === 0 && <p className="mt-2 text-sm text-slate-500">No snapshot yet.</p>}
      </section>

      {selected && <SnapshotDetails clusterId={clusterId} id={selected} listed={selectedRecord} now={now} />}
    </div>
  );
}

// The restore test comes from the list's record when listed: the list is polled while a test runs.
function SnapshotDetails({
  clusterId,
  id,
  listed,
  now,
}: {
  clusterId: string;
  id: string;
  listed: SnapshotRecord | undefined;
  now: number;
}) {
  const detail = useQuery(snapshotDetailQuery(clusterId, id));
  const d = detail.data;
  if (!d) return null;
  return (
    <section aria-label="Snapshot details" data-testid="snapshot-details" className="space-y-4">
      <h2 className="text-lg font-semibold">Snapshot {d.id}</h2>
      <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-slate-500">Hash (etcdctl)</dt>
        <dd className="font-mono">{d.hash ?? '—'}</dd>
        <dt className="text-slate-500">SHA-256</dt>
        <dd className="break-all font-mono">{d.sha256 ?? '—'}</dd>
        <dt className="text-slate-500">Taken</dt>
        <dd>{formatDateTime(d.startedAt)}</dd>
        <dt className="text-slate-500">Verified</dt>
        <dd>
          {d.verified
            ? 'yes: SHA-256 trailer matches, bbolt readable'
            : d.status === 'running'
              ? 'not yet: checked once the transfer ends'
              : 'no'}
        </dd>
        <dt className="text-slate-500">Keys</dt>
        <dd>
          {d.totalKeys !== null ? `${d.totalKeys.toLocaleString('en')} stored, counting every revision` : '—'}
          {d.keyspace && d.keyspace.length > 0 && (
            <> · {d.keyspace.reduce((n, k) => n + k.liveKeys, 0).toLocaleString('en')} live keys (the keyspace below)</>
          )}
        </dd>
      </dl>
      <RestoreTestDetails snapshot={listed ?? d} now={now} />
      {d.keyspace && d.keyspace.length > 0 && (
        <div className="overflow-x-auto">
          <h3 className="font-semibold">Keyspace (largest first)</h3>
          <table className="mt-1 w-full text-left text-sm" data-testid="keyspace">
            <thead>
              <tr className="border-b border-slate-300 dark:border-slate-700">
                <th className="py-1">Prefix</th>
                <th>Live keys</th>
                <th>Bytes</th>
                <th>Revisions stored</th>
              </tr>
            </thead>
            <tbody>
              {d.keyspace.slice(0, 25).map((k) => (
                <tr key={k.prefix} className="border-b border-slate-200 dark:border-slate-800">
                  <td className="py-0.5 font-mono">{k.prefix}</td>
                  <td>{k.liveKeys.toLocaleString('en')}</td>
                  <td>{formatBytes(k.bytes)}</td>
                  <td>{k.revisions.toLocaleString('en')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {d.status === 'succeeded' && (
        <div className="space-y-3" data-testid="restore-runbook">
          <h3 className="font-semibold">Restore runbook</h3>
          <p className="text-sm text-slate-600 dark:text-slate-400">
            The dashboard does not restore by itself. These commands, filled in from the current member list, restore
            this snapshot into this cluster.
          </p>
          {d.runbook.map((step) => (
            <div key={step.title}>
              <div className="flex items-baseline justify-between gap-2">
                <h4 className="text-sm font-semibold">{step.title}</h4>
                <CopyButton text={step.commands} className="text-xs text-sky-700 underline dark:text-sky-400" />
              </div>
              <p className="text-xs text-slate-600 dark:text-slate-400">{step.note}</p>
              <pre className="mt-1 overflow-x-auto rounded bg-slate-900 p-2 text-xs text-slate-100">
                {step.commands}
              </pre>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
