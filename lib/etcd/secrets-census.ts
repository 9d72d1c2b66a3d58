// Counts how the Kubernetes Secrets in etcd are stored (encrypted, and by which provider, or plain); only counts leave it.
import 'server-only';
import { GRPCResourceExhastedError, type IRangeResponse } from 'etcd3';
import { describeEtcdError } from './etcd-error';
import type { MemberClient } from './member-client';

/** The envelope Kubernetes' EncryptionConfiguration writes; `identity` writes none, so its Secrets count as plain. */
export type EncryptionProvider = 'aescbc' | 'aesgcm' | 'secretbox' | 'kms' | 'kms2';

export type StoredSecretKind =
  { kind: 'encrypted'; provider: EncryptionProvider } | { kind: 'plain' } | { kind: 'unknown' };

export interface SecretsCensus {
  ok: true;
  total: number;
  encrypted: number;
  plain: number;
  /** Encrypted Secrets per provider; only providers that were seen appear. */
  byProvider: Partial<Record<EncryptionProvider, number>>;
  /** Values that are neither a known envelope nor plain protobuf or JSON (an unknown provider, or damage). */
  unknown: number;
  /** When the last page was read (ISO 8601). */
  scannedAt: string;
  /** True when `maxKeys` stopped the scan before the end of the prefix: the counts then cover only that many. */
  truncated: boolean;
}

export type SecretsCensusResult = SecretsCensus | { ok: false; reason: string };

export interface SecretsCensusOptions {
  /** Keys per range request; default 100. Halved on its own when a page is over gRPC's 4 MiB message limit. */
  pageSize?: number;
  /** Pause between pages in ms, so a large census never hogs the member; default 50. */
  pauseMs?: number;
  signal?: AbortSignal;
  /** Stop after this many Secrets (the result then says `truncated`). */
  maxKeys?: number;
}

const SECRETS_PREFIX = Buffer.from('/registry/secrets/');
// The prefix with its last byte plus one ('/' + 1 = '0') ends the range just past every key under it.
const SECRETS_RANGE_END = Buffer.from('/registry/secrets0');

// Only the providers Kubernetes ships are named: a provider name is read from the value, and no other byte of a
// value may reach the result.
const ENVELOPES: ReadonlyArray<[Buffer, EncryptionProvider]> = [
  [Buffer.from('k8s:enc:aescbc:v1:'), 'aescbc'],
  [Buffer.from('k8s:enc:aesgcm:v1:'), 'aesgcm'],
  [Buffer.from('k8s:enc:secretbox:v1:'), 'secretbox'],
  [Buffer.from('k8s:enc:kms:v1:'), 'kms'],
  [Buffer.from('k8s:enc:kms:v2:'), 'kms2'],
];
const PROTOBUF_MAGIC = Buffer.from('k8s\0');
const JSON_START = 0x7b; // '{'

function startsWith(value: Buffer, prefix: Buffer): boolean {
  return value.length >= prefix.length && value.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/** How one stored Secret value is kept, judged from its first bytes only. */
export function classifyStoredSecret(value: Buffer): StoredSecretKind {
  for (const [prefix, provider] of ENVELOPES) {
    if (startsWith(value, prefix)) return { kind: 'encrypted', provider };
  }
  if (startsWith(value, PROTOBUF_MAGIC) || value[0] === JSON_START) return { kind: 'plain' };
  return { kind: 'unknown' };
}

const ABORTED = 'secrets census aborted';

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Settles with `call`, or with null as soon as `signal` aborts (the call then runs out its deadline unheard). */
function unlessAborted<T>(call: Promise<T>, signal: AbortSignal | undefined): Promise<T | null> {
  if (!signal) return call;
  return new Promise<T | null>((resolve, reject) => {
    const onAbort = () => resolve(null);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function positiveInteger(value: number | undefined, name: string): string | null {
  if (value === undefined || (Number.isSafeInteger(value) && value >= 1)) return null;
  return `${name} must be a whole number of at least 1, got ${String(value)}`;
}

/**
 * Pages through /registry/secrets/ with serializable reads (served by this member alone, no raft round), a range
 * limit and a start key just past the last key seen, as the Kubernetes API server pages its lists. No revision is
 * pinned: a Secret written during the scan may or may not be counted, and a compaction can never fail the census.
 * Never throws; keys and values are neither logged nor returned.
 */
export async function censusSecrets(
  client: MemberClient,
  opts: SecretsCensusOptions = {},
): Promise<SecretsCensusResult> {
  const invalid =
    positiveInteger(opts.pageSize, 'pageSize') ??
    positiveInteger(opts.maxKeys, 'maxKeys') ??
    (opts.pauseMs !== undefined && !(opts.pauseMs >= 0) ? `pauseMs must be 0 or more, got ${opts.pauseMs}` : null);
  if (invalid) return { ok: false, reason: invalid };

  const { signal, maxKeys } = opts;
  const pauseMs = opts.pauseMs ?? 50;
  let pageSize = opts.pageSize ?? 100;
  const byProvider: Partial<Record<EncryptionProvider, number>> = {};
  let total = 0;
  let encrypted = 0;
  let plain = 0;
  let unknown = 0;
  let start = SECRETS_PREFIX;

  for (;;) {
    if (signal?.aborted) return { ok: false, reason: ABORTED };
    const limit = maxKeys === undefined ? pageSize : Math.min(pageSize, maxKeys - total);
    let page: IRangeResponse | null;
    try {
      page = await unlessAborted(
        client.kv.range({ key: start, range_end: SECRETS_RANGE_END, limit, serializable: true }),
        signal,
      );
    } catch (err) {
      // A page of large Secrets (Helm keeps releases in them, up to 1 MiB each) can pass grpc-js's 4 MiB limit.
      if (err instanceof GRPCResourceExhastedError && pageSize > 1) {
        pageSize = Math.max(1, Math.floor(pageSize / 2));
        continue;
      }
      const { message } = describeEtcdError(err);
      return { ok: false, reason: `secrets census failed after ${total} keys: ${message}` };
    }
    if (page === null) return { ok: false, reason: ABORTED };

    for (const kv of page.kvs) {
      const stored = classifyStoredSecret(kv.value);
      total++;
      if (stored.kind === 'encrypted') {
        encrypted++;
        byProvider[stored.provider] = (byProvider[stored.provider] ?? 0) + 1;
      } else if (stored.kind === 'plain') plain++;
      else unknown++;
    }

    const last = page.kvs.at(-1);
    const reachedMax = maxKeys !== undefined && total >= maxKeys;
    if (!page.more || !last || reachedMax) {
      return {
        ok: true,
        total,
        encrypted,
        plain,
        byProvider,
        unknown,
        scannedAt: new Date().toISOString(),
        truncated: reachedMax && page.more,
      };
    }
    // The smallest key after the last one seen.
    start = Buffer.concat([last.key, Buffer.from([0])]);
    await pause(pauseMs, signal);
  }
}
