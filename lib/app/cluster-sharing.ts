// How replicas share the polling of their clusters: the replica that owns a cluster (lib/replicas/shard-keeper.ts)
// polls it, records its history, judges its alerts and publishes what it saw; the others show that view instead of
// polling etcd themselves, so etcd's load does not grow with the number of replicas. A replica whose view of a
// cluster is about to go stale (its owner died, or the database does not answer) polls the cluster itself until a
// fresh view arrives again: the live view never goes blind because of a replica or the database.
import 'server-only';
import type { ClusterCollector, ClusterView } from '@/lib/collector/cluster-collector';
import type { ClusterViewStore } from '@/lib/collector/cluster-view-store';
import { boundedRead } from '@/lib/db/bounded-read';
import { followEveryMs } from '@/lib/cluster/staleness';

export interface ClusterSharingDeps {
  collectors: Map<string, ClusterCollector>;
  views: Pick<ClusterViewStore, 'publish' | 'newerThan'>;
  replicaId: string;
  owns: (clusterId: string) => boolean;
  pollIntervalMs: number;
  /** A view older than this is not trusted to stay fresh: the replica polls the cluster itself meanwhile. */
  fallbackAfterMs: number;
}

export class ClusterSharing {
  /** Clusters this replica polls only because their view went old (not its own). */
  private readonly fallback = new Set<string>();
  /**
   * When each fallback began: it lasts at least two polls, so an owner that publishes late now and then (a busy
   * replica) does not make this one open and close the cluster's connections at every read.
   */
  private readonly fallbackSince = new Map<string, number>();
  /** Per cluster: epoch ms of the newest view adopted from its owner. */
  private readonly adoptedAt = new Map<string, number>();
  private readonly toPublish = new Set<string>();
  private publishing = false;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /**
   * When this replica began to follow: a cluster none of whose views it has read yet counts as seen then, so a first
   * read that is slow (a busy database at start) does not send it polling every cluster of the fleet at once.
   */
  private followingSince = 0;

  constructor(private readonly deps: ClusterSharingDeps) {}

  /** The shard keeper gave this replica the cluster: it polls it for the record. */
  gained(clusterId: string): void {
    console.log(`etcd-dashboard: replica ${this.deps.replicaId} polls cluster ${clusterId} for the record`);
    this.fallback.delete(clusterId);
    this.deps.collectors.get(clusterId)?.start();
  }

  /**
   * Another replica owns it now (or this one lost touch with the database): it goes on polling, as a fallback, until
   * the new owner's view arrives fresh (see follow()), so the handover leaves no gap in the live view.
   */
  lost(clusterId: string): void {
    console.log(`etcd-dashboard: replica ${this.deps.replicaId} no longer polls cluster ${clusterId} for the record`);
    this.adoptedAt.delete(clusterId);
    if (this.deps.collectors.get(clusterId)?.polling()) this.fallback.add(clusterId);
  }

  /** Called after each poll: an owned cluster's view is published (the newest only, in one write for all). */
  polled(clusterId: string): void {
    if (!this.deps.owns(clusterId)) return;
    this.toPublish.add(clusterId);
    if (!this.publishing) void this.publish();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.followingSince = Date.now();
    const loop = async () => {
      try {
        await this.follow(Date.now());
      } catch (err) {
        console.error(`etcd-dashboard: cluster views: ${err instanceof Error ? err.message.split('\n')[0] : err}`);
      }
      if (!this.running) return;
      this.timer = setTimeout(() => void loop(), followEveryMs(this.deps.pollIntervalMs));
      this.timer.unref();
    };
    void loop();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  /** Which clusters this replica polls only as a fallback (their owner's view went old). */
  fallbackPolling(): string[] {
    return [...this.fallback];
  }

  private async publish(): Promise<void> {
    this.publishing = true;
    try {
      while (this.toPublish.size > 0) {
        const ids = [...this.toPublish];
        this.toPublish.clear();
        const now = Date.now();
        const views = ids
          .map((id) => this.deps.collectors.get(id)?.view(now))
          .filter((v): v is ClusterView => v !== null && v !== undefined);
        // A write that fails is not retried: the next poll's view replaces it within a poll interval.
        await this.deps.views.publish(this.deps.replicaId, views).catch(() => undefined);
      }
    } finally {
      this.publishing = false;
    }
  }

  /** Reads the owners' views of the clusters this replica does not own, and polls itself where they went old. */
  async follow(now: number): Promise<void> {
    const others = [...this.deps.collectors.keys()].filter((id) => !this.deps.owns(id));
    if (others.length === 0) return;
    // Views older than what a replica trusts are of no use; a database that does not answer in time is the same.
    const read = await boundedRead(this.deps.views.newerThan(now - this.deps.fallbackAfterMs, others), null);
    for (const v of read ?? []) {
      if (v.owner === this.deps.replicaId) continue;
      this.deps.collectors.get(v.clusterId)?.adopt(v.view);
      this.adoptedAt.set(v.clusterId, Math.max(this.adoptedAt.get(v.clusterId) ?? 0, v.observedAt));
    }
    for (const id of others) {
      const collector = this.deps.collectors.get(id);
      if (!collector) continue;
      const age = now - (this.adoptedAt.get(id) ?? this.followingSince);
      if (age > this.deps.fallbackAfterMs) {
        if (!collector.polling()) {
          this.fallback.add(id);
          this.fallbackSince.set(id, now);
          collector.start();
          console.log(
            `etcd-dashboard: polling cluster ${id} itself: ${this.adoptedAt.has(id) ? `its owner's newest view is ${Math.round(age)} ms old` : `no view from its owner in ${Math.round(age)} ms`}`,
          );
        }
      } else if (
        this.fallback.has(id) &&
        age <= this.deps.fallbackAfterMs * 0.75 &&
        now - (this.fallbackSince.get(id) ?? 0) >= 2 * this.deps.pollIntervalMs
      ) {
        // Its owner publishes again: its view is fresh, so this replica stops adding to etcd's load.
        this.fallback.delete(id);
        this.fallbackSince.delete(id);
        collector.stop();
        console.log(`etcd-dashboard: cluster ${id}: its owner's view is fresh again (${Math.round(age)} ms old)`);
      }
    }
  }
}
