// Builds the dashboard's configuration from etcdctl's environment variables or an ETCD_DASHBOARD_CONFIG file.
import 'server-only';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './config-error';
import {
  configFileSchema,
  envSchema,
  type alertsFileSchema,
  type ConfigFile,
  type snapshotsFileSchema,
  type maintenanceFileSchema,
} from './config-schema';
import { cronProblem } from './cron';
import { parseEndpoint } from './endpoint';
import { loadTlsFiles, type ClientCertificateInfo } from './tls-files';
import type { StoreLocation } from '@/lib/db/store';
import type { TlsCredentials } from '@/lib/etcd/tls-credentials';
import { parseTrustedProxies, type TrustedProxies } from '@/lib/auth/address';
import type { Role } from '@/lib/auth/roles';
import { DEFAULT_THRESHOLDS, type Thresholds } from '@/lib/cluster/thresholds';
import type { Receiver } from './receiver-schema';

export interface ClusterConfig {
  id: string;
  name: string;
  endpoints: string[];
  tls: TlsCredentials | null;
  clientCertificate: ClientCertificateInfo | null;
  /** When the CA certificate (the first in the bundle) expires; null without a CA file. */
  caValidTo: string | null;
  alerts: { thresholds: Thresholds; receivers: Receiver[] };
  /** Member name → plain metrics URL; members not listed are scraped at their mTLS client URL. */
  metricsUrls: Record<string, string>;
  snapshots: SnapshotSettings;
  maintenance: MaintenanceConfig;
}

export interface RestoreTestSettings {
  enabled: boolean;
  schedule: string | null;
  timeBudgetMs: number;
}

export interface MaintenanceConfig {
  pauseBetweenMembersMs: number;
  keepRevisions: number;
  /** 0: no consistency check. */
  consistencyCheckMs: number;
  autoDefragment: {
    schedule: string;
    windowMs: number;
    maxInUseRatio: number;
    minDbSizeBytes: number;
  } | null;
}

/** The defaults: 10 s between members, keep 10 000 revisions, compare the members every 5 minutes, no automatic runs. */
export const DEFAULT_MAINTENANCE_CONFIG: MaintenanceConfig = {
  pauseBetweenMembersMs: 10_000,
  keepRevisions: 10_000,
  consistencyCheckMs: 5 * 60_000,
  autoDefragment: null,
};

export interface SnapshotSettings {
  schedule: string | null;
  restoreTest: RestoreTestSettings;
  retention: { keepLast?: number | undefined; maxAgeDays?: number | undefined };
  offsite: {
    endpoint?: string | undefined;
    region: string;
    bucket: string;
    prefix: string;
    accessKeyId: string;
    /** Read at start from the config or the named file; never logged or returned. */
    secretAccessKey: string;
    forcePathStyle?: boolean | undefined;
  } | null;
}

const DEFAULT_RESTORE_TEST: RestoreTestSettings = { enabled: true, schedule: null, timeBudgetMs: 600_000 };
const NO_SNAPSHOT_SETTINGS: SnapshotSettings = {
  schedule: null,
  restoreTest: DEFAULT_RESTORE_TEST,
  retention: {},
  offsite: null,
};

export interface DashboardConfig {
  /** Where the clusters came from, for the start-up line: "ETCDCTL_* variables" or the file path. */
  source: string;
  pollIntervalMs: number;
  probeTimeoutMs: number;
  /** How often each member's /metrics is scraped; quantiles are over this window. */
  metricsIntervalMs: number;
  /** Absolute path of the folder for the dashboard database. */
  dataDir: string;
  /** Where the dashboard stores: its SQLite file in dataDir, or the PostgreSQL that DATABASE_URL names. */
  database: StoreLocation;
  /** Where snapshot files are kept: SNAPSHOT_DIR, else <dataDir>/snapshots. */
  snapshotDir: string;
  /** DASHBOARD_URL: the public URL, for links in notifications. */
  dashboardUrl: string | null;
  history: { rawRetentionMs: number; rollupRetentionMs: number };
  /** etcd release line → folder of its commands, for restore tests (the config's etcdBinaries, paths resolved). */
  etcdBinaries: Record<string, string>;
  auth: AuthConfig;
  clusters: ClusterConfig[];
}

export interface AuthConfig {
  anonymous: 'off' | 'viewer';
  sessionTtlMs: number;
  /** Local users from the config file; passwords only as scrypt hashes. */
  users: Array<{ username: string; passwordHash: string; role: Role }>;
  /** DASHBOARD_ADMIN_PASSWORD: the password the local user "admin" gets at start. Never logged. */
  adminPassword: string | null;
  trustedProxies: TrustedProxies;
  proxy: { userHeader: string; groupsHeader: string; groupRoles: Record<string, Role> } | null;
}

type FileSettings = Omit<ConfigFile, 'clusters'>;
type Env = ReturnType<typeof envSchema.parse>;

export const DEFAULT_POLL_INTERVAL_MS = 1000;

/** Why replicas on PostgreSQL take no snapshot without an off-site copy: the refusal's text, at start and per request. */
export const LOCAL_ONLY_SNAPSHOTS =
  'snapshots.offsite is not set: with DATABASE_URL (replicas sharing PostgreSQL) a snapshot file stays on the disk of ' +
  'the replica that took it, where the other replicas cannot read it and it is lost with that host; add snapshots.offsite (S3)';
export const DEFAULT_PROBE_TIMEOUT_MS = 800;
export const DEFAULT_METRICS_INTERVAL_MS = 5000;
export const DEFAULT_RAW_RETENTION_HOURS = 24;
export const DEFAULT_ROLLUP_RETENTION_DAYS = 30;
export const DEFAULT_SESSION_TTL_HOURS = 12;

function issuePath(p: ReadonlyArray<PropertyKey>): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`)).join('');
}

function firstIssue(error: z.ZodError, where: string): ConfigError {
  // A misspelt key also shows up as a missing one: name the misspelling, it is the actual mistake.
  const issue = error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0];
  if (!issue) return new ConfigError(`${where}: invalid`);
  const at = issuePath(issue.path);
  return new ConfigError(`${where}${at ? `: ${at}` : ''}: ${issue.message}`);
}

function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(/*turbopackIgnore: true*/ file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `ETCD_DASHBOARD_CONFIG: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')}`,
    );
  }
  let raw: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    raw = parseYaml(text, { prettyErrors: false });
  } catch (err) {
    const line = (err as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    throw new ConfigError(`${file}${line ? `:${line}` : ''}: not valid YAML or JSON`);
  }
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) throw firstIssue(parsed.error, file);
  return parsed.data;
}

function fromFile(file: string, now: Date): { source: string; settings: FileSettings; clusters: ClusterConfig[] } {
  const abs = path.resolve(file);
  const data = readConfigFile(abs);
  const base = path.dirname(abs);
  const resolve = (p: string | undefined) => (p ? path.resolve(base, p) : undefined);
  const seen = new Set<string>();
  const clusters = data.clusters.map((c, i): ClusterConfig => {
    const at = `${abs}: clusters[${i}]`;
    if (seen.has(c.id)) throw new ConfigError(`${at}.id: "${c.id}" is used by another cluster`);
    seen.add(c.id);
    const tlsPaths = { ca: resolve(c.tls?.ca), cert: resolve(c.tls?.cert), key: resolve(c.tls?.key) };
    const tls = c.tls
      ? loadTlsFiles(tlsPaths, { ca: `${at}.tls.ca`, cert: `${at}.tls.cert`, key: `${at}.tls.key` }, now)
      : null;
    const endpoints = c.endpoints.map((e, j) => parseEndpoint(e, `${at}.endpoints[${j}]`, tls !== null));
    return {
      id: c.id,
      name: c.name ?? c.id,
      endpoints,
      tls: tls?.credentials ?? null,
      clientCertificate: tls?.client ?? null,
      caValidTo: tls?.caValidTo ?? null,
      alerts: alertSettings(c.alerts, `${at}.alerts`),
      metricsUrls: Object.fromEntries(
        Object.entries(c.metricsUrls ?? {}).map(([member, url]) => [member, metricsUrl(url)]),
      ),
      snapshots: snapshotSettings(c.snapshots, `${at}.snapshots`, base),
      maintenance: maintenanceSettings(c.maintenance, `${at}.maintenance`),
    };
  });
  const { clusters: _clusters, ...settings } = data;
  return { source: abs, settings, clusters };
}

/** Warning levels that must lie below their critical ones: [warning, critical, compare as "fewer is worse"]. */
const LEVEL_PAIRS: Array<[keyof Thresholds, keyof Thresholds, boolean]> = [
  ['walFsyncP99WarnMs', 'walFsyncP99CritMs', false],
  ['backendCommitP99WarnMs', 'backendCommitP99CritMs', false],
  ['dbQuotaWarnRatio', 'dbQuotaCritRatio', false],
  ['certWarnDays', 'certCritDays', true],
];

/** The cluster's thresholds over the defaults, each warning below its critical level, and receivers named once. */
function alertSettings(raw: z.infer<typeof alertsFileSchema> | undefined, at: string): ClusterConfig['alerts'] {
  const thresholds: Thresholds = {
    ...DEFAULT_THRESHOLDS,
    ...raw?.thresholds,
    forSeconds: { ...raw?.thresholds?.forSeconds },
  };
  for (const [warn, crit, fewerIsWorse] of LEVEL_PAIRS) {
    const w = thresholds[warn] as number;
    const c = thresholds[crit] as number;
    if (fewerIsWorse ? w <= c : w >= c) {
      throw new ConfigError(
        `${at}.thresholds.${warn}: ${w} must be ${fewerIsWorse ? 'above' : 'below'} ${crit} (${c}` +
          `${raw?.thresholds?.[crit] === undefined ? ', the default' : ''}), or every breach is critical at once`,
      );
    }
  }
  const receivers = raw?.receivers ?? [];
  receivers.forEach((r, j) => {
    const first = receivers.findIndex((other) => other.name === r.name);
    if (first !== j) throw new ConfigError(`${at}.receivers[${j}].name: "${r.name}" is already receivers[${first}]'s`);
  });
  return { thresholds, receivers };
}

function maintenanceSettings(raw: z.infer<typeof maintenanceFileSchema> | undefined, at: string): MaintenanceConfig {
  const d = DEFAULT_MAINTENANCE_CONFIG;
  if (!raw) return d;
  let autoDefragment: MaintenanceConfig['autoDefragment'] = null;
  if (raw.autoDefragment) {
    const a = raw.autoDefragment;
    const problem = cronProblem(a.schedule);
    if (problem) {
      throw new ConfigError(`${at}.autoDefragment.schedule: "${a.schedule}" is not a cron schedule (${problem})`);
    }
    autoDefragment = {
      schedule: a.schedule,
      windowMs: (a.windowMinutes ?? 60) * 60_000,
      maxInUseRatio: a.maxInUseRatio ?? 0.55,
      minDbSizeBytes: a.minDbSizeBytes ?? 100 * 1000 * 1000,
    };
  }
  return {
    pauseBetweenMembersMs:
      raw.pauseBetweenMembersSeconds !== undefined ? raw.pauseBetweenMembersSeconds * 1000 : d.pauseBetweenMembersMs,
    keepRevisions: raw.keepRevisions ?? d.keepRevisions,
    consistencyCheckMs:
      raw.consistencyCheckMinutes !== undefined ? raw.consistencyCheckMinutes * 60_000 : d.consistencyCheckMs,
    autoDefragment,
  };
}

function snapshotSettings(
  raw: z.infer<typeof snapshotsFileSchema> | undefined,
  at: string,
  base: string,
): SnapshotSettings {
  if (!raw) return NO_SNAPSHOT_SETTINGS;
  if (raw.schedule !== undefined) {
    const problem = cronProblem(raw.schedule);
    if (problem) throw new ConfigError(`${at}.schedule: "${raw.schedule}" is not a cron schedule (${problem})`);
  }
  let offsite: SnapshotSettings['offsite'] = null;
  if (raw.offsite) {
    const o = raw.offsite;
    if (Boolean(o.secretAccessKey) === Boolean(o.secretAccessKeyFile)) {
      throw new ConfigError(`${at}.offsite: give exactly one of secretAccessKey and secretAccessKeyFile`);
    }
    let secret = o.secretAccessKey ?? '';
    if (o.secretAccessKeyFile) {
      const file = path.resolve(base, o.secretAccessKeyFile);
      try {
        secret = readFileSync(/*turbopackIgnore: true*/ file, 'utf8').trim();
      } catch (err) {
        throw new ConfigError(
          `${at}.offsite.secretAccessKeyFile: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
        );
      }
      if (!secret) throw new ConfigError(`${at}.offsite.secretAccessKeyFile: ${file} is empty`);
    }
    offsite = {
      endpoint: o.endpoint,
      region: o.region,
      bucket: o.bucket,
      prefix: o.prefix,
      accessKeyId: o.accessKeyId,
      secretAccessKey: secret,
      forcePathStyle: o.forcePathStyle,
    };
  }
  let restoreTest = DEFAULT_RESTORE_TEST;
  if (raw.restoreTest) {
    const r = raw.restoreTest;
    if (r.schedule !== undefined) {
      const problem = cronProblem(r.schedule);
      if (problem)
        throw new ConfigError(`${at}.restoreTest.schedule: "${r.schedule}" is not a cron schedule (${problem})`);
    }
    restoreTest = {
      enabled: r.enabled ?? true,
      schedule: r.schedule ?? null,
      timeBudgetMs: (r.timeBudgetSeconds ?? 600) * 1000,
    };
  }
  return { schedule: raw.schedule ?? null, restoreTest, retention: raw.retention ?? {}, offsite };
}

/** A bare http://host:2381 means its /metrics. */
function metricsUrl(url: string): string {
  const u = new URL(url);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/metrics';
  return u.toString();
}

function fromEtcdctlEnv(env: Env, now: Date): { source: string; settings: FileSettings; clusters: ClusterConfig[] } {
  const list = env.ETCDCTL_ENDPOINTS;
  if (!list) {
    throw new ConfigError(
      'no cluster configured: set ETCDCTL_ENDPOINTS (with ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY) or ETCD_DASHBOARD_CONFIG',
    );
  }
  const anyTls = Boolean(env.ETCDCTL_CACERT || env.ETCDCTL_CERT || env.ETCDCTL_KEY);
  const tls = anyTls
    ? loadTlsFiles(
        { ca: env.ETCDCTL_CACERT, cert: env.ETCDCTL_CERT, key: env.ETCDCTL_KEY },
        { ca: 'ETCDCTL_CACERT', cert: 'ETCDCTL_CERT', key: 'ETCDCTL_KEY' },
        now,
      )
    : null;
  const endpoints = list.split(',').map((e, i) => parseEndpoint(e, `ETCDCTL_ENDPOINTS[${i}]`, anyTls));
  return {
    source: 'ETCDCTL_* variables',
    settings: {},
    clusters: [
      {
        id: 'default',
        name: 'default',
        endpoints,
        tls: tls?.credentials ?? null,
        clientCertificate: tls?.client ?? null,
        caValidTo: tls?.caValidTo ?? null,
        alerts: { thresholds: DEFAULT_THRESHOLDS, receivers: [] },
        metricsUrls: {},
        snapshots: NO_SNAPSHOT_SETTINGS,
        maintenance: DEFAULT_MAINTENANCE_CONFIG,
      },
    ],
  };
}

function trustedProxies(list: string | undefined): TrustedProxies {
  try {
    return parseTrustedProxies(list ?? '');
  } catch (err) {
    throw new ConfigError(`DASHBOARD_TRUSTED_PROXIES: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Throws ConfigError with one line naming what is wrong; never falls back silently. */
export function loadConfig(
  rawEnv: Record<string, string | undefined> = process.env,
  now = new Date(),
): DashboardConfig {
  const parsed = envSchema.safeParse(rawEnv);
  if (!parsed.success) throw firstIssue(parsed.error, 'environment');
  const env = parsed.data;
  const { source, settings, clusters } = env.ETCD_DASHBOARD_CONFIG
    ? fromFile(env.ETCD_DASHBOARD_CONFIG, now)
    : fromEtcdctlEnv(env, now);
  // The environment wins over the file, the file over the defaults.
  const config: DashboardConfig = {
    source,
    pollIntervalMs: env.ETCD_DASHBOARD_POLL_INTERVAL_MS ?? settings.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    probeTimeoutMs: env.ETCD_DASHBOARD_PROBE_TIMEOUT_MS ?? settings.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    metricsIntervalMs:
      env.ETCD_DASHBOARD_METRICS_INTERVAL_MS ?? settings.metricsIntervalMs ?? DEFAULT_METRICS_INTERVAL_MS,
    dataDir: path.resolve(/*turbopackIgnore: true*/ env.DATA_DIR ?? 'data'),
    database: env.DATABASE_URL
      ? { engine: 'postgresql', url: env.DATABASE_URL }
      : {
          engine: 'sqlite',
          file: path.join(path.resolve(/*turbopackIgnore: true*/ env.DATA_DIR ?? 'data'), 'dashboard.sqlite'),
        },
    snapshotDir: path.resolve(
      /*turbopackIgnore: true*/ env.SNAPSHOT_DIR ?? path.join(env.DATA_DIR ?? 'data', 'snapshots'),
    ),
    dashboardUrl: env.DASHBOARD_URL ?? null,
    history: {
      rawRetentionMs:
        (env.HISTORY_RAW_RETENTION_HOURS ?? settings.history?.rawRetentionHours ?? DEFAULT_RAW_RETENTION_HOURS) *
        3_600_000,
      rollupRetentionMs:
        (env.HISTORY_ROLLUP_RETENTION_DAYS ?? settings.history?.rollupRetentionDays ?? DEFAULT_ROLLUP_RETENTION_DAYS) *
        86_400_000,
    },
    etcdBinaries: Object.fromEntries(
      Object.entries(settings.etcdBinaries ?? {}).map(([line, dir]) => [
        line,
        path.resolve(source.startsWith('/') ? path.dirname(source) : '.', dir),
      ]),
    ),
    auth: {
      anonymous: env.DASHBOARD_ANONYMOUS ?? settings.auth?.anonymous ?? 'off',
      sessionTtlMs: (settings.auth?.sessionTtlHours ?? DEFAULT_SESSION_TTL_HOURS) * 3_600_000,
      users: settings.auth?.users ?? [],
      adminPassword: env.DASHBOARD_ADMIN_PASSWORD ?? null,
      trustedProxies: trustedProxies(env.DASHBOARD_TRUSTED_PROXIES),
      proxy: settings.auth?.proxy ?? null,
    },
    clusters,
  };
  if (config.auth.proxy && config.auth.trustedProxies.entries.length === 0) {
    throw new ConfigError(
      `${source}: auth.proxy is set but DASHBOARD_TRUSTED_PROXIES is empty: no proxy's headers would be believed`,
    );
  }
  if (config.probeTimeoutMs > config.pollIntervalMs * 10) {
    throw new ConfigError(`probe timeout ${config.probeTimeoutMs} ms is more than 10 poll intervals; lower it`);
  }
  if (config.database.engine === 'postgresql') {
    const local = config.clusters.find((c) => c.snapshots.schedule !== null && c.snapshots.offsite === null);
    if (local) throw new ConfigError(`${source}: cluster "${local.id}": ${LOCAL_ONLY_SNAPSHOTS}`);
  }
  return config;
}
