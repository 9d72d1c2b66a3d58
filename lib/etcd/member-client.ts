// One etcd3 client per member endpoint, and one Status client from our own proto; a deadline on every call, no
// retries or circuit breaker.
import 'server-only';
import { Client, credentials, Metadata, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { fromJSON, type MethodDefinition, type ServiceDefinition } from '@grpc/proto-loader';
import { castGrpcError, Etcd3, type IOptions } from 'etcd3';
import { noop } from 'cockatiel';
import { secureContextOf, type TlsCredentials } from './tls-credentials';

/** A gRPC client bound to one member; only lib/etcd/ looks inside it. */
export type MemberClient = Etcd3;

export interface MemberClientOptions {
  endpoint: string;
  tls: TlsCredentials | null;
  /** Deadline for each unary call, in ms. */
  timeoutMs: number;
  /** HTTP/2 flow-control window; larger lets a snapshot stream run at disk speed. */
  flowControlWindowBytes?: number;
  /**
   * Clients made with the same group (newConnectionGroup) share one connection per member, their calls side by side on
   * it as HTTP/2 allows: a collector's etcd3 client (three gRPC services) and its Status client open one TLS connection
   * to a member, not four. Without a group a client's services share connections only among themselves.
   */
  connectionGroup?: number;
}

let lastConnectionGroup = 0;

/** A group of clients that share their connections (MemberClientOptions.connectionGroup), and only among themselves. */
export function newConnectionGroup(): number {
  return ++lastConnectionGroup;
}

/** A channel option of the dashboard's own: grpc-js ignores it, except that only channels alike share connections. */
const CONNECTION_GROUP_OPTION = 'etcd-dashboard.connection_group';

function channelOptions(opts: MemberClientOptions): ChannelOptions {
  return {
    // Reconnect quickly after a member comes back instead of backing off for up to two minutes.
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 1000,
    // Connections shared within the group only, though the credentials are shared by every client of the cluster
    // (channelCredentials): grpc-js reuses a connection only for the same options. A client that joined a failed
    // connection another client had opened (one made elsewhere, a test's) said "Last error: null" instead of why
    // (connection refused, TLS).
    [CONNECTION_GROUP_OPTION]: opts.connectionGroup ?? newConnectionGroup(),
    ...(opts.flowControlWindowBytes ? { 'grpc-node.flow_control_window': opts.flowControlWindowBytes } : {}),
  };
}

/**
 * What the calls a client makes while it is new may take beyond the call deadline: they also wait for the connection
 * (TCP, the TLS handshake), which a replica taking over a hundred clusters at once opens to hundreds of members in the
 * same second. Every call begun within that window ends by the window's end at the latest; later calls, and a member
 * that hangs later, are judged on the plain deadline.
 */
export const FIRST_CALL_EXTRA_MS = 2000;

/** The deadline of a call begun now: at least the plain one, and the new client's window for its first calls. */
export function deadlines(timeoutMs: number, createdAt = Date.now()): () => number {
  const coldUntil = createdAt + timeoutMs + FIRST_CALL_EXTRA_MS;
  return () => Math.max(Date.now() + timeoutMs, coldUntil);
}

/**
 * A status client must tell the truth on every call: etcd3's default retries move a call to another host and its
 * breaker keeps reporting a recovered member as down for 5 s, so both are switched off here.
 */
export function createMemberClient(opts: MemberClientOptions): MemberClient {
  const deadline = deadlines(opts.timeoutMs);
  const options: IOptions = {
    hosts: [opts.endpoint],
    dialTimeout: opts.timeoutMs + FIRST_CALL_EXTRA_MS,
    // Evaluated per call, so every attempt gets a fresh deadline; streams (snapshots) have none.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: deadline() }),
    faultHandling: { host: () => noop, global: noop },
    grpcOptions: channelOptions(opts),
  };
  if (opts.tls) {
    options.credentials = {
      // grpc-js takes null here as "use the system roots".
      rootCertificate: opts.tls.ca as Buffer,
      ...(opts.tls.key ? { privateKey: opts.tls.key } : {}),
      ...(opts.tls.cert ? { certChain: opts.tls.cert } : {}),
    };
    return withSharedCredentials(channelCredentials(opts), () => new Etcd3(options));
  }
  return new Etcd3(options);
}

/** Maintenance.Status as the wire has it (64-bit numbers as decimal strings, absent fields at their defaults). */
export interface RawMemberStatus {
  header: { cluster_id: string; member_id: string; revision: string; raft_term: string } | null;
  version: string;
  dbSize: string;
  leader: string;
  raftIndex: string;
  raftTerm: string;
  raftAppliedIndex: string;
  errors: string[];
  dbSizeInUse: string;
  isLearner: boolean;
  /** "" before 3.6. */
  storageVersion: string;
  /** "0" before 3.6. */
  dbSizeQuota: string;
  /** null before 3.6; 3.6+ always sends it. */
  downgradeInfo: { enabled: boolean; targetVersion: string } | null;
}

/** Asks one member for Maintenance.Status, with the fields etcd3 1.1.2's proto does not know. */
export interface StatusClient {
  /** Rejects with etcd3's typed errors (GRPCUnavailableError…), as etcd3's own calls do. */
  status(): Promise<RawMemberStatus>;
  close(): void;
}

/**
 * etcd's Maintenance.Status as api/etcdserverpb/rpc.proto of v3.6.14 and v3.7.1 define it, with the 3.6+ fields
 * (storageVersion 11, dbSizeQuota 12, downgradeInfo 13). Kept in code, not in a .proto file: Next.js bundles this
 * module, so no file path beside it is known at run time, and the dashboard may run from any folder.
 */
const STATUS_DESCRIPTOR: Parameters<typeof fromJSON>[0] = {
  nested: {
    etcdserverpb: {
      nested: {
        Maintenance: {
          methods: { Status: { requestType: 'StatusRequest', responseType: 'StatusResponse', comment: '' } },
        },
        ResponseHeader: {
          fields: {
            cluster_id: { type: 'uint64', id: 1 },
            member_id: { type: 'uint64', id: 2 },
            revision: { type: 'int64', id: 3 },
            raft_term: { type: 'uint64', id: 4 },
          },
        },
        StatusRequest: { fields: {} },
        StatusResponse: {
          fields: {
            header: { type: 'ResponseHeader', id: 1 },
            version: { type: 'string', id: 2 },
            dbSize: { type: 'int64', id: 3 },
            leader: { type: 'uint64', id: 4 },
            raftIndex: { type: 'uint64', id: 5 },
            raftTerm: { type: 'uint64', id: 6 },
            raftAppliedIndex: { type: 'uint64', id: 7 },
            errors: { rule: 'repeated', type: 'string', id: 8 },
            dbSizeInUse: { type: 'int64', id: 9 },
            isLearner: { type: 'bool', id: 10 },
            storageVersion: { type: 'string', id: 11 },
            dbSizeQuota: { type: 'int64', id: 12 },
            downgradeInfo: { type: 'DowngradeInfo', id: 13 },
          },
        },
        DowngradeInfo: {
          fields: { enabled: { type: 'bool', id: 1 }, targetVersion: { type: 'string', id: 2 } },
        },
      },
    },
  },
};
let statusMethod: MethodDefinition<object, RawMemberStatus> | null = null;

function loadStatusMethod(): MethodDefinition<object, RawMemberStatus> {
  if (statusMethod) return statusMethod;
  const definition = fromJSON(STATUS_DESCRIPTOR, { keepCase: true, longs: String, enums: String, defaults: true });
  const service = definition['etcdserverpb.Maintenance'] as ServiceDefinition;
  statusMethod = service.Status as unknown as MethodDefinition<object, RawMemberStatus>;
  return statusMethod;
}

/**
 * One set of channel credentials per cluster's TLS material, over its one TLS context (secureContextOf), made once
 * and given to every client of the cluster, etcd3's and the Status one alike: the CA, certificate and key are parsed
 * once, not at every client (a fleet's collectors and consistency checks make thousands). Each client still has
 * connections of its own (channelOptions).
 */
const sslCredentials = new WeakMap<NonNullable<MemberClientOptions['tls']>, ChannelCredentials>();

/** What etcd3 does with the same options: the given TLS material, else system roots for https, else plaintext. */
function channelCredentials(opts: MemberClientOptions): ChannelCredentials {
  if (opts.tls) {
    let made = sslCredentials.get(opts.tls);
    if (!made) {
      made = credentials.createFromSecureContext(secureContextOf(opts.tls));
      sslCredentials.set(opts.tls, made);
    }
    return made;
  }
  return opts.endpoint.startsWith('https:') ? credentials.createSsl() : credentials.createInsecure();
}

/**
 * etcd3 makes its channel credentials itself, with grpc-js's credentials.createSsl, in its constructor: for that
 * synchronous moment createSsl answers the cluster's shared credentials (the same module instance: both packages are
 * external to the bundle, next.config.ts), and is put back before anything else runs.
 */
function withSharedCredentials<T>(shared: ChannelCredentials, make: () => T): T {
  const createSsl = credentials.createSsl;
  credentials.createSsl = () => shared;
  try {
    return make();
  } finally {
    credentials.createSsl = createSsl;
  }
}

export function createStatusClient(opts: MemberClientOptions): StatusClient {
  const client = new Client(opts.endpoint.replace(/^https?:\/\//, ''), channelCredentials(opts), channelOptions(opts));
  const deadline = deadlines(opts.timeoutMs);
  return {
    status: () =>
      new Promise<RawMemberStatus>((resolve, reject) => {
        try {
          const method = loadStatusMethod();
          client.makeUnaryRequest(
            method.path,
            method.requestSerialize,
            method.responseDeserialize,
            {},
            new Metadata(),
            { deadline: deadline() },
            (err, res) => {
              if (err) reject(castGrpcError(err));
              else if (!res) reject(new Error('empty Status response'));
              else resolve(res);
            },
          );
        } catch (err) {
          // A closed channel or an unreadable proto throws before any call is made.
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      }),
    close: () => client.close(),
  };
}
