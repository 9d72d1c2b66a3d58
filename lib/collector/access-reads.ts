// What etcd lets the dashboard's own etcd user do on a cluster, read at most once a minute per cluster.
import 'server-only';
import { lowestVersion } from '@/lib/cluster/etcd-version';
import { featureAccess, type ClusterAccess } from '@/lib/cluster/etcd-features';
import { certificateUser, readEtcdAccess } from '@/lib/etcd/etcd-access';
import { createMemberClient } from '@/lib/etcd/member-client';
import { scrapeMetrics } from '@/lib/etcd/metrics-scrape';
import type { ClusterReads } from './cluster-reads';

/** Auth changes are rare; UserGet goes through raft, so it is not asked on every page view. */
const FRESH_MS = 60_000;
const TIMEOUT_MS = 3000;

/** etcd's /version ({"etcdserver":"3.5.30",...}) needs no etcd user: the release when Status is refused. */
async function versionOf(endpoint: string, tls: Parameters<typeof scrapeMetrics>[1]): Promise<string | null> {
  const res = await scrapeMetrics(`${endpoint.replace(/\/+$/, '')}/version`, tls, TIMEOUT_MS);
  if (!res.ok) return null;
  try {
    const body = JSON.parse(res.text) as { etcdserver?: unknown };
    return typeof body.etcdserver === 'string' ? body.etcdserver : null;
  } catch {
    return null;
  }
}

async function read(clusters: Pick<ClusterReads, 'collector'>, clusterId: string, now: number): Promise<ClusterAccess> {
  const collector = clusters.collector(clusterId);
  const cluster = collector.cluster;
  const members = collector.current()?.members ?? [];
  const answering = members.filter((m) => m.endpoint && m.health === 'healthy').map((m) => m.endpoint as string);
  const endpoints = [...new Set([...answering, ...cluster.endpoints])];
  const user = certificateUser(cluster.tls?.cert ?? null);
  let failure = 'no endpoint answered';
  for (const endpoint of endpoints) {
    const client = createMemberClient({ endpoint, tls: cluster.tls, timeoutMs: TIMEOUT_MS });
    try {
      const reading = await readEtcdAccess(client, user);
      if (reading.failure && reading.failure.kind !== 'error' && reading.failure.kind !== 'permission-denied') {
        failure = `${endpoint}: ${reading.failure.message}`;
        continue;
      }
      const { failure: readFailure, ...access } = reading;
      const version = lowestVersion(members.map((m) => m.status?.version)) ?? (await versionOf(endpoint, cluster.tls));
      return {
        clusterId,
        readAt: new Date(now).toISOString(),
        endpoint,
        version,
        access,
        features: featureAccess(access, version),
        failure: readFailure ? `${endpoint}: ${readFailure.message}` : null,
      };
    } finally {
      client.close();
    }
  }
  return {
    clusterId,
    readAt: new Date(now).toISOString(),
    endpoint: null,
    version: null,
    access: null,
    features: [],
    failure,
  };
}

/** Each cluster's access reading, at most FRESH_MS old; concurrent callers share one reading. */
export class ClusterAccessReader {
  private readonly entries = new Map<string, { at: number; value: Promise<ClusterAccess> }>();

  constructor(private readonly clusters: Pick<ClusterReads, 'collector'>) {}

  read(clusterId: string, now = Date.now()): Promise<ClusterAccess> {
    const hit = this.entries.get(clusterId);
    if (hit && now - hit.at < FRESH_MS) return hit.value;
    const value = read(this.clusters, clusterId, now);
    this.entries.set(clusterId, { at: now, value });
    // A failed read (unknown cluster) is not kept.
    value.catch(() => this.entries.delete(clusterId));
    return value;
  }
}
