// The clients of one cluster's members, one etcd3 client and one Status client per endpoint, made on first use and
// closed together; both share one connection per member.
import 'server-only';
import {
  createMemberClient,
  createStatusClient,
  newConnectionGroup,
  type MemberClient,
  type StatusClient,
} from './member-client';
import type { TlsCredentials } from './tls-credentials';

export class MemberClients {
  private readonly clients = new Map<string, MemberClient>();
  private readonly statusClients = new Map<string, StatusClient>();
  private readonly connectionGroup = newConnectionGroup();

  constructor(
    private readonly tls: TlsCredentials | null,
    /** Deadline of each unary call, in ms. */
    private readonly timeoutMs: number,
  ) {}

  client(endpoint: string): MemberClient {
    let c = this.clients.get(endpoint);
    if (!c) {
      c = createMemberClient({
        endpoint,
        tls: this.tls,
        timeoutMs: this.timeoutMs,
        connectionGroup: this.connectionGroup,
      });
      this.clients.set(endpoint, c);
    }
    return c;
  }

  status(endpoint: string): StatusClient {
    let c = this.statusClients.get(endpoint);
    if (!c) {
      c = createStatusClient({
        endpoint,
        tls: this.tls,
        timeoutMs: this.timeoutMs,
        connectionGroup: this.connectionGroup,
      });
      this.statusClients.set(endpoint, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    for (const c of this.statusClients.values()) c.close();
    this.statusClients.clear();
  }
}
