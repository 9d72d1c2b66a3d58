// The shape of the ETCD_DASHBOARD_CONFIG file (YAML or JSON) and of the dashboard's environment variables.
import { z } from 'zod';
import { RULE_NAMES } from '@/lib/cluster/thresholds';
import { receiverSchema } from './receiver-schema';

export const CLUSTER_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const interval = z.number().int().min(250).max(60_000);
const timeout = z.number().int().min(100).max(30_000);
const metricsInterval = z.number().int().min(1000).max(300_000);
const rawRetentionHours = z
  .number()
  .min(1)
  .max(24 * 7);
const rollupRetentionDays = z.number().min(1).max(400);

export const snapshotsFileSchema = z.strictObject({
  /** Cron syntax (5 or 6 fields); no schedule means snapshots are taken only by hand or through the API. */
  schedule: z.string().trim().min(1).optional(),
  /** Restore tests: each verified snapshot restored into a scratch etcd of the cluster's version and compared. */
  restoreTest: z
    .strictObject({
      /** After every verified snapshot (default true). */
      enabled: z.boolean().optional(),
      /** Cron syntax: also test the newest verified snapshot (and its off-site copy) on this schedule. */
      schedule: z.string().trim().min(1).optional(),
      /** The whole test's budget (default 600 s). */
      timeBudgetSeconds: z.number().int().min(10).max(86_400).optional(),
    })
    .optional(),
  retention: z
    .strictObject({
      keepLast: z.number().int().min(1).max(100_000).optional(),
      maxAgeDays: z.number().positive().max(3650).optional(),
    })
    .optional(),
  /** S3-compatible object storage for a copy of every verified snapshot. */
  offsite: z
    .strictObject({
      endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
      region: z.string().min(1).default('us-east-1'),
      bucket: z.string().min(3).max(63),
      prefix: z.string().default(''),
      accessKeyId: z.string().min(1),
      /** Prefer secretAccessKeyFile: a secret in a config file is one more copy of it. */
      secretAccessKey: z.string().min(1).optional(),
      secretAccessKeyFile: z.string().min(1).optional(),
      forcePathStyle: z.boolean().optional(),
    })
    .optional(),
});

export const maintenanceFileSchema = z.strictObject({
  /** Pause between two members' defragments in a rolling run (OpenShift's operator waits 36 s). */
  pauseBetweenMembersSeconds: z.number().min(0).max(3600).optional(),
  /** A compaction without a revision keeps this many of the newest revisions. */
  keepRevisions: z.number().int().min(0).max(1_000_000_000).optional(),
  /** How often the members' data is compared (HashKV at one revision); 0 turns the check off. */
  consistencyCheckMinutes: z.number().min(0).max(1440).optional(),
  /** Automatic defragmentation: off unless given. */
  autoDefragment: z
    .strictObject({
      /** Cron syntax: when a window opens; a run starts only inside its window. */
      schedule: z.string().trim().min(1),
      windowMinutes: z.number().int().min(1).max(1440).optional(),
      /** Defragment a member whose in-use / total is below this (OpenShift: 0.55, i.e. 45 % fragmentation). */
      maxInUseRatio: z.number().gt(0).lt(1).optional(),
      /** …and whose database is at least this large (OpenShift: 100 MB). */
      minDbSizeBytes: z.number().int().min(0).optional(),
    })
    .optional(),
});

const positive = z.number().positive();
export const alertsFileSchema = z.strictObject({
  /** Where alerts go: webhooks, Slack-compatible incoming webhooks, Alertmanager. */
  receivers: z.array(receiverSchema).optional(),
  thresholds: z
    .strictObject({
      walFsyncP99WarnMs: positive.optional(),
      walFsyncP99CritMs: positive.optional(),
      backendCommitP99WarnMs: positive.optional(),
      backendCommitP99CritMs: positive.optional(),
      peerRttP99WarnMs: positive.optional(),
      leaderChangesIn15m: z.number().int().min(1).optional(),
      dbQuotaWarnRatio: z.number().gt(0).lt(1).optional(),
      dbQuotaCritRatio: z.number().gt(0).lt(1).optional(),
      dbGrowthHoursToQuota: positive.optional(),
      fragmentationRatio: z.number().gt(0).lt(1).optional(),
      fragmentationMinInUseBytes: z.number().int().min(0).optional(),
      snapshotMaxAgeHours: positive.optional(),
      restoreTestMaxAgeHours: positive.optional(),
      certWarnDays: positive.optional(),
      certCritDays: positive.optional(),
      /** Seconds a condition must hold before it fires, per rule name. */
      forSeconds: z.partialRecord(z.enum(RULE_NAMES), z.number().min(0).max(86_400)).optional(),
    })
    .optional(),
});

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
  snapshots: snapshotsFileSchema.optional(),
  maintenance: maintenanceFileSchema.optional(),
  alerts: alertsFileSchema.optional(),
  metricsUrls: z
    .record(z.string().min(1), z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }))
    .optional(),
});

const role = z.enum(['viewer', 'operator', 'admin']);

export const authFileSchema = z.strictObject({
  /** "viewer" lets anyone who reaches the dashboard look without signing in (a NOC screen); never more. */
  anonymous: z.enum(['off', 'viewer']).optional(),
  sessionTtlHours: z
    .number()
    .min(0.25)
    .max(24 * 30)
    .optional(),
  users: z
    .array(
      z.strictObject({
        username: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'must be 1–64 letters, digits, ".", "_", "@" or "-"'),
        passwordHash: z
          .string()
          .regex(/^scrypt\$/, 'must be a hash made by `npm run hash-password` (never a plain password)'),
        role,
      }),
    )
    .optional(),
  /** Identity from a trusted reverse proxy (the oauth2-proxy pattern); believed only from DASHBOARD_TRUSTED_PROXIES. */
  proxy: z
    .strictObject({
      userHeader: z.string().min(1).default('X-Forwarded-User'),
      groupsHeader: z.string().min(1).default('X-Forwarded-Groups'),
      /** Group → role; a user gets the highest role of their groups, and no access without a mapped group. */
      groupRoles: z.record(z.string().min(1), role),
    })
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
  auth: authFileSchema.optional(),
  /** etcd release line ("3.6") → the folder with that release's etcd, etcdctl and etcdutl, for restore tests. */
  etcdBinaries: z
    .record(z.string().regex(/^3\.\d+$/, 'must be an etcd release line such as "3.6"'), z.string().min(1))
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
  DASHBOARD_ANONYMOUS: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['off', 'viewer'], { error: 'must be "off" or "viewer"' }).optional(),
  ),
  DASHBOARD_ADMIN_PASSWORD: z.preprocess(
    (v) => (v === '' ? undefined : v),
    // The message never repeats the value: it is a password.
    z.string().min(12, 'must be at least 12 characters').max(1024, 'must be at most 1024 characters').optional(),
  ),
  DASHBOARD_TRUSTED_PROXIES: optionalText,
  SNAPSHOT_DIR: optionalText,
  /** The dashboard's public URL, for links in alert notifications. */
  DASHBOARD_URL: optionalText,
  /** postgres://… : the shared store for replicas; unset, the dashboard keeps its SQLite file in DATA_DIR. */
  DATABASE_URL: z.preprocess((v) => (v === '' ? undefined : v), z.string().superRefine(postgresUrlProblem).optional()),
});

/** The messages name what is wrong without repeating the URL: it may carry a password. */
function postgresUrlProblem(value: string, ctx: z.RefinementCtx): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not a URL; expected postgres://user:password@host:5432/database' });
    return;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    ctx.addIssue({
      code: 'custom',
      message: `must start with postgres:// or postgresql://, not ${JSON.stringify(url.protocol.slice(0, 20))}`,
    });
    return;
  }
  if (!url.hostname && !url.searchParams.get('host')) {
    ctx.addIssue({ code: 'custom', message: 'names no host; expected postgres://user:password@host:5432/database' });
  }
  if (url.pathname.replace(/^\//, '') === '') {
    ctx.addIssue({
      code: 'custom',
      message: 'names no database; expected postgres://user:password@host:5432/database',
    });
  }
}

export type DashboardEnv = z.infer<typeof envSchema>;
