// The shape of the ETCD_DASHBOARD_CONFIG file (YAML or JSON) and of the dashboard's environment variables.
import { z } from 'zod';

export const CLUSTER_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const interval = z.number().int().min(250).max(60_000);
const timeout = z.number().int().min(100).max(30_000);
const metricsInterval = z.number().int().min(1000).max(300_000);
const rawRetentionHours = z
  .number()
  .min(1)
  .max(24 * 7);
const rollupRetentionDays = z.number().min(1).max(400);

export const clusterFileEntrySchema = z.strictObject({
  id: z.string().regex(CLUSTER_ID, 'must be lowercase letters, digits and dashes (like a Kubernetes name)'),
  name: z.string().trim().min(1).max(100).optional(),
  endpoints: z.array(z.string()).min(1, 'needs at least one endpoint'),
  tls: z
    .strictObject({
      ca: z.string().min(1).optional(),
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
    })
    .optional(),
  /** Member name → a plain-HTTP metrics URL (kubeadm serves one on :2381); otherwise the mTLS client URL is used. */
  metricsUrls: z
    .record(z.string().min(1), z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }))
    .optional(),
});

export const configFileSchema = z.strictObject({
  pollIntervalMs: interval.optional(),
  probeTimeoutMs: timeout.optional(),
  metricsIntervalMs: metricsInterval.optional(),
  history: z
    .strictObject({
      rawRetentionHours: rawRetentionHours.optional(),
      rollupRetentionDays: rollupRetentionDays.optional(),
    })
    .optional(),
  clusters: z.array(clusterFileEntrySchema).min(1, 'needs at least one cluster'),
});

export type ConfigFile = z.infer<typeof configFileSchema>;

// An empty variable counts as unset, as it does for etcdctl.
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const optionalNumber = (schema: z.ZodNumber) =>
  z.preprocess((v) => (v === '' || v === undefined ? undefined : Number(v)), schema.optional());

export const envSchema = z.object({
  ETCD_DASHBOARD_CONFIG: optionalText,
  ETCDCTL_ENDPOINTS: optionalText,
  ETCDCTL_CACERT: optionalText,
  ETCDCTL_CERT: optionalText,
  ETCDCTL_KEY: optionalText,
  ETCD_DASHBOARD_POLL_INTERVAL_MS: optionalNumber(interval),
  ETCD_DASHBOARD_PROBE_TIMEOUT_MS: optionalNumber(timeout),
  ETCD_DASHBOARD_METRICS_INTERVAL_MS: optionalNumber(metricsInterval),
  DATA_DIR: optionalText,
  HISTORY_RAW_RETENTION_HOURS: optionalNumber(rawRetentionHours),
  HISTORY_ROLLUP_RETENTION_DAYS: optionalNumber(rollupRetentionDays),
});

export type DashboardEnv = z.infer<typeof envSchema>;
