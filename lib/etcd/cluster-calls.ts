// Cluster-wide calls (MemberList, AlarmList) asked of one member; they return results, never throw.
import 'server-only';
import type { Etcd3 } from 'etcd3';
import { describeEtcdError, type EtcdFailure } from './etcd-error';
import { memberIdToHex } from './member-id';

export interface MemberListEntry {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export type AlarmName = 'NOSPACE' | 'CORRUPT';

export interface AlarmEntry {
  memberId: string;
  alarm: AlarmName;
}

export type CallResult<T> = { ok: true; value: T } | { ok: false; failure: EtcdFailure };

export async function listMembers(client: Etcd3): Promise<CallResult<MemberListEntry[]>> {
  try {
    const res = await client.cluster.memberList({});
    return {
      ok: true,
      value: (res.members ?? []).map((m) => ({
        id: memberIdToHex(m.ID),
        name: m.name,
        peerURLs: m.peerURLs ?? [],
        clientURLs: m.clientURLs ?? [],
        isLearner: Boolean(m.isLearner),
      })),
    };
  } catch (err) {
    return { ok: false, failure: describeEtcdError(err) };
  }
}

export function alarmName(raw: unknown): AlarmName | null {
  // etcd3 1.1.2 names the enum values "Nospace" and "Corrupt"; the proto says NOSPACE, CORRUPT (1, 2).
  const name = typeof raw === 'string' ? raw.toUpperCase() : raw;
  if (name === 'NOSPACE' || name === 1) return 'NOSPACE';
  if (name === 'CORRUPT' || name === 2) return 'CORRUPT';
  return null;
}

/** AlarmList goes through raft: without quorum it times out, which is reported, not hidden. */
export async function listAlarms(client: Etcd3): Promise<CallResult<AlarmEntry[]>> {
  try {
    const res = await client.maintenance.alarm({ action: 'Get', alarm: 'None', memberID: 0 });
    const alarms: AlarmEntry[] = [];
    for (const a of res.alarms ?? []) {
      const name = alarmName(a.alarm);
      if (name) alarms.push({ memberId: memberIdToHex(a.memberID), alarm: name });
    }
    return { ok: true, value: alarms };
  } catch (err) {
    return { ok: false, failure: describeEtcdError(err) };
  }
}
