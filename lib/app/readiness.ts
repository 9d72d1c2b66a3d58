// What /readyz answers: whether this dashboard can serve what it promises. The configuration loaded, the database
// takes writes, every cluster has been polled once; and what the long-running work says about itself (a maintenance
// run, restore tests), for an operator reading the answer. No paths, no secrets: a probe may be anonymous.
import 'server-only';
import { eventLoopLag, LAG_KEPT_MS } from '@/lib/collector/event-loop-lag';
import type { Dashboard } from './dashboard';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  /** One line; no file paths or secrets. */
  detail: string;
}

export interface Readiness {
  ready: boolean;
  checks: ReadinessCheck[];
}

export async function readiness(
  app: Pick<
    Dashboard,
    'store' | 'config' | 'collectors' | 'maintenance' | 'restoreTests' | 'leadership' | 'shards' | 'sharing'
  >,
): Promise<Readiness> {
  const checks: ReadinessCheck[] = [
    { name: 'config', ok: true, detail: `${app.config.clusters.length} cluster(s) configured` },
    { name: 'database', ...(await app.store.writable()) },
  ];
  const waiting = app.config.clusters.filter((c) => !app.collectors.get(c.id)?.current()).map((c) => c.id);
  checks.push(
    waiting.length === 0
      ? { name: 'first-poll', ok: true, detail: 'every cluster has been polled' }
      : { name: 'first-poll', ok: false, detail: `waiting for the first poll of ${waiting.join(', ')}` },
  );
  const runs = app.config.clusters
    .map((c) => [c.id, app.maintenance.running(c.id)] as const)
    .filter(([, run]) => run !== null)
    .map(([id, run]) => `${id}: ${run}`);
  checks.push({
    name: 'maintenance',
    ok: true,
    detail: runs.length > 0 ? `run in progress (${runs.join('; ')})` : 'no maintenance run in progress',
  });
  const generation = app.leadership.generation();
  checks.push({
    name: 'leader',
    ok: true,
    // Another replica leading is as it should be: this one serves the UI and the API all the same.
    detail:
      generation === null
        ? `replica ${app.leadership.replicaId} does not lead (another replica runs the scheduled work)`
        : `replica ${app.leadership.replicaId} leads (generation ${generation})`,
  });
  const owned = app.shards.owned().length;
  const fallback = app.sharing.fallbackPolling().length;
  checks.push({
    name: 'shards',
    ok: true,
    detail:
      `polls ${owned} of ${app.config.clusters.length} cluster(s) for the record` +
      (fallback > 0 ? `; ${fallback} more itself while their owner's view is old` : ''),
  });
  // Said, not judged: a replica taken out of the load balancer because it is busy would pass its load to the others.
  const heldUp = [...app.collectors.values()].reduce((sum, c) => sum + c.counters.heldUp, 0);
  const now = performance.now();
  checks.push({
    name: 'event-loop',
    ok: true,
    detail:
      `held up at most ${eventLoopLag().maxBetween(now - LAG_KEPT_MS, now)} ms in the last ${LAG_KEPT_MS / 1000} s` +
      (heldUp > 0 ? `; ${heldUp} poll(s) not shown since start because of it` : ''),
  });
  const testing = app.restoreTests.running();
  checks.push({
    name: 'restore-tests',
    ok: true,
    detail: testing ? `restore-testing snapshot ${testing}` : 'no restore test running',
  });
  return { ready: checks.every((c) => c.ok), checks };
}
