import Link from 'next/link';
import type { ClusterSummary } from '@/lib/cluster/status-types';
import { ClusterSwitcher } from './cluster-switcher';

const PAGES = [
  { href: '/', label: 'Overview' },
  { href: '/history', label: 'History' },
] as const;

export function SiteHeader({
  clusters,
  selected,
  current,
}: {
  clusters: ClusterSummary[];
  selected: ClusterSummary;
  current: '/' | '/history';
}) {
  return (
    <header className="flex flex-wrap items-center justify-between gap-3">
      <div className="flex flex-wrap items-baseline gap-4">
        <h1 className="text-2xl font-bold">
          etcd · <span data-testid="cluster-name">{selected.name}</span>
        </h1>
        <nav aria-label="Pages" className="flex gap-3 text-sm">
          {PAGES.map((p) => (
            <Link
              key={p.href}
              href={`${p.href}?cluster=${encodeURIComponent(selected.id)}`}
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
      <ClusterSwitcher clusters={clusters} selected={selected.id} basePath={current} />
    </header>
  );
}
