// The latest view of each cluster in the shared store: published by the replica that polls it, read by the others.
import 'server-only';
import type { Kysely } from 'kysely';
import type { StoreSchema } from '@/lib/db/schema';
import type { ClusterView } from './cluster-collector';

export interface StoredView {
  clusterId: string;
  owner: string;
  /** Epoch ms of the observation. */
  observedAt: number;
  view: ClusterView;
}

export class ClusterViewStore {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /** Stores each view unless a newer one of its cluster is there already (one statement for them all). */
  async publish(owner: string, views: readonly ClusterView[]): Promise<void> {
    const rows = views
      .map((v) => ({ v, at: Date.parse(v.observation.observedAt ?? '') }))
      .filter(({ at }) => !Number.isNaN(at))
      .map(({ v, at }) => ({ cluster_id: v.observation.clusterId, owner, observed_at: at, view: JSON.stringify(v) }));
    if (rows.length === 0) return;
    await this.db
      .insertInto('cluster_views')
      .values(rows)
      .onConflict((oc) =>
        oc
          .column('cluster_id')
          .doUpdateSet({
            owner: (eb) => eb.ref('excluded.owner'),
            observed_at: (eb) => eb.ref('excluded.observed_at'),
            view: (eb) => eb.ref('excluded.view'),
          })
          .where((eb) => eb('cluster_views.observed_at', '<', eb.ref('excluded.observed_at'))),
      )
      .execute();
  }

  /** The views observed after `since` (epoch ms), of the clusters given. */
  async newerThan(since: number, clusterIds: readonly string[]): Promise<StoredView[]> {
    if (clusterIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('cluster_views')
      .selectAll()
      .where('observed_at', '>', since)
      .where('cluster_id', 'in', clusterIds)
      .execute();
    return rows.map((r) => ({
      clusterId: r.cluster_id,
      owner: r.owner,
      observedAt: r.observed_at,
      view: JSON.parse(r.view) as ClusterView,
    }));
  }
}
