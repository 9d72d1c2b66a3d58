// Polls one cluster about once a second and keeps the latest status; API routes read it and never call etcd.
import 'server-only';
import type { ClusterConfig } from '@/lib/config/load-config';
import { createMemberClient, type MemberClient } from '@/lib/etcd/member-client';
import { probeMember, type MemberProbeResult } from '@/lib/etcd/member-probe';
import { listAlarms, listMembers, type AlarmEntry, type MemberListEntry } from '@/lib/etcd/cluster-calls';
import type { Observation } from '@/lib/cluster/status-types';
import { assembleStatus, normalizeUrl } from './assemble-status';

export interface CollectorOptions {
  pollIntervalMs: number;
  probeTimeoutMs: number;
}

export interface CollectorCounters {
  polls: number;
  /** gRPC calls this collector has sent to etcd. */
  etcdRequests: number;
  lastPollMs: number | null;
}

export class ClusterCollector {
  private readonly clients = new Map<string, MemberClient>();
  private memberList: MemberListEntry[] | null = null;
  private readonly endpointMembers = new Map<string, string>();
  private alarms: AlarmEntry[] = [];
  private latest: Observation | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** The endpoint that answered best last time: cluster-wide calls go there first. */
  private preferred: string | null = null;
  readonly counters: CollectorCounters = { polls: 0, etcdRequests: 0, lastPollMs: null };

  constructor(
    readonly cluster: ClusterConfig,
    readonly options: CollectorOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  /** The last completed poll, without the staleness verdict (that depends on when it is read). */
  current(): Observation | null {
    return this.latest;
  }

  // A setTimeout chain: the next poll is scheduled after this one ends, so polls never overlap or pile up.
  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      const started = Date.now();
      this.pollOnce()
        .catch((err: unknown) => {
          // pollOnce is built not to throw; if it does, the view goes stale rather than the process down.
          console.error(
            `collector ${this.cluster.id}: poll failed: ${err instanceof Error ? err.message : String(err)}`,
          );
        })
        .finally(() => this.schedule(Math.max(0, this.options.pollIntervalMs - (Date.now() - started))));
    }, delayMs);
    this.timer.unref?.();
  }

  private client(endpoint: string): MemberClient {
    let c = this.clients.get(endpoint);
    if (!c) {
      c = createMemberClient({ endpoint, tls: this.cluster.tls, timeoutMs: this.options.probeTimeoutMs });
      this.clients.set(endpoint, c);
    }
    return c;
  }

  /** Configured endpoints, plus the advertised client URL of any listed member none of them reaches. */
  private targets(): string[] {
    const targets = [...this.cluster.endpoints];
    const configured = new Set(targets.map(normalizeUrl));
    const covered = new Set(targets.map((e) => this.endpointMembers.get(e)).filter(Boolean));
    for (const m of this.memberList ?? []) {
      if (covered.has(m.id) || m.clientURLs.some((u) => configured.has(normalizeUrl(u)))) continue;
      const url = m.clientURLs[0];
      if (url) targets.push(url);
    }
    return targets;
  }

  async pollOnce(): Promise<Observation> {
    const started = performance.now();
    const targets = this.targets();
    const learners = new Set((this.memberList ?? []).filter((m) => m.isLearner).map((m) => m.id));
    const wideEndpoint = this.preferred && targets.includes(this.preferred) ? this.preferred : targets[0];

    // Member probes and the cluster-wide calls run side by side: a slow call costs one deadline, not a sum.
    const [probes, memberList, alarms] = await Promise.all([
      Promise.all(targets.map((e) => probeMember(e, this.client(e), learners.has(this.endpointMembers.get(e) ?? '')))),
      wideEndpoint ? listMembers(this.client(wideEndpoint)) : null,
      wideEndpoint ? listAlarms(this.client(wideEndpoint)) : null,
    ]);
    this.counters.etcdRequests += targets.length * 2 + (wideEndpoint ? 2 : 0);

    const warnings: string[] = [];
    for (const p of probes) if (p.status) this.endpointMembers.set(p.endpoint, p.status.memberId);
    const answering = probes.filter((p) => p.status);
    if (memberList?.ok) this.memberList = memberList.value;
    else if (memberList) warnings.push(`member list unavailable from ${wideEndpoint}: ${memberList.failure.message}`);
    if (alarms?.ok) this.alarms = alarms.value;
    else if (alarms) warnings.push(`alarm list unavailable from ${wideEndpoint}: ${alarms.failure.message}`);

    this.preferred = pickPreferred(probes) ?? answering[0]?.endpoint ?? null;
    const observedAt = new Date().toISOString();
    this.latest = assembleStatus({
      clusterId: this.cluster.id,
      name: this.cluster.name,
      pollIntervalMs: this.options.pollIntervalMs,
      observedAt,
      memberList: this.memberList,
      probes,
      endpointMembers: this.endpointMembers,
      alarms: this.alarms,
      warnings,
    });
    this.counters.polls += 1;
    this.counters.lastPollMs = performance.now() - started;
    return this.latest;
  }
}

/** A healthy follower if there is one (sparing the leader), else any healthy member. */
function pickPreferred(probes: MemberProbeResult[]): string | null {
  const healthy = probes.filter((p) => p.status && p.health.ok);
  const follower = healthy.find((p) => p.status && p.status.leader !== p.status.memberId);
  return (follower ?? healthy[0])?.endpoint ?? null;
}
