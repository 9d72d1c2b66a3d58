import Link from 'next/link';
import type { ClusterSummary } from '@/lib/cluster/status-types';

export function ClusterSwitcher({
  clusters,
  selected,
  basePath = '/',
}: {
  clusters: ClusterSummary[];
  selected: string;
  basePath?: string;
}) {
  if (clusters.length < 2) return null;
  return (
    <nav aria-label="Clusters" className="flex flex-wrap gap-2">
      {clusters.map((c) => (
        <Link
          key={c.id}
          href={`${basePath}?cluster=${encodeURIComponent(c.id)}`}
          aria-current={c.id === selected ? 'page' : undefined}
          className={`rounded-full border px-3 py-1 text-sm ${
            c.id === selected
              ? 'border-sky-600 bg-sky-600 text-white'
              : 'border-slate-300 hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800'
          }`}
        >
          {c.name}
        </Link>
      ))}
    </nav>
  );
}
