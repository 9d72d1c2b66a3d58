// Compares the members' data: HashKV of every member at one revision all of them have applied. Equal hashes mean the
// members agree; a member whose hash differs from the majority has silently diverged (the 3.5.0–3.5.2 bug,
// etcd-io/etcd#14828): the worst failure etcd has, because every read it serves may be wrong.
import 'server-only';
import type { ConsistencyCheck, ConsistencyMember } from '@/lib/cluster/consistency-types';
import type { Observation } from '@/lib/cluster/status-types';
import type { ClusterConfig } from '@/lib/config/load-config';
import { currentRevision, hashKV } from '@/lib/etcd/maintenance-calls';
import { createMemberClient, type MemberClient } from '@/lib/etcd/member-client';
import type { WriteFence } from '@/lib/replicas/lease-store';
import type { MaintenanceStore } from './maintenance-store';

/** The verdict on the members' hashes at one revision: pure, unit-tested. */
export function judgeHashes(members: ConsistencyMember[]): Pick<ConsistencyCheck, 'agree' | 'suspect' | 'note'> {
  const answered = members.filter((m) => m.hash !== null);
  if (answered.length < 2) {
    return {
      agree: null,
      suspect: null,
      note: `${answered.length} of ${members.length} members answered: nothing to compare`,
    };
  }
  const compactRevisions = new Set(answered.map((m) => m.compactRevision));
  if (compactRevisions.size > 1) {
    return {
      agree: null,
      suspect: null,
      note: 'the members report different compact revisions (a compaction was being applied): compared next time',
    };
  }
  const counts = new Map<number, ConsistencyMember[]>();
  for (const m of answered) counts.set(m.hash as number, [...(counts.get(m.hash as number) ?? []), m]);
  const missing = members.length - answered.length;
  const partial = missing > 0 ? ` (${missing} did not answer)` : '';
  if (counts.size === 1)
    return {
      agree: true,
      suspect: null,
      note: missing > 0 ? `${answered.length} of ${members.length} members compared${partial}` : null,
    };
  const groups = [...counts.values()].sort((a, b) => b.length - a.length);
  const majority = groups[0] as ConsistencyMember[];
  const second = groups[1] as ConsistencyMember[];
  // A suspect only where a strict majority of the members that answered agree, and one member stands apart.
  if (majority.length > second.length && majority.length * 2 > answered.length) {
    const odd = answered.filter((m) => m.hash !== majority[0]?.hash);
    return {
      agree: false,
      suspect: odd.length === 1 ? (odd[0] as ConsistencyMember).id : null,
      note: `${odd.map((m) => m.name).join(', ')} differ${odd.length === 1 ? 's' : ''} from the other ${majority.length} members${partial}`,
    };
  }
  return { agree: false, suspect: null, note: `the members' hashes differ and no majority agrees${partial}` };
}

export interface ConsistencyDeps {
  clusters: readonly ClusterConfig[];
  store: MaintenanceStore;
  observe: (clusterId: string) => Observation | null;
  /** A maintenance run in progress on the cluster (a defragmenting member would hold HashKV up): the check waits. */
  maintenanceRunning: (clusterId: string) => string | null;
  /** Deadline of one HashKV call (it reads the whole keyspace). */
  hashTimeoutMs: number;
  /** Whether this replica leads (only the leader checks and stores); always, by default. */
  leading?: () => boolean;
  /** The leader's term as a write fence (Leadership.fence): a check is stored only while that term lasts. */
  fence?: () => WriteFence | undefined;
}

const COMPACTED = /compacted/i;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ConsistencyChecker {
  private readonly latestChecks = new Map<string, ConsistencyCheck | null>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<string>();
  /** The one read of every cluster's newest stored check under way, if any. */
  private readingStored: Promise<void> | null = null;

  constructor(private readonly deps: ConsistencyDeps) {}

  /**
   * Checks every cluster on its own interval (its config's consistencyCheckMs; 0 is off), the first soon after start.
   * The clusters' first checks are spread over their interval, at the rate the later ones come anyway (one a second
   * for 300 clusters at 5 min), so a fleet of hundreds does not open every member's connection and hash every
   * keyspace at once. Spread over a minute (five a second, each record a fenced write holding the leader's lease row
   * while it is written), a lone replica starting with 300 clusters on a loaded host lost its leadership 8 s after
   * the checks began, and four times more (likely the cause, not proven: the lease renewal waits for those writes).
   */
  start(firstAfterMs = 15_000, spreadMs = Number.POSITIVE_INFINITY): void {
    const n = this.deps.clusters.length;
    for (const [i, c] of this.deps.clusters.entries()) {
      const every = c.maintenance.consistencyCheckMs;
      if (every <= 0 || this.timers.has(c.id)) continue;
      const tick = (delay: number) => {
        const t = setTimeout(async () => {
          try {
            // The schedule's checks are the leader's: each is stored under the term it began in.
            if (this.deps.leading?.() ?? true) await this.checkOnce(c.id, this.deps.fence?.());
          } catch (err) {
            console.error(`consistency check of ${c.id} failed: ${err instanceof Error ? err.message : String(err)}`);
          }
          if (this.timers.has(c.id)) tick(every);
        }, delay);
        t.unref();
        this.timers.set(c.id, t);
      };
      tick(Math.min(firstAfterMs, every) + Math.floor((i * Math.min(spreadMs, every)) / n));
    }
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /**
   * The newest check of the cluster: from this run of the dashboard, else the newest stored. Rejects when the store
   * cannot be read, and reads it again next time.
   */
  async latest(clusterId: string): Promise<ConsistencyCheck | null> {
    // Read every second by the alert evaluation: the stored ones are looked up once, every cluster's in one read
    // (a fleet's NOC wall asks for hundreds at once), then kept (null included).
    if (!this.latestChecks.has(clusterId)) {
      this.readingStored ??= this.deps.store
        .latestChecks()
        .then((stored) => {
          const byCluster = new Map(stored.map((c) => [c.clusterId, c]));
          // A check that finished while the store was read is newer than what the store answered.
          for (const c of this.deps.clusters) {
            if (!this.latestChecks.has(c.id)) this.latestChecks.set(c.id, byCluster.get(c.id) ?? null);
          }
        })
        .finally(() => (this.readingStored = null));
      await this.readingStored;
    }
    return this.latestChecks.get(clusterId) ?? null;
  }

  history(clusterId: string, limit = 100): Promise<ConsistencyCheck[]> {
    return this.deps.store.checks(clusterId, limit);
  }

  /**
   * One check now; null when it cannot run (no observation yet, a maintenance run in progress, another check of the
   * same cluster still running).
   */
  async checkOnce(clusterId: string, fence?: WriteFence): Promise<ConsistencyCheck | null> {
    const cluster = this.deps.clusters.find((c) => c.id === clusterId);
    const obs = this.deps.observe(clusterId);
    if (!cluster || !obs || this.deps.maintenanceRunning(clusterId) || this.inFlight.has(clusterId)) return null;
    this.inFlight.add(clusterId);
    const clients = new Map<string, MemberClient>();
    try {
      const members = obs.members.filter((m) => m.id !== null && !m.isLearner);
      const client = (endpoint: string) => {
        let c = clients.get(endpoint);
        if (!c) {
          c = createMemberClient({ endpoint, tls: cluster.tls, timeoutMs: this.deps.hashTimeoutMs });
          clients.set(endpoint, c);
        }
        return c;
      };
      let result: ConsistencyCheck | null = null;
      // A compaction between reading the revision and hashing at it: try again at a newer one.
      for (let attempt = 0; attempt < 3; attempt++) {
        result = await this.attempt(clusterId, members, client);
        const compactedAway = result.members.some((m) => m.error !== null && COMPACTED.test(m.error));
        const compactionApplying = result.agree === null && result.members.filter((m) => m.hash !== null).length >= 2;
        if (!compactedAway && !compactionApplying) break;
        await sleep(500);
      }
      const check = result as ConsistencyCheck;
      // Known at once (the alert evaluation reads it); stored after, and a refused write fails the check's call.
      this.latestChecks.set(clusterId, check);
      // A scheduled one under the term it began in: a replica that stopped leading meanwhile stores nothing (LeaseLost).
      await this.deps.store.addCheck(check, fence);
      return check;
    } finally {
      for (const c of clients.values()) c.close();
      this.inFlight.delete(clusterId);
    }
  }

  private async attempt(
    clusterId: string,
    members: Observation['members'],
    client: (endpoint: string) => MemberClient,
  ): Promise<ConsistencyCheck> {
    const timeout = this.deps.hashTimeoutMs;
    // The smallest revision every member that answers has applied: each can hash it.
    const revisions = await Promise.all(
      members.map((m) => (m.endpoint ? currentRevision(client(m.endpoint), timeout) : null)),
    );
    const known = revisions.flatMap((r) => (r?.ok ? [r.value] : []));
    const revision = known.length > 0 ? Math.min(...known) : null;
    const views: ConsistencyMember[] = await Promise.all(
      members.map(async (m, i): Promise<ConsistencyMember> => {
        const base = { id: m.id as string, name: m.name };
        const rev = revisions[i];
        if (!m.endpoint)
          return { ...base, hash: null, compactRevision: null, error: 'no endpoint the dashboard reaches' };
        if (!rev?.ok) return { ...base, hash: null, compactRevision: null, error: rev?.failure.message ?? 'no answer' };
        if (revision === null) return { ...base, hash: null, compactRevision: null, error: 'no common revision' };
        const res = await hashKV(client(m.endpoint), revision, timeout);
        return res.ok
          ? { ...base, hash: res.value.hash, compactRevision: res.value.compactRevision, error: null }
          : { ...base, hash: null, compactRevision: null, error: res.failure.message };
      }),
    );
    return { clusterId, checkedAt: new Date().toISOString(), revision, members: views, ...judgeHashes(views) };
  }
}
