// The shape of a consistency check (HashKV of every member at one revision); read by the API, the alert rules and the
// browser. No server imports here.

export interface ConsistencyMember {
  /** Hex member id. */
  id: string;
  name: string;
  /** HashKV's hash at the check's revision (a uint32); null when the member did not answer. */
  hash: number | null;
  /** The member's compact revision as HashKV reported it; null when it did not answer. */
  compactRevision: number | null;
  /** Why the member has no hash (down, refused, compacted away…); null when it answered. */
  error: string | null;
}

export interface ConsistencyCheck {
  clusterId: string;
  /** ISO time the check finished. */
  checkedAt: string;
  /** The revision every member hashed; null when no common revision could be hashed. */
  revision: number | null;
  /**
   * true: every member that answered has the same hash (at least two answered); false: some differ; null: the check
   * could not compare (fewer than two answers, or the members' compact revisions differ).
   */
  agree: boolean | null;
  members: ConsistencyMember[];
  /** The member whose hash differs from the majority; null when they agree or there is no majority. */
  suspect: string | null;
  /** One line when the check could not compare, or what the disagreement means. */
  note: string | null;
}
