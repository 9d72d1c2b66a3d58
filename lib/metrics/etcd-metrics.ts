// Reads the health signals out of a member's /metrics text and turns two scrapes into a window's p99s and increases.
import 'server-only';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { histogramDelta, histogramQuantile, type Histogram } from './histogram';

export interface EtcdMetricsScrape {
  /** When the text was fetched, ms since the epoch. */
  at: number;
  walFsync: Histogram | null;
  backendCommit: Histogram | null;
  /** Keyed by label To, the peer's hex id; empty on a single member or before the first probe. */
  peerRtt: Record<string, Histogram>;
  leaderChangesSeen: number | null;
  proposalsFailed: number | null;
  proposalsPending: number | null;
  hasLeader: boolean | null;
  isLeader: boolean | null;
  quotaBackendBytes: number | null;
  /** A defragmentation is running (etcd 3.4.18+, 3.5.2+); null where the member does not export it. */
  defragInflight: boolean | null;
}

export interface EtcdMetricsSample {
  walFsyncP99Ms: number | null;
  backendCommitP99Ms: number | null;
  peerRttP99Ms: Record<string, number>;
  worstPeerRttP99Ms: number | null;
  /** Increase since the previous scrape, reset-aware. */
  leaderChanges: number | null;
  /** Increase since the previous scrape, reset-aware. */
  proposalsFailed: number | null;
  proposalsPending: number | null;
  hasLeader: boolean | null;
  quotaBackendBytes: number | null;
  defragInflight: boolean | null;
  /** A counter or histogram went down between the scrapes: the member restarted. */
  counterReset: boolean;
}

const WAL_FSYNC = 'etcd_disk_wal_fsync_duration_seconds';
const BACKEND_COMMIT = 'etcd_disk_backend_commit_duration_seconds';
const PEER_RTT = 'etcd_network_peer_round_trip_time_seconds';
const LEADER_CHANGES = 'etcd_server_leader_changes_seen_total';
const PROPOSALS_FAILED = 'etcd_server_proposals_failed_total';
const PROPOSALS_PENDING = 'etcd_server_proposals_pending';
const HAS_LEADER = 'etcd_server_has_leader';
const IS_LEADER = 'etcd_server_is_leader';
const QUOTA_BACKEND_BYTES = 'etcd_server_quota_backend_bytes';
const DEFRAG_INFLIGHT = 'etcd_disk_defrag_inflight';

const HISTOGRAMS = new Set([WAL_FSYNC, BACKEND_COMMIT, PEER_RTT]);
const SCALARS = new Set([
  LEADER_CHANGES,
  PROPOSALS_FAILED,
  PROPOSALS_PENDING,
  HAS_LEADER,
  IS_LEADER,
  QUOTA_BACKEND_BYTES,
  DEFRAG_INFLIGHT,
]);
const HISTOGRAM_SUFFIX = /_(?:bucket|sum|count)$/;

/** The family a line belongs to when it is one we read, else null. */
function wantedFamily(line: string): string | null {
  let name: string | undefined;
  if (line.startsWith('#')) {
    name = /^#\s+(?:HELP|TYPE)\s+(\S+)/.exec(line)?.[1];
  } else {
    const end = line.search(/[{\s]/);
    name = end === -1 ? line : line.slice(0, end);
  }
  if (name === undefined) return null;
  if (SCALARS.has(name) || HISTOGRAMS.has(name)) return name;
  const base = name.replace(HISTOGRAM_SUFFIX, '');
  return base !== name && HISTOGRAMS.has(base) ? base : null;
}

/**
 * Parses each wanted family on its own, so one malformed family costs only itself.
 * Histograms go in without their # TYPE line: parse-prometheus-text-format 1.1.1 merges the series of a
 * labelled histogram into one bucket map and drops their _sum and _count (yunyu/parse-prometheus-text-format#13),
 * so their samples are read as untyped and regrouped here.
 */
function parseWantedFamilies(text: string): Map<string, PrometheusFamily[]> {
  const lines = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const family = wantedFamily(line);
    if (family === null) continue;
    if (HISTOGRAMS.has(family) && /^#\s+TYPE\s/.test(line)) continue;
    const list = lines.get(family);
    if (list) list.push(line);
    else lines.set(family, [line]);
  }
  const parsed = new Map<string, PrometheusFamily[]>();
  for (const [family, familyLines] of lines) {
    try {
      // The trailing newline matters: the parser drops the sample on the text's last line.
      parsed.set(family, parsePrometheusTextFormat(familyLines.join('\n') + '\n'));
    } catch {
      // A line the parser cannot read: the family counts as missing.
    }
  }
  return parsed;
}

/** A sample value as the exposition format writes it; null when it is not a finite number. */
function finite(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function upperBound(le: string): number | null {
  if (le === '+Inf' || le === 'Inf') return Infinity;
  return finite(le);
}

/**
 * The histogram's series, keyed by the value of `seriesLabel` ('' without one). Series that share a key are
 * added up bucket by bucket, as `sum by (le)` would.
 */
function readHistograms(
  families: PrometheusFamily[],
  base: string,
  seriesLabel: string | null,
): Map<string, Histogram> {
  const series = new Map<string, { buckets: Map<number, number>; sum: number; count: number | null }>();
  const entry = (labels: Record<string, string> | undefined) => {
    const key = seriesLabel === null ? '' : (labels?.[seriesLabel] ?? '');
    let s = series.get(key);
    if (!s) series.set(key, (s = { buckets: new Map(), sum: 0, count: null }));
    return s;
  };
  for (const family of families) {
    for (const sample of family.metrics) {
      const value = finite(sample.value);
      if (value === null) continue;
      if (family.name === `${base}_bucket`) {
        const le = upperBound(sample.labels?.le ?? '');
        if (le === null) continue;
        const s = entry(sample.labels);
        s.buckets.set(le, (s.buckets.get(le) ?? 0) + value);
      } else if (family.name === `${base}_sum`) {
        entry(sample.labels).sum += value;
      } else if (family.name === `${base}_count`) {
        const s = entry(sample.labels);
        s.count = (s.count ?? 0) + value;
      }
    }
  }
  const histograms = new Map<string, Histogram>();
  for (const [key, s] of series) {
    if (s.buckets.size === 0) continue;
    const buckets = [...s.buckets].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
    histograms.set(key, { buckets, sum: s.sum, count: s.count ?? s.buckets.get(Infinity) ?? 0 });
  }
  return histograms;
}

function readScalar(families: PrometheusFamily[] | undefined, name: string, kind: 'counter' | 'gauge'): number | null {
  const samples = families?.find((f) => f.name === name)?.metrics ?? [];
  if (kind === 'counter') {
    // A counter's total is the sum of its series.
    const values = samples.map((s) => finite(s.value)).filter((v) => v !== null);
    return values.length === 0 ? null : values.reduce((a, b) => a + b, 0);
  }
  const sample = samples.find((s) => s.labels === undefined) ?? samples[0];
  return finite(sample?.value);
}

export function parseEtcdMetrics(text: string, at: number): EtcdMetricsScrape {
  const families = parseWantedFamilies(text);
  const histogram = (name: string): Histogram | null =>
    readHistograms(families.get(name) ?? [], name, null).get('') ?? null;
  const flag = (name: string): boolean | null => {
    const v = readScalar(families.get(name), name, 'gauge');
    return v === null ? null : v > 0;
  };
  return {
    at,
    walFsync: histogram(WAL_FSYNC),
    backendCommit: histogram(BACKEND_COMMIT),
    peerRtt: Object.fromEntries(readHistograms(families.get(PEER_RTT) ?? [], PEER_RTT, 'To')),
    leaderChangesSeen: readScalar(families.get(LEADER_CHANGES), LEADER_CHANGES, 'counter'),
    proposalsFailed: readScalar(families.get(PROPOSALS_FAILED), PROPOSALS_FAILED, 'counter'),
    proposalsPending: readScalar(families.get(PROPOSALS_PENDING), PROPOSALS_PENDING, 'gauge'),
    hasLeader: flag(HAS_LEADER),
    isLeader: flag(IS_LEADER),
    quotaBackendBytes: readScalar(families.get(QUOTA_BACKEND_BYTES), QUOTA_BACKEND_BYTES, 'gauge'),
    defragInflight: flag(DEFRAG_INFLIGHT),
  };
}

interface Windowed<T> {
  value: T | null;
  reset: boolean;
}

/** p99 of the observations between the scrapes, in ms; null without both scrapes or without new observations. */
function windowP99Ms(prev: Histogram | null | undefined, cur: Histogram | null | undefined): Windowed<number> {
  if (!prev || !cur) return { value: null, reset: false };
  const { delta, reset } = histogramDelta(prev, cur);
  const seconds = histogramQuantile(0.99, delta);
  return { value: seconds === null ? null : seconds * 1000, reset };
}

/** Counter increase; a counter that went down restarted from zero, so the increase is its new value (as rate() does). */
function increase(prev: number | null | undefined, cur: number | null): Windowed<number> {
  if (prev === null || prev === undefined || cur === null) return { value: null, reset: false };
  return cur < prev ? { value: cur, reset: true } : { value: cur - prev, reset: false };
}

export function deriveMetricsSample(prev: EtcdMetricsScrape | null, cur: EtcdMetricsScrape): EtcdMetricsSample {
  const walFsync = windowP99Ms(prev?.walFsync, cur.walFsync);
  const backendCommit = windowP99Ms(prev?.backendCommit, cur.backendCommit);
  const peerRttP99Ms: Record<string, number> = {};
  let peerReset = false;
  for (const [peer, histogram] of Object.entries(cur.peerRtt)) {
    // A peer first seen in this scrape has no window yet.
    const before = prev && Object.hasOwn(prev.peerRtt, peer) ? prev.peerRtt[peer] : undefined;
    const rtt = windowP99Ms(before, histogram);
    peerReset ||= rtt.reset;
    if (rtt.value !== null) peerRttP99Ms[peer] = rtt.value;
  }
  const rtts = Object.values(peerRttP99Ms);
  const leaderChanges = increase(prev?.leaderChangesSeen, cur.leaderChangesSeen);
  const proposalsFailed = increase(prev?.proposalsFailed, cur.proposalsFailed);
  return {
    walFsyncP99Ms: walFsync.value,
    backendCommitP99Ms: backendCommit.value,
    peerRttP99Ms,
    worstPeerRttP99Ms: rtts.length === 0 ? null : Math.max(...rtts),
    leaderChanges: leaderChanges.value,
    proposalsFailed: proposalsFailed.value,
    proposalsPending: cur.proposalsPending,
    hasLeader: cur.hasLeader,
    quotaBackendBytes: cur.quotaBackendBytes,
    defragInflight: cur.defragInflight,
    counterReset: walFsync.reset || backendCommit.reset || peerReset || leaderChanges.reset || proposalsFailed.reset,
  };
}
