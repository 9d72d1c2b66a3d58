// The TLS material a cluster's clients present: file contents held in memory, never logged or returned.
import 'server-only';

export interface TlsCredentials {
  /** CA bundle that signs the members' server certificates; null means the system roots. */
  ca: Buffer | null;
  cert: Buffer | null;
  key: Buffer | null;
}
