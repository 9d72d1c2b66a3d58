// Automatic defragmentation, off by default: per cluster, a cron schedule opens a window; inside it, the members whose
// database is mostly free space (in use / total below a ratio, total above a floor, as OpenShift's etcd operator
// decides) are defragmented by the same run as a person's, with the same safety gates, followers first and the
// leader last. A window in which the gates never allow a run leaves one audit row saying why.
import 'server-only';
import { Cron } from 'croner';
import type { Observation } from '@/lib/cluster/status-types';
import type { ClusterConfig, MaintenanceConfig } from '@/lib/config/load-config';
import type { AuditLog } from '@/lib/auth/audit-log';
import { isDomainError } from '@/lib/errors/domain-errors';
import type { WriteFence } from '@/lib/replicas/lease-store';
import { SCHEDULE_ACTOR } from '@/lib/snapshots/snapshot-manager';
import type { MaintenanceService } from './maintenance-service';

export type AutoDefragmentRule = NonNullable<MaintenanceConfig['autoDefragment']>;

/** The members the rule would defragment now: pure, unit-tested. */
export function autoDefragmentCandidates(
  obs: Observation,
  rule: Pick<AutoDefragmentRule, 'maxInUseRatio' | 'minDbSizeBytes'>,
): string[] {
  return obs.members
    .filter((m) => m.id !== null && m.status && m.status.dbSize > 0)
    .filter((m) => {
      const s = m.status as NonNullable<typeof m.status>;
      return s.dbSize >= rule.minDbSizeBytes && s.dbSizeInUse / s.dbSize < rule.maxInUseRatio;
    })
    .map((m) => m.id as string);
}

export interface AutoDefragmentDeps {
  clusters: readonly ClusterConfig[];
  maintenance: MaintenanceService;
  observe: (clusterId: string) => Observation | null;
  audit: AuditLog;
  /** How often a window retries while the gates refuse (default a minute). */
  retryMs?: number;
  /** Whether this replica leads (a window opens on the leader only); always, by default. */
  leading?: () => boolean;
  /** The leader's term as a write fence (Leadership.fence): a run is started only while that term lasts. */
  fence?: () => WriteFence | undefined;
}

/** Starts a cron job per cluster with a rule; returns a stop function. */
export function startAutoDefragment(deps: AutoDefragmentDeps): () => void {
  const jobs: Cron[] = [];
  const timers = new Set<NodeJS.Timeout>();
  for (const cluster of deps.clusters) {
    const rule = cluster.maintenance.autoDefragment;
    if (!rule) continue;
    jobs.push(
      new Cron(rule.schedule, { name: `auto-defragment-${cluster.id}`, protect: true, unref: true }, () => {
        if (deps.leading && !deps.leading()) return;
        const closesAt = Date.now() + rule.windowMs;
        let lastReason = 'no member above the rule';
        // plan() may throw (the database, a cluster gone from the config): the window is given up, said once.
        const failed = (err: unknown) =>
          console.error(
            `auto-defragment of ${cluster.id}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
          );
        const attempt = async () => {
          const outcome = await tryOnce(deps, cluster, rule);
          if (outcome.done) return;
          lastReason = outcome.reason;
          if (Date.now() + (deps.retryMs ?? 60_000) < closesAt) {
            const t = setTimeout(() => {
              timers.delete(t);
              attempt().catch(failed);
            }, deps.retryMs ?? 60_000);
            t.unref();
            timers.add(t);
          } else {
            deps.audit.append({
              at: Date.now(),
              actor: SCHEDULE_ACTOR.actor,
              role: null,
              method: 'none',
              source: null,
              action: 'maintenance.defragment',
              clusterId: cluster.id,
              memberId: null,
              outcome: 'failure',
              details: { phase: 'skipped', trigger: 'schedule', reason: lastReason },
            });
          }
        };
        attempt().catch(failed);
      }),
    );
  }
  return () => {
    for (const j of jobs) j.stop();
    for (const t of timers) clearTimeout(t);
  };
}

/** One try inside a window: done when a run started or no member needs one; otherwise the reason it waits. */
async function tryOnce(
  deps: AutoDefragmentDeps,
  cluster: ClusterConfig,
  rule: AutoDefragmentRule,
): Promise<{ done: true } | { done: false; reason: string }> {
  const obs = deps.observe(cluster.id);
  if (!obs) return { done: false, reason: 'the cluster has not been observed yet' };
  const members = autoDefragmentCandidates(obs, rule);
  if (members.length === 0) return { done: true };
  const plan = await deps.maintenance.plan(cluster.id, { action: 'defragment', members, dryRun: true });
  if (plan.refusal) return { done: false, reason: `${plan.refusal.code}: ${plan.refusal.message}` };
  try {
    await deps.maintenance.start(
      cluster.id,
      { action: 'defragment', members },
      SCHEDULE_ACTOR,
      'schedule',
      deps.fence?.(),
    );
    return { done: true };
  } catch (err) {
    return { done: false, reason: isDomainError(err) ? `${err.code}: ${err.message}` : String(err) };
  }
}
