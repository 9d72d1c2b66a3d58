// Turns whatever an etcd call threw into a short reason an operator can act on; classifies by error class.
import 'server-only';
import {
  EtcdPermissionDeniedError,
  GRPCDeadlineExceededError,
  GRPCUnavailableError,
  GRPCCancelledError,
  ClientClosedError,
} from 'etcd3';

export type EtcdFailureKind = 'unreachable' | 'timeout' | 'tls' | 'permission-denied' | 'error';

export interface EtcdFailure {
  kind: EtcdFailureKind;
  /** One line, no stack, no file contents. */
  message: string;
  /** The socket error behind an unreachable member (ECONNREFUSED: nothing listens, the process is gone). */
  code?: string;
}

// grpc-js words its connection failures as "14 UNAVAILABLE: No connection established. Last error: <reason>. ..."
const LAST_ERROR = /Last error: (?:Error: )?(.*?)(?:\. Resolution note:.*)?$/s;
const TLS_WORDS = /certificate|ssl|tls|handshake|self[- ]signed|alert|CERT_|unknown ca|bad ca/i;

// What the socket error codes mean to an operator.
export const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: etcd is not listening there',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  ETIMEDOUT: 'connection timed out',
};

const NO_REASON = 'no connection to the member: its last attempt failed (the reason went to another call)';

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim().slice(0, 300);
}

export function describeEtcdError(err: unknown): EtcdFailure {
  if (err instanceof GRPCDeadlineExceededError) {
    return { kind: 'timeout', message: 'no answer before the deadline (member hung, overloaded or partitioned)' };
  }
  if (err instanceof EtcdPermissionDeniedError) {
    return { kind: 'permission-denied', message: 'permission denied' };
  }
  if (err instanceof GRPCUnavailableError || err instanceof GRPCCancelledError || err instanceof ClientClosedError) {
    const raw = err.message;
    const reason = firstLine(LAST_ERROR.exec(raw)?.[1] ?? raw.replace(/^\d+ [A-Z_]+: /, ''));
    if (TLS_WORDS.test(reason)) return { kind: 'tls', message: `TLS handshake failed: ${reason}` };
    const socket = Object.entries(SOCKET_ERRORS).find(([code]) => reason.includes(code));
    if (socket) return { kind: 'unreachable', message: `${socket[1]} (${reason})`, code: socket[0] };
    // A channel that joined a connection already failing (clients of one cluster share them, and etcd3 makes its
    // channels anew after a failure) is told no reason: the call that saw the attempt fail was given it.
    if (reason === 'null') return { kind: 'unreachable', message: NO_REASON };
    return { kind: 'unreachable', message: reason || 'unavailable' };
  }
  if (err instanceof Error) {
    const msg = firstLine(err.message.replace(/^\d+ [A-Z_]+: /, ''));
    if (/deadline/i.test(err.name) || /deadline exceeded/i.test(msg)) {
      return { kind: 'timeout', message: 'no answer before the deadline (member hung, overloaded or partitioned)' };
    }
    return { kind: 'error', message: msg || err.name };
  }
  return { kind: 'error', message: firstLine(String(err)) };
}

/**
 * etcd refused the call for its auth: "permission denied" (3.4/3.5 send some as gRPC Unknown "auth: permission
 * denied", which etcd3 does not classify), or a certificate whose name is no etcd user ("user name not found").
 */
export function isAuthRefusal(failure: EtcdFailure): boolean {
  return (
    failure.kind === 'permission-denied' || /\bpermission denied\b|user (?:name )?not found/i.test(failure.message)
  );
}
