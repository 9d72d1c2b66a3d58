// Writes an ETCD_DASHBOARD_CONFIG file for local clusters, with certificate paths relative to the file's folder
// as an operator would write them.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { z } from 'zod';
import type { LocalClusterState } from '../../scripts/lib/local-cluster';
import type { authFileSchema } from '../../lib/config/config-schema';

export interface ClusterEntry {
  id: string;
  name: string;
  cluster: LocalClusterState;
  metricsUrls?: Record<string, string>;
  /** The cluster's `alerts` section (receivers, thresholds) as written in the file. */
  alerts?: Record<string, unknown>;
  /** The cluster's `snapshots` section (schedule, retention, offsite) as written in the file. */
  snapshots?: Record<string, unknown>;
  /** The cluster's `maintenance` section (pause between members, …) as written in the file. */
  maintenance?: Record<string, unknown>;
}

/** The config file's `auth` section as an operator writes it (users with scrypt hashes, proxy, anonymous). */
export type AuthSection = z.input<typeof authFileSchema>;

export function writeDashboardConfig(file: string, entries: ClusterEntry[], auth?: AuthSection): string {
  const rel = (p: string) => path.relative(path.dirname(file), p);
  writeFileSync(
    file,
    stringify({
      ...(auth ? { auth } : {}),
      clusters: entries.map((e) => ({
        id: e.id,
        name: e.name,
        endpoints: e.cluster.members.map((m) => m.clientUrl),
        tls: { ca: rel(e.cluster.caCert), cert: rel(e.cluster.clientCert), key: rel(e.cluster.clientKey) },
        ...(e.metricsUrls ? { metricsUrls: e.metricsUrls } : {}),
        ...(e.alerts ? { alerts: e.alerts } : {}),
        ...(e.snapshots ? { snapshots: e.snapshots } : {}),
        ...(e.maintenance ? { maintenance: e.maintenance } : {}),
      })),
    }),
  );
  return file;
}
