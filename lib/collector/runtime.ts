// The process-wide state: configuration and one collector per cluster, kept on globalThis so instrumentation
// and route handlers (separate module graphs in Next.js) share them.
import 'server-only';
import { loadConfig, type DashboardConfig } from '@/lib/config/load-config';
import { staleAfterMs } from '@/lib/cluster/staleness';
import { ClusterCollector } from './cluster-collector';

interface Runtime {
  config: DashboardConfig;
  collectors: Map<string, ClusterCollector>;
  staleAfterMs: number;
}

const KEY = Symbol.for('etcd-dashboard.runtime');
type Holder = { [KEY]?: Runtime };

/** Loads the configuration and starts the collectors once per process; throws ConfigError on bad config. */
export function getRuntime(): Runtime {
  const holder = globalThis as Holder;
  const existing = holder[KEY];
  if (existing) return existing;
  const config = loadConfig();
  const collectors = new Map<string, ClusterCollector>();
  for (const cluster of config.clusters) {
    const collector = new ClusterCollector(cluster, {
      pollIntervalMs: config.pollIntervalMs,
      probeTimeoutMs: config.probeTimeoutMs,
    });
    collectors.set(cluster.id, collector);
    collector.start();
  }
  const runtime: Runtime = {
    config,
    collectors,
    staleAfterMs: staleAfterMs(config.pollIntervalMs, config.probeTimeoutMs),
  };
  holder[KEY] = runtime;
  return runtime;
}
