// docs/performance.md, figure 9 (issue 18): a fleet of clusters sharded across dashboard replicas on PostgreSQL.
import { fallbackAfterMs, followEveryMs, staleAfterMs } from '../../lib/cluster/staleness';
import type { FleetResult, FleetRun, Reassignment, ReplicaWindow } from '../fleet';
import { FLEET_DASHBOARD_PORTS, FLEET_ETCD_BASE, FLEET_POSTGRES_PORT } from '../lib/ports';
import type { FigureRecord } from '../lib/results';
import { measuredOn, mib, notMeasured, pct, ratio, yesNo } from './format';

/** The collector's calls per poll of a 3-member cluster (bench/fleet.ts). */
const REQUESTS_PER_POLL = 8;

export const FLEET_COMMAND = 'npm run bench -- --only fleet';

const runName = (w: FleetRun) => (w.replicas === 1 ? '(a) one process' : `(b) ${w.replicas} replicas`);

function runRow(w: FleetRun): string {
  const p = w.probe;
  return [
    `| ${runName(w)}`,
    `**${w.etcdRequestsPerSecond.toFixed(2)}**`,
    w.pollsPerSecondPerCluster.toFixed(2),
    pct(w.total.cpuPercentOfOneCore),
    mib(w.total.rssMeanBytes),
    pct(w.postgresCpuPercentOfOneCore),
    pct(w.etcdCpuPercentOfOneCore),
    String(w.leaderChanges),
    `${p.stale} / ${p.notAllHealthy} / ${p.failed} of ${p.reads}`,
    `${p.ageP50Ms} ms / ${p.ageMaxMs} ms`,
    `${w.loadAverage1m} |`,
  ].join(' | ');
}

function owned(r: ReplicaWindow): string {
  const moved = r.ownedAtStart !== r.ownedAtEnd || r.ownedMin !== r.ownedMax;
  return moved ? `${r.ownedAtStart} → ${r.ownedAtEnd} (${r.ownedMin}–${r.ownedMax})` : String(r.ownedAtEnd);
}

function replicaRow(w: FleetRun, r: ReplicaWindow): string {
  return [
    `| ${runName(w)}`,
    `${r.port}${r.leads ? ' (leads)' : ''}`,
    owned(r),
    pct(r.usage.cpuPercentOfOneCore),
    mib(r.usage.rssMeanBytes),
    mib(r.usage.rssPeakBytes),
    String(r.fallbackStarts),
    `${r.readsWithFallback} of ${r.readyzReads}${r.fallbackMax > 0 ? ` (up to ${r.fallbackMax})` : ''} |`,
  ].join(' | ');
}

function methods(w: FleetRun): string {
  return Object.entries(w.etcdRequestsByMethod)
    .map(([m, v]) => `${m} ${v.toFixed(2)}`)
    .join(', ');
}

const sec = (ms: number) => `${Math.round(ms / 10) / 100} s`;

/** The timings the run's poll interval and probe timeout give (records before they were kept: the 800 ms default). */
function timingOf(r: FleetResult): FleetResult['timing'] {
  if (r.timing) return r.timing;
  const probeTimeoutMs = 800;
  const stale = staleAfterMs(r.pollIntervalMs, probeTimeoutMs);
  return {
    probeTimeoutMs,
    staleAfterMs: stale,
    fallbackAfterMs: fallbackAfterMs(r.pollIntervalMs, probeTimeoutMs, stale),
    followEveryMs: followEveryMs(r.pollIntervalMs),
  };
}

function reassignmentText(r: FleetResult, k: Reassignment | null | undefined, t: FleetResult['timing']): string {
  // Records before renewals had a chain of their own renewed in the round.
  const renewMs = t.shardRenewMs ?? t.shardRoundMs ?? 2000;
  if (!k) return '**A replica killed.** Not measured in this record.';
  const notReached = 'more than 60 (not reached)';
  // Records before the reassigned clusters were told apart measured every cluster only.
  const moved = k.reassignedRepolledSeconds;
  return `**A replica killed.** After (b)'s window the benchmark killed the replica that polled the most clusters (port
${k.killedPort}${k.killedLed ? ', the leader' : ''}, ${k.killedOwned} of ${r.dashboardClusters} clusters) with SIGKILL, so it gave back no lease, and read the
two survivors' NOC wall (\`/api/noc\`: every cluster's status in one request) and \`/readyz\` every 500 ms:

| from the SIGKILL until | seconds |
|---|---|
| every cluster the killed replica polled, on both survivors' NOC wall, showed a poll observed after the kill | **${moved === undefined ? 'not measured' : (moved ?? notReached)}** |
| half of those (survivor, cluster) pairs did | ${k.reassignedRepolledP50Seconds ?? '–'} |
| every one of the ${r.dashboardClusters} clusters did (the survivors' own at their usual phase of the ${sec(r.pollIntervalMs)} poll) | ${k.everyClusterRepolledSeconds ?? notReached} |
| the survivors' \`shards\` checks added up to ${r.dashboardClusters} with none polled as a fallback | ${k.shardsSettledSeconds ?? 'not within 60'} |${
    k.killedLed
      ? `
| a survivor led | ${k.leaderTakeoverSeconds ?? 'not within 60'} |`
      : ''
  }

Goal ≤ ${r.targetReassignSeconds ?? 10} s for the first line: ${yesNo(k.meetsTarget)}.${
    k.oldestShownMs
      ? ` The oldest poll a survivor showed meanwhile was ${sec(k.oldestShownMs.reassigned)} old for the killed replica's clusters and ${sec(k.oldestShownMs.others)} for the others.`
      : ''
  } Of ${k.tilesRead} tiles read in ${k.nocReads} NOC answers, ${k.staleTiles} were shown
stale and ${k.notHealthyTiles} showed anything but three healthy members and a healthy quorum; ${k.failedReads} reads failed; the slowest NOC
answer took ${k.nocLongestMs} ms.${
    k.pollsHeldUp === undefined || k.pollsHeldUp === null
      ? ''
      : ` The survivors' /metrics at the end counted ${k.pollsHeldUp} polls not shown because the replica was held up and ${k.pollsHeldBack} first polls after the takeover held back (a call missed its deadline; asked again within seconds).`
  } The killed replica's leases end once the survivors find it gone: no PostgreSQL session of
its left and its membership a renewal (${sec(renewMs)}) overdue, checked every shard round (${sec(t.shardRoundMs ?? 2000)}); failing that, when its leases run out (${sec(t.shardLeaseMs ?? 6000)}, renewed every
${sec(renewMs)}). The survivor that finds it gone takes its share of the clusters in that round, and the other at its next; their first polls
go a few at a time per replica (\`FIRST_POLLS_AT_ONCE\`); each survivor meanwhile polls a cluster itself once the view it last read is
${sec(t.fallbackAfterMs)} old, and a survivor's view of a cluster the other now owns arrives at its next read (every ${sec(t.followEveryMs)}).${
    k.examples.length ? ` First unexpected answers: ${k.examples.slice(0, 4).join('; ')}.` : ''
  }`;
}

export function fleetSection(heading: string, rec: FigureRecord<FleetResult> | null): string {
  if (!rec) return notMeasured(heading, 'fleet');
  const r = rec.result;
  const a = r.one;
  const b = r.three;
  const env = Object.entries(r.etcdEnvironment)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(', ');
  const perEtcd = r.dashboardClusters / r.etcdClusters;
  const lastEtcdPort = FLEET_ETCD_BASE + r.etcdClusters * r.membersPerCluster * 3 - 1;
  const ownedSplit = b.perReplica.map((x) => x.ownedAtEnd).join(' + ');
  const anyFallback = [...a.perReplica, ...b.perReplica].some((x) => x.readsWithFallback > 0);
  const moved = b.perReplica.some((x) => x.ownedAtStart !== x.ownedAtEnd || x.ownedMin !== x.ownedMax);
  const unexpected = [...a.probe.examples.map((e) => `(a) ${e}`), ...b.probe.examples.map((e) => `(b) ${e}`)];
  const fallbackLines = b.perReplica
    .filter((x) => x.readsWithFallback > 0)
    .map(
      (x) =>
        `replica ${x.port} in ${x.readsWithFallback} of ${x.readyzReads} reads, at most ${x.fallbackMax} clusters${x.fallbackSeen?.length ? `, at ${x.fallbackSeen.join(', ')} into the window (s: clusters)` : ''}`,
    )
    .join('; ');
  const cpuRatio = b.total.cpuPercentOfOneCore / a.total.cpuPercentOfOneCore;
  const starts = b.perReplica.reduce((sum, x) => sum + (x.fallbackStarts ?? 0), 0);
  const startsPerSecond = starts / b.seconds;
  const rssRatio = b.total.rssMeanBytes / a.total.rssMeanBytes;
  const t = timingOf(r);
  const pollsPerSecond = r.dashboardClusters / (r.pollIntervalMs / 1000);
  const cpuMsPerPoll = (a.total.cpuPercentOfOneCore * 10) / pollsPerSecond;
  const busiest = Math.max(...b.perReplica.map((x) => x.usage.cpuPercentOfOneCore));
  const perReplicaAt1s = (cpuMsPerPoll * (r.dashboardClusters / b.replicas)) / 10;
  return `${heading}

${measuredOn(rec, FLEET_COMMAND)} PostgreSQL ${r.postgres.version}. Raw values in bench/results/fleet.json.

**The question.** With clusters sharded across replicas (each cluster polled by exactly one replica, its shard owner,
which publishes its view through the database for the others to show), does etcd's load stay that of one dashboard
when three replicas run (goal ≤ ${r.targetRatio}×; without sharding every replica would poll every cluster: about 3×)? Does each
replica of a fleet of ${r.dashboardClusters} clusters stay under one core, and how soon after a replica dies does every cluster have a
fresh status again (goal ≤ ${r.targetReassignSeconds ?? 10} s)?

**How it was measured.** ${r.etcdClusters} real 3-member etcd ${r.etcdVersion} clusters with mutual TLS on loopback
(${r.etcdClusters * r.membersPerCluster} members, ports ${FLEET_ETCD_BASE}–${lastEtcdPort}) run throughout, with figure 5's modest settings (${env}). One
ETCD_DASHBOARD_CONFIG file lists **${r.dashboardClusters} clusters**: entry i is the real cluster i mod ${r.etcdClusters} under its own id${
    perEtcd > 1
      ? ` (the configuration refuses duplicate ids only, so each real cluster is watched ${perEtcd} times, as ${perEtcd} clusters, and
each entry is polled, sharded and shown on its own)`
      : ''
  }, with \`pollIntervalMs: ${r.pollIntervalMs}\`${r.metricsIntervalMs ? ` and \`metricsIntervalMs: ${r.metricsIntervalMs}\` (each member's /metrics scraped every ${sec(r.metricsIntervalMs)}, as Prometheus commonly scrapes etcd; the dashboard's default, 5 s, is meant for a handful of clusters)` : ''} in the file. One PostgreSQL ${r.postgres.version.split(' ')[0]} server (scripts/lib/postgres.ts, port ${FLEET_POSTGRES_PORT})
serves both runs, each on a fresh database:

- **(a)** one production dashboard process (\`node server/server.mjs\`, port ${FLEET_DASHBOARD_PORTS.one}) on PostgreSQL;

- **(b)** three replicas (ports ${FLEET_DASHBOARD_PORTS.three.join(', ')}) on one database, the first started alone (it migrates the database), then the other two together, as e2e/replicas.spec.ts starts them.

Each run waits until every replica shows every cluster healthy and fresh in its API and the replicas' \`shards\` readiness
checks ("polls n of ${r.dashboardClusters} cluster(s) for the record") add up to ${r.dashboardClusters} with none polling a cluster as a fallback, unchanged
for 3 s (${a.settleSeconds} s after (a)'s start, ${b.settleSeconds} s after (b)'s first replica started); then it warms up for ${r.warmupSeconds} s and measures for ${r.windowSeconds} s,
with no API clients but the probe below. (a) goes first; the members keep running between the runs.

| run | etcd requests/s | polls/s per configured cluster | replicas' CPU (% of one core, sum) | replicas' RSS (mean, sum) | PostgreSQL CPU | all etcd members' CPU | leader changes | status reads stale / not all healthy / failed | shown poll age p50 / max | load avg 1 min |
|---|---|---|---|---|---|---|---|---|---|---|
${runRow(a)}
${runRow(b)}

Ratio of etcd requests/s, three replicas ÷ one process: **${ratio(r.ratio)}** (target ≤ ${r.targetRatio}: ${yesNo(r.meetsTarget)}; without
sharding it would be about 3).

| run | replica (port) | clusters it polls for the record | CPU (% of one core) | RSS mean | RSS peak | fallback polls begun (its log) | /readyz reads showing fallback polling |
|---|---|---|---|---|---|---|---|
${a.perReplica.map((x) => replicaRow(a, x)).join('\n')}
${b.perReplica.map((x) => replicaRow(b, x)).join('\n')}

**Under one core each.** The busiest replica of (b) used ${pct(busiest)} of a core (goal under 100 %: ${yesNo(busiest < 100)}) polling
its share of ${r.dashboardClusters} clusters every ${sec(r.pollIntervalMs)}. In (a) one process polled all of them, ${pollsPerSecond.toFixed(0)} polls a second, for ${pct(a.total.cpuPercentOfOneCore)}
of a core: **${cpuMsPerPoll.toFixed(1)} ms of CPU per poll**, everything included (the gRPC calls, the history and view writes, the
alert evaluation, and the metrics scrapes and the process's own upkeep, which do not grow with the poll rate). ${
    r.pollIntervalMs === 1000
      ? ''
      : `At a 1 s poll the same fleet would cost at most about ${pct(perReplicaAt1s)} of a core per replica (${r.dashboardClusters / b.replicas} polls a second each at that cost; less, as the scrapes and upkeep stay as they are):
this machine's two cores cannot run that beside ${r.etcdClusters * r.membersPerCluster} etcd members taking ${(r.dashboardClusters * REQUESTS_PER_POLL).toLocaleString('en')} requests a second, which is why the
figure polls every ${sec(r.pollIntervalMs)}; the per-poll cost is what carries over.`
  }

${reassignmentText(r, b.reassignment, t)}

**etcd requests/s** are counted by etcd itself: before and after each window the benchmark reads every member's
plain-HTTP metrics endpoint and sums \`grpc_server_started_total\` over all methods and all ${r.etcdClusters * r.membersPerCluster} members. The
dashboards are the clusters' only gRPC clients (the metrics scrapes are HTTP). A poll of a 3-member cluster sends 8 calls
(Status and a linearizable read per member, member list, alarm list), so requests/s ÷ ${r.dashboardClusters} ÷ 8 is how often each
configured cluster was polled. By method, (a): ${methods(a)}; (b): ${methods(b)}. A poll that is under way
when the counters are read may fall on either side of the reading, so the rate is good to about ±${pct(100 / (r.windowSeconds * a.pollsPerSecondPerCluster))} at
worst (one poll per configured cluster), less in practice, as the clusters' polls do not start in step.

**The split.** In (b) the replicas owned ${ownedSplit} of the ${r.dashboardClusters} clusters (rendezvous hashing of the cluster ids over the live
replicas, so the shares are not equal).${moved ? ' The split changed during the window (see the table).' : ' It did not change during the window.'} ${
    anyFallback
      ? `In some of the once-a-second /readyz reads a replica was polling clusters itself as a fallback, which it does when the owner's view it last read is more than ${sec(t.fallbackAfterMs)} old at a ${sec(r.pollIntervalMs)} poll and a ${t.probeTimeoutMs} ms probe timeout (lib/cluster/staleness.ts) (${fallbackLines}); each such poll adds to etcd's load, and its first polls open new connections to the members.`
      : 'No /readyz read of the window (once a second per replica) showed a replica polling a cluster as a fallback, which it does only when the owner’s view it last read has grown old.'
  } The leader (one lease for work that must happen once) is marked in the table.

**Fallback polls.** A replica polls a cluster it does not own itself when the owner's view it last read is more than
${sec(t.fallbackAfterMs)} old (at a ${sec(r.pollIntervalMs)} poll and a ${t.probeTimeoutMs} ms probe timeout: lib/cluster/staleness.ts), and stops once a view
younger than about ${sec(0.75 * t.fallbackAfterMs)} arrives. ${
    starts === 0
      ? `During (b)'s window no replica began one: their logs have no "polling cluster … itself" line between the window's start and its end.`
      : `During (b)'s window the replicas began **${starts} fallback polls** (their logs' "polling cluster … itself" lines), ${startsPerSecond.toFixed(2)} a second. Each costs at least one poll (8 requests): at least ${(startsPerSecond * REQUESTS_PER_POLL).toFixed(1)} requests/s, ${pct((startsPerSecond * REQUESTS_PER_POLL * 100) / a.etcdRequestsPerSecond)} of (a)'s rate.`
  }

**The replicas' cost.** Three replicas together used ${ratio(cpuRatio)}× the CPU and ${ratio(rssRatio)}× the memory of one process: etcd's load
does not grow with the replicas, but each replica is a whole server (its own Node.js heap, Next.js, timers), and every
replica reads its owners' views of the clusters it does not own from the database twice a poll interval (at least once a second) and renews
its leases there: PostgreSQL used ${pct(b.postgresCpuPercentOfOneCore)} of a core in (b) against ${pct(a.postgresCpuPercentOfOneCore)} in (a). CPU is utime + stime from /proc/<pid>/stat at both ends of the window, as a percentage of
one core; RSS is sampled from /proc/<pid>/status every 250 ms. **PostgreSQL's CPU** is the postmaster's and every
child's (backends, background writer, WAL writer, autovacuum) utime + stime read from /proc at both ends, with the CPU
of children that exited meanwhile (the postmaster's cutime + cstime), as a percentage of one core; its memory is not
reported (shared buffers are counted in every backend's RSS).

**Stale answers.** Through each window the benchmark asked every replica, once a second, for the status of
${a.probe.clusterIds.length} clusters (${a.probe.clusterIds.join(', ')}), whichever replica owned them, and counted answers the dashboard flagged
\`stale\` (its shown poll more than ${sec(t.staleAfterMs)} old), answers that showed anything but three healthy members and a healthy
quorum (nothing was broken), and failed requests; the age of the poll shown is \`servedAt − observedAt\`. A replica
that does not own a cluster shows its owner's view, so its age includes the owner's publishing and the follower's
read (every ${t.followEveryMs} ms).${
    unexpected.length
      ? ` The first unexpected answers (seconds into the window): ${unexpected.slice(0, 4).join('; ')}${unexpected.length > 4 ? `; and ${unexpected.length - 4} more in the JSON (at most 10 a run are kept)` : ''}.`
      : ''
  }`;
}
