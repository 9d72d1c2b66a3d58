'use client';

import type { ClusterStatus } from '@/lib/cluster/status-types';

/** "N of M Secrets encrypted at rest": counted on the server, values never leave it. */
export function SecretsAtRest({ status }: { status: ClusterStatus }) {
  const s = status.secretsAtRest;
  if (!s) return null;
  // Only Secrets known to be encrypted count: a value in no format we recognise is not called safe.
  const all = s.encrypted === s.total;
  const unknown = s.total - s.encrypted - s.plain;
  const providers = Object.entries(s.byProvider)
    .filter(([, n]) => n > 0)
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  return (
    <p
      data-testid="secrets-at-rest"
      data-plain={s.plain}
      className={`text-sm ${all ? 'text-slate-600 dark:text-slate-400' : 'font-semibold text-amber-800 dark:text-amber-300'}`}
    >
      {all ? '🔒' : '⚠'} {s.encrypted} of {s.total} Kubernetes Secrets encrypted at rest
      {providers ? ` (${providers})` : ''}
      {s.plain > 0 && ` — ${s.plain} stored plain`}
      {unknown > 0 && ` — ${unknown} in a format not recognised`}
    </p>
  );
}
