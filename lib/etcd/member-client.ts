// One etcd3 client per member endpoint, with a deadline on every call and no retries or circuit breaker.
import 'server-only';
import { Etcd3, type IOptions } from 'etcd3';
import { noop } from 'cockatiel';
import type { TlsCredentials } from './tls-credentials';

/** A gRPC client bound to one member; only lib/etcd/ looks inside it. */
export type MemberClient = Etcd3;

export interface MemberClientOptions {
  endpoint: string;
  tls: TlsCredentials | null;
  /** Deadline for each unary call, in ms. */
  timeoutMs: number;
  /** HTTP/2 flow-control window; larger lets a snapshot stream run at disk speed. */
  flowControlWindowBytes?: number;
}

/**
 * A status client must tell the truth on every call: etcd3's default retries move a call to another host and its
 * breaker keeps reporting a recovered member as down for 5 s, so both are switched off here.
 */
export function createMemberClient(opts: MemberClientOptions): MemberClient {
  const options: IOptions = {
    hosts: [opts.endpoint],
    dialTimeout: opts.timeoutMs,
    // Evaluated per call, so every attempt gets a fresh deadline; streams (snapshots) have none.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + opts.timeoutMs }),
    faultHandling: { host: () => noop, global: noop },
    grpcOptions: {
      // Reconnect quickly after a member comes back instead of backing off for up to two minutes.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1000,
      ...(opts.flowControlWindowBytes ? { 'grpc-node.flow_control_window': opts.flowControlWindowBytes } : {}),
    },
  };
  if (opts.tls) {
    options.credentials = {
      // grpc-js takes null here as "use the system roots".
      rootCertificate: opts.tls.ca as Buffer,
      ...(opts.tls.key ? { privateKey: opts.tls.key } : {}),
      ...(opts.tls.cert ? { certChain: opts.tls.cert } : {}),
    };
  }
  return new Etcd3(options);
}
