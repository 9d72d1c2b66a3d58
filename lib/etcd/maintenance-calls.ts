// The calls that change a cluster or compare its members (Defragment, Compact, MoveLeader, alarm disarm, HashKV), each
// asked of one member through its own client. They return results, never throw: the maintenance run records a
// failure as a step's error.
import 'server-only';
import type { Etcd3 } from 'etcd3';
import type { AlarmName, CallResult } from './cluster-calls';
import { describeEtcdError } from './etcd-error';
import { memberIdToHex } from './member-id';

async function call<T>(run: () => Promise<T>): Promise<CallResult<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    return { ok: false, failure: describeEtcdError(err) };
  }
}

const deadline = (ms: number) => ({ deadline: Date.now() + ms });

/** Hex member id (as etcdctl prints it) → the decimal string the API takes. */
export function memberIdToDecimal(hex: string): string {
  if (!/^[0-9a-f]{1,16}$/i.test(hex)) throw new Error(`not a hex member id: ${JSON.stringify(hex.slice(0, 40))}`);
  return BigInt(`0x${hex}`).toString(10);
}

/**
 * Maintenance.Defragment of the member the client is bound to. It blocks that member's reads and writes until it
 * ends, and may take minutes on a large database: the deadline is the caller's.
 */
export function defragment(client: Etcd3, timeoutMs: number): Promise<CallResult<void>> {
  return call(async () => {
    await client.maintenance.defragment(deadline(timeoutMs));
  });
}

/**
 * KV.Compact to `revision`, physical: the answer comes once the member has removed the old revisions from its
 * backend, as `etcdctl compact --physical` waits.
 */
export function compact(client: Etcd3, revision: number, timeoutMs: number): Promise<CallResult<{ revision: number }>> {
  return call(async () => {
    const res = await client.kv.compact({ revision: String(revision), physical: true }, deadline(timeoutMs));
    return { revision: Number(res.header?.revision ?? 0) };
  });
}

export interface HashKVAnswer {
  /** The member's hash of every key revision from its compact revision up to `revision` (uint32). */
  hash: number;
  compactRevision: number;
  /** The member's current revision when it answered. */
  currentRevision: number;
}

/**
 * Maintenance.HashKV at `revision`. etcd3 1.1.2's `maintenance.hashKV()` calls a method name the service does not
 * have, so the pool's raw exec is used with the proto's own name.
 */
export function hashKV(client: Etcd3, revision: number, timeoutMs: number): Promise<CallResult<HashKVAnswer>> {
  return call(async () => {
    const exec = (client as unknown as { pool: { exec: (...a: unknown[]) => Promise<unknown> } }).pool.exec;
    const res = (await exec.call(
      (client as unknown as { pool: unknown }).pool,
      'Maintenance',
      'HashKV',
      {
        revision: String(revision),
      },
      deadline(timeoutMs),
    )) as { hash?: number | string; compact_revision?: string; header?: { revision?: string } };
    return {
      hash: Number(res.hash ?? 0),
      compactRevision: Number(res.compact_revision ?? 0),
      currentRevision: Number(res.header?.revision ?? 0),
    };
  });
}

/** Maintenance.MoveLeader to `targetHex`: etcd answers only when asked of the current leader. */
export function moveLeader(client: Etcd3, targetHex: string, timeoutMs: number): Promise<CallResult<void>> {
  return call(async () => {
    await client.maintenance.moveLeader({ targetID: memberIdToDecimal(targetHex) }, deadline(timeoutMs));
  });
}

/** Maintenance.Alarm Deactivate: clears `alarm` raised by the member `memberHex` (through raft, so any member may be asked). */
export function disarmAlarm(
  client: Etcd3,
  memberHex: string,
  alarm: AlarmName,
  timeoutMs: number,
): Promise<CallResult<{ remaining: Array<{ memberId: string; alarm: string }> }>> {
  return call(async () => {
    const res = await client.maintenance.alarm(
      {
        action: 'Deactivate',
        memberID: memberIdToDecimal(memberHex),
        alarm: alarm === 'NOSPACE' ? 'Nospace' : 'Corrupt',
      },
      deadline(timeoutMs),
    );
    return {
      remaining: (res.alarms ?? []).map((a) => ({ memberId: memberIdToHex(a.memberID), alarm: String(a.alarm) })),
    };
  });
}

/**
 * Shows that the cluster accepts writes: puts `key` (a dashboard-owned key) and deletes it again. A cluster under a
 * NOSPACE alarm refuses the put with "etcdserver: mvcc: database space exceeded".
 */
export function writeCheck(client: Etcd3, key: string, timeoutMs: number): Promise<CallResult<{ tookMs: number }>> {
  return call(async () => {
    const started = performance.now();
    await client.put(key).value(new Date().toISOString()).options(deadline(timeoutMs)).exec();
    await client.delete().key(key).options(deadline(timeoutMs)).exec();
    return { tookMs: Math.round((performance.now() - started) * 10) / 10 };
  });
}

/** The member's current revision, as a serializable read of one key answers it (cheap; no raft round). */
export function currentRevision(client: Etcd3, timeoutMs: number): Promise<CallResult<number>> {
  return call(async () => {
    const res = await client.get('\0').serializable(true).options(deadline(timeoutMs)).exec();
    return Number(res.header.revision);
  });
}
