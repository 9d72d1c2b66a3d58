// Runs the Secrets census of one cluster every five minutes on a healthy member, a follower when there is one.
import 'server-only';
import type { Observation } from '@/lib/cluster/status-types';
import { createMemberClient } from '@/lib/etcd/member-client';
import { censusSecrets, type SecretsCensus } from '@/lib/etcd/secrets-census';
import type { TlsCredentials } from '@/lib/etcd/tls-credentials';

const EVERY_MS = 5 * 60_000;
const CALL_TIMEOUT_MS = 5000;

/** The counts of the last census (never values), or why it failed. */
export type CensusOutcome = SecretsCensus | { error: string };

export class SecretsCensusSchedule {
  private startedAt = 0;
  private busy = false;
  private outcome: CensusOutcome | null = null;

  constructor(private readonly tls: TlsCredentials | null) {}

  /**
   * Starts a census when the last one began five minutes ago and none is running; with no healthy member it waits
   * for one (tried again at the next call). Never throws.
   */
  refresh(obs: Observation, now: number): void {
    if (now - this.startedAt < EVERY_MS || this.busy) return;
    const target =
      obs.members.find((m) => m.health === 'healthy' && m.endpoint && !m.status?.isLeader) ??
      obs.members.find((m) => m.health === 'healthy' && m.endpoint);
    if (!target?.endpoint) return;
    this.startedAt = now;
    this.busy = true;
    const client = createMemberClient({ endpoint: target.endpoint, tls: this.tls, timeoutMs: CALL_TIMEOUT_MS });
    void censusSecrets(client)
      .then((r) => (this.outcome = r.ok ? r : { error: r.reason }))
      .finally(() => {
        client.close();
        this.busy = false;
      });
  }

  /**
   * Takes up another replica's last census (it polled the cluster until now) when this one has run none yet: the next
   * comes five minutes after that one was read. A failed census is not taken up: this replica tries for itself.
   */
  carryOn(census: CensusOutcome | null, now: number): void {
    if (this.startedAt !== 0 || this.outcome !== null || !census || !('ok' in census)) return;
    const at = Date.parse(census.scannedAt);
    if (Number.isNaN(at)) return;
    this.outcome = census;
    // A clock ahead on the other replica does not put the next census off by more than five minutes.
    this.startedAt = Math.min(at, now);
  }

  /** The last census; null until a first one has finished. */
  latest(): CensusOutcome | null {
    return this.outcome;
  }
}
