'use client';

import { useQuery } from '@tanstack/react-query';
import { clusterAccessQuery } from '@/lib/query/cluster-queries';

/**
 * What etcd lets this dashboard's etcd user do: one quiet line when it may do everything, the refused features with the
 * reason (which role is missing, on which release) when it may not.
 */
export function EtcdAccess({ clusterId }: { clusterId: string }) {
  const { data } = useQuery(clusterAccessQuery(clusterId));
  if (!data) return null;
  const quiet = 'text-sm text-slate-600 dark:text-slate-400 break-words';
  if (!data.access) {
    return (
      <p data-testid="etcd-access" data-state="unknown" className={quiet}>
        etcd access not read: {data.failure}
      </p>
    );
  }
  const { access } = data;
  const denied = data.features.filter((f) => f.allowed === false);
  const unknown = data.features.filter((f) => f.allowed === null);
  if (denied.length === 0 && unknown.length === 0) {
    const why =
      access.authEnabled === false
        ? 'etcd auth is off: the client certificate may use every feature'
        : `etcd user “${access.user}” has the root role: every feature works`;
    return (
      <p data-testid="etcd-access" data-state="all" className={quiet}>
        🔑 {why}
      </p>
    );
  }
  const roles = access.roles.length ? access.roles.join(', ') : 'none';
  return (
    <section
      data-testid="etcd-access"
      data-state={denied.length ? 'limited' : 'unknown'}
      className="min-w-0 rounded-md border border-amber-400 bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:bg-amber-950 dark:text-amber-50"
    >
      <h2 className="font-semibold break-words">
        🔑 etcd user “{access.user ?? 'none'}” (roles: {roles}
        {access.userExists === false ? ', not an etcd user' : ''}) on etcd {data.version ?? '?'}:{' '}
        {denied.length ? `${denied.length} feature${denied.length === 1 ? '' : 's'} refused` : 'not known'}
      </h2>
      <ul className="mt-1 space-y-1">
        {[...denied, ...unknown].map((f) => (
          <li key={f.feature} data-testid="etcd-access-refused" data-feature={f.feature} className="break-words">
            <span className="font-medium">
              {f.allowed === false ? '✗' : '?'} {f.label}
            </span>{' '}
            — {f.reason}
          </li>
        ))}
      </ul>
      <details className="mt-1">
        <summary className="cursor-pointer">What it may do</summary>
        <ul className="mt-1 space-y-0.5">
          {data.features
            .filter((f) => f.allowed === true)
            .map((f) => (
              <li key={f.feature} className="break-words">
                ✓ {f.label} — {f.reason}
              </li>
            ))}
        </ul>
      </details>
    </section>
  );
}
