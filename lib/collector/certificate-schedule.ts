// The members' server certificates as their TLS handshakes present them, read every ten minutes: expiry dates only.
import 'server-only';
import type { MemberView, Observation } from '@/lib/cluster/status-types';
import { readServerCertificate } from '@/lib/etcd/server-certificate';
import type { TlsCredentials } from '@/lib/etcd/tls-credentials';

const EVERY_MS = 10 * 60_000;
const HANDSHAKE_TIMEOUT_MS = 5000;

export interface MemberCertificate {
  memberId: string;
  /** The member's name when its certificate was read. */
  memberName: string;
  /** Expiry, epoch ms. */
  validTo: number;
}

type Reachable = MemberView & { id: string; endpoint: string };

export class CertificateSchedule {
  private startedAt = 0;
  private busy = false;
  private certificates: MemberCertificate[] | null = null;

  constructor(private readonly tls: TlsCredentials | null) {}

  /** Starts a round of handshakes when the last one began ten minutes ago and none is running. Never throws. */
  refresh(obs: Observation, now: number): void {
    if (now - this.startedAt < EVERY_MS || this.busy) return;
    this.startedAt = now;
    this.busy = true;
    const members = obs.members.filter((m): m is Reachable => Boolean(m.id && m.endpoint?.startsWith('https:')));
    void Promise.all(
      members.map(async (m) => {
        const r = await readServerCertificate(m.endpoint, this.tls, HANDSHAKE_TIMEOUT_MS);
        return r.ok ? { memberId: m.id, memberName: m.name, validTo: Date.parse(r.validTo) } : null;
      }),
    )
      .then((certs) => {
        // A member whose handshake failed this time (down, overloaded) keeps what was last read from it: its
        // certificate did not stop expiring because it did not answer.
        const before = new Map((this.certificates ?? []).map((c) => [c.memberId, c]));
        this.certificates = members.flatMap((m, i) => certs[i] ?? before.get(m.id) ?? []);
      })
      .finally(() => (this.busy = false));
  }

  /**
   * Takes up what another replica read (it polled the cluster until now) when this one has read nothing yet: the next
   * round comes ten minutes from `now` instead of at once.
   */
  carryOn(certificates: MemberCertificate[] | null, now: number): void {
    if (this.startedAt !== 0 || this.certificates !== null || !certificates || certificates.length === 0) return;
    this.certificates = certificates;
    this.startedAt = now;
  }

  /** The certificates of the latest round; null until a first round has finished. */
  latest(): MemberCertificate[] | null {
    return this.certificates;
  }
}
