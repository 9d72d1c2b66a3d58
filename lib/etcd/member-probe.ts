// Asks one member for its Maintenance Status and times a linearizable read, as `etcdctl endpoint health` does.
import 'server-only';
import type { Etcd3 } from 'etcd3';
import { describeEtcdError, type EtcdFailure } from './etcd-error';
import { memberIdToHex } from './member-id';

export interface MemberStatusReading {
  memberId: string;
  clusterId: string;
  version: string;
  dbSize: number;
  dbSizeInUse: number;
  /** Hex id of the leader this member believes in; "0" when it knows none. */
  leader: string;
  raftTerm: number;
  raftIndex: number;
  raftAppliedIndex: number;
  isLearner: boolean;
  errors: string[];
}

export interface HealthReading {
  ok: boolean;
  /** Time the linearizable read took, ms; null when it failed. */
  tookMs: number | null;
  failure: EtcdFailure | null;
}

export interface MemberProbeResult {
  endpoint: string;
  status: MemberStatusReading | null;
  statusFailure: EtcdFailure | null;
  health: HealthReading;
}

// etcd counts fit in a double for any real cluster (2^53 bytes is 8 PiB).
const num = (s: string): number => Number(s);

/** Never throws: a member that cannot be asked is data, not an exception. */
export async function probeMember(endpoint: string, client: Etcd3, isLearner: boolean): Promise<MemberProbeResult> {
  const statusCall = client.maintenance.status().then(
    (s): { status: MemberStatusReading; failure: null } => ({
      status: {
        memberId: memberIdToHex(s.header.member_id),
        clusterId: memberIdToHex(s.header.cluster_id),
        version: s.version,
        dbSize: num(s.dbSize),
        dbSizeInUse: num(s.dbSizeInUse),
        leader: memberIdToHex(s.leader),
        raftTerm: num(s.raftTerm),
        raftIndex: num(s.raftIndex),
        raftAppliedIndex: num(s.raftAppliedIndex),
        isLearner: s.isLearner,
        errors: s.errors ?? [],
      },
      failure: null,
    }),
    (err: unknown) => ({ status: null, failure: describeEtcdError(err) }),
  );
  const healthCall = timedHealthRead(client, isLearner);
  const [{ status, failure }, health] = await Promise.all([statusCall, healthCall]);
  return { endpoint, status, statusFailure: failure, health };
}

async function timedHealthRead(client: Etcd3, isLearner: boolean): Promise<HealthReading> {
  const started = performance.now();
  try {
    // A learner does not serve linearizable reads in 3.4; a serializable one shows it is up and applying.
    const read = client.get('health');
    await (isLearner ? read.serializable(true) : read).string();
    return { ok: true, tookMs: performance.now() - started, failure: null };
  } catch (err) {
    const failure = describeEtcdError(err);
    // etcdctl counts "permission denied" as healthy: the member answered through raft.
    if (failure.kind === 'permission-denied') return { ok: true, tookMs: performance.now() - started, failure: null };
    return { ok: false, tookMs: null, failure };
  }
}
