import Link from 'next/link';
import type { Role } from '@/lib/auth/roles';
import type { ClusterSummary } from '@/lib/cluster/status-types';
import { UserMenu } from './auth/user-menu';
import { ClusterSwitcher } from './cluster-switcher';

type PagePath = '/' | '/history' | '/snapshots' | '/maintenance' | '/runbooks' | '/tokens' | '/audit';

const PAGES: ReadonlyArray<{ href: PagePath; label: string; admin?: true }> = [
  { href: '/', label: 'Overview' },
  { href: '/history', label: 'History' },
  { href: '/snapshots', label: 'Snapshots' },
  { href: '/maintenance', label: 'Maintenance' },
  { href: '/runbooks', label: 'Runbooks' },
  { href: '/tokens', label: 'API tokens', admin: true },
  { href: '/audit', label: 'Audit log', admin: true },
];

/** Pages that show one cluster: the cluster switcher keeps the page. */
const CLUSTER_PAGES: readonly PagePath[] = ['/', '/history', '/snapshots', '/maintenance'];

export interface Viewer {
  actor: string;
  role: Role;
  method: string;
}

export function SiteHeader({
  clusters,
  selected,
  current,
  viewer,
}: {
  clusters: ClusterSummary[];
  selected: ClusterSummary | null;
  current: PagePath;
  viewer: Viewer;
}) {
  const query = selected ? `?cluster=${encodeURIComponent(selected.id)}` : '';
  return (
    <header className="flex flex-wrap items-center justify-between gap-3">
      <div className="flex flex-wrap items-baseline gap-4">
        <h1 className="text-2xl font-bold">
          etcd
          {selected && (
            <>
              {' '}
              · <span data-testid="cluster-name">{selected.name}</span>
            </>
          )}
        </h1>
        <nav aria-label="Pages" className="flex flex-wrap gap-3 text-sm">
          {PAGES.filter((p) => !p.admin || viewer.role === 'admin').map((p) => (
            <Link
              key={p.href}
              href={`${p.href}${query}`}
              aria-current={p.href === current ? 'page' : undefined}
              className={
                p.href === current
                  ? 'font-semibold underline underline-offset-4'
                  : 'text-sky-700 hover:underline dark:text-sky-400'
              }
            >
              {p.label}
            </Link>
          ))}
        </nav>
      </div>
      <div className="flex flex-wrap items-center gap-3">
        {selected && CLUSTER_PAGES.includes(current) && (
          <ClusterSwitcher clusters={clusters} selected={selected.id} basePath={current} />
        )}
        <UserMenu actor={viewer.actor} role={viewer.role} canSignOut={viewer.method === 'session'} />
      </div>
    </header>
  );
}
