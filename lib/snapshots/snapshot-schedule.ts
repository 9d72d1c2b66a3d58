// Per-cluster schedules in cron syntax, run by croner: snapshots (a run that finds one already running skips), and
// restore tests of the newest verified snapshot.
import 'server-only';
import { Cron } from 'croner';
import type { DashboardConfig } from '@/lib/config/load-config';
import { isDomainError } from '@/lib/errors/domain-errors';
import type { WriteFence } from '@/lib/replicas/lease-store';
import type { RestoreTester } from './restore-tester';
import { SCHEDULE_ACTOR, type SnapshotManager } from './snapshot-manager';

/** Each job runs on the leader only (`leading`): replicas share the schedules, and one of them takes each snapshot. */
export function startSnapshotSchedules(
  config: DashboardConfig,
  manager: SnapshotManager,
  restoreTests: Pick<RestoreTester, 'enqueue'> | null = null,
  leading: () => boolean = () => true,
  /** The current term's fence (Leadership.fence); none with one process. */
  fence: () => WriteFence | undefined = () => undefined,
): Cron[] {
  const jobs: Cron[] = [];
  for (const cluster of config.clusters) {
    const pattern = cluster.snapshots.schedule;
    if (pattern) {
      jobs.push(
        new Cron(pattern, { name: `snapshot-${cluster.id}`, protect: true, unref: true }, async () => {
          if (!leading()) return;
          try {
            const f = fence();
            await manager.take(cluster.id, { trigger: 'schedule', by: SCHEDULE_ACTOR, ...(f ? { fence: f } : {}) });
          } catch (err) {
            // A refusal (one already running, no healthy member, no space) is recorded in the audit log by take().
            const why = isDomainError(err)
              ? `${err.code}: ${err.message}`
              : err instanceof Error
                ? err.message
                : String(err);
            console.error(`snapshots: scheduled snapshot of ${cluster.id} not taken: ${why}`);
          }
        }),
      );
    }
    const restorePattern = cluster.snapshots.restoreTest.schedule;
    if (restoreTests && restorePattern) {
      jobs.push(
        new Cron(restorePattern, { name: `restore-test-${cluster.id}`, protect: true, unref: true }, () => {
          if (!leading()) return;
          const newest = manager.latestVerifiedSummary(cluster.id);
          if (!newest) return;
          void restoreTests.enqueue(cluster.id, newest.id);
          // Its off-site copy read back and restored too: a backup that only exists off-site must restore.
          if (newest.offsite) void restoreTests.enqueue(cluster.id, newest.id, 's3');
        }),
      );
    }
  }
  return jobs;
}
