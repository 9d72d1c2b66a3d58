// Turns consecutive observations of a cluster into the events of its story: leader changes, members going
// down and up, quorum lost and restored, alarms, membership changes. Pure: the collector keeps the state.
import type { ClusterEvent } from '@/lib/history/series';
import type { MemberHealth, Observation } from '@/lib/cluster/status-types';

export interface EventState {
  /** The last leader seen; kept through polls without one, so the change is reported when one is elected. */
  lastLeader: { id: string; name: string } | null;
  /** Highest raft term seen. */
  lastTerm: number | null;
  health: ReadonlyMap<string, MemberHealth>;
  /** Ids in the member list; null until one has been read. */
  memberIds: ReadonlySet<string> | null;
  quorumLost: boolean;
  alarms: ReadonlySet<string>;
  /** Member names by id, so a removed member is named in its event. */
  names?: ReadonlyMap<string, string>;
  /**
   * Times (ms) of leader changes already reported from Status that the metric counters have not caught up with
   * yet; each expires after the match window, so a counter that never reports cannot hold them forever.
   */
  unmatchedStatusChanges: number[];
  /**
   * Times (ms) of leader changes the counters reported that Status has not shown (yet). They are reported on
   * their own only once a leader is known and they have waited the grace period, since the counters may simply
   * be ahead of the poll: an election seen in a scrape before the poll that shows its winner.
   */
  unmatchedMetricChanges?: number[];
}

export interface DeriveInput {
  observation: Observation;
  /**
   * The largest increase of etcd_server_leader_changes_seen_total among members whose counter did not reset,
   * since the previous call; null when no metrics were scraped in between.
   */
  leaderChangesFromMetrics: number | null;
  /** How long a Status-seen change waits for the counters to report it; a few metric scrape intervals. */
  matchWindowMs?: number;
  /** How long a counted change waits for Status to show it before it is reported from the counters alone. */
  graceMs?: number;
  /** A leader move the dashboard asked for: a change to `to` is recorded as asked by `by`. */
  leaderMove?: { to: string; by: string } | null;
}

const DEFAULT_GRACE_MS = 2_000;

const DEFAULT_MATCH_WINDOW_MS = 60_000;

/**
 * The leader's own term. Not the highest term seen: a member cut off from its peers campaigns on and on, raising
 * its term with no election the cluster took part in. Null without a leader, so the term of a leaderless poll
 * cannot hide the election that ends it.
 */
function leaderTerm(obs: Observation): number | null {
  if (!obs.leader) return null;
  return obs.members.find((m) => m.id === obs.leader?.id)?.status?.raftTerm ?? null;
}

const alarmKey = (a: { memberId: string; alarm: string }) => `${a.memberId}:${a.alarm}`;

/** The first observation sets the state and yields no events: what was already so is not news. */
export function deriveEvents(
  prev: EventState | null,
  input: DeriveInput,
): { events: ClusterEvent[]; state: EventState } {
  const obs = input.observation;
  const at = obs.observedAt ?? new Date().toISOString();
  const events: ClusterEvent[] = [];
  const names = new Map(obs.members.filter((m) => m.id).map((m) => [m.id as string, m.name]));
  const name = (id: string | null | undefined) => (id ? (names.get(id) ?? id) : null);

  const term = leaderTerm(obs);
  const nowMs = Date.parse(at);
  const window = input.matchWindowMs ?? DEFAULT_MATCH_WINDOW_MS;
  const health = new Map<string, MemberHealth>();
  for (const m of obs.members) if (m.id) health.set(m.id, m.health);
  const listed = obs.members.filter((m) => m.id && m.peerURLs.length > 0).map((m) => m.id as string);
  const memberIds = listed.length > 0 ? new Set(listed) : (prev?.memberIds ?? null);
  const alarms = new Set(obs.alarms.map(alarmKey));
  const quorumLost = obs.quorum.state === 'lost';
  let unmatched = (prev?.unmatchedStatusChanges ?? []).filter((t) => nowMs - t <= window);
  let counted = [...(prev?.unmatchedMetricChanges ?? [])];
  const grace = input.graceMs ?? DEFAULT_GRACE_MS;

  if (prev) {
    // Leader: seen from Status as a new leader id, or as a higher term under the same leader (an election
    // the same member won again, or a change and change-back between two polls).
    const cur = obs.leader;
    const old = prev.lastLeader;
    let statusSawChange = false;
    if (cur && old && cur.id !== old.id) {
      events.push({
        at,
        type: 'leader_changed',
        memberId: cur.id,
        details: {
          oldLeader: old.id,
          oldLeaderName: old.name,
          newLeader: cur.id,
          newLeaderName: cur.name,
          term,
          ...(input.leaderMove?.to === cur.id
            ? {
                requestedBy: input.leaderMove.by,
                note: `moved by the dashboard at the request of ${input.leaderMove.by}`,
              }
            : {}),
        },
      });
      statusSawChange = true;
    } else if (cur && old && cur.id === old.id && term !== null && prev.lastTerm !== null && term > prev.lastTerm) {
      events.push({
        at,
        type: 'leader_changed',
        memberId: cur.id,
        details: {
          oldLeader: old.id,
          oldLeaderName: old.name,
          newLeader: cur.id,
          newLeaderName: cur.name,
          term,
          note: `raft term rose from ${prev.lastTerm} to ${term}: an election between two polls, won again by ${cur.name}`,
        },
      });
      statusSawChange = true;
    }
    if (statusSawChange) unmatched.push(nowMs);
    // Cross-check with the members' own counters: changes Status did not see (too fast for the poll).
    const increase = input.leaderChangesFromMetrics ?? 0;
    for (let i = 0; i < increase; i++) counted.push(nowMs);
    const matched = Math.min(unmatched.length, counted.length);
    unmatched = unmatched.slice(matched);
    counted = counted.slice(matched);
    const due = cur ? counted.filter((t) => nowMs - t >= grace).length : 0;
    if (due > 0) {
      counted = counted.slice(due);
      events.push({
        at,
        type: 'leader_changed',
        memberId: cur?.id ?? null,
        details: {
          oldLeader: old?.id ?? null,
          oldLeaderName: old?.name ?? null,
          newLeader: cur?.id ?? null,
          newLeaderName: cur?.name ?? null,
          term,
          count: due,
          note: `the members counted ${due} leader change(s) between two polls that Status did not show`,
        },
      });
    }

    for (const [id, h] of health) {
      const before = prev.health.get(id);
      if (before === undefined) continue;
      const member = obs.members.find((m) => m.id === id);
      if (before === 'healthy' && h !== 'healthy') {
        events.push({
          at,
          type: 'member_down',
          memberId: id,
          details: { name: name(id), health: h, reason: member?.error ?? null },
        });
      } else if (before !== 'healthy' && h === 'healthy') {
        events.push({ at, type: 'member_up', memberId: id, details: { name: name(id), was: before } });
      }
    }

    if (!prev.quorumLost && quorumLost) {
      events.push({
        at,
        type: 'quorum_lost',
        memberId: null,
        details: {
          healthy: obs.quorum.healthy,
          voting: obs.quorum.voting,
          required: obs.quorum.required,
          leader: cur?.id ?? null,
        },
      });
    } else if (prev.quorumLost && !quorumLost) {
      events.push({
        at,
        type: 'quorum_restored',
        memberId: null,
        details: {
          healthy: obs.quorum.healthy,
          voting: obs.quorum.voting,
          state: obs.quorum.state,
          leader: cur?.id ?? null,
        },
      });
    }

    for (const a of obs.alarms) {
      if (!prev.alarms.has(alarmKey(a))) {
        events.push({
          at,
          type: 'alarm_raised',
          memberId: a.memberId,
          details: { alarm: a.alarm, name: name(a.memberId) },
        });
      }
    }
    for (const key of prev.alarms) {
      if (!alarms.has(key)) {
        const [memberId = '', alarm = ''] = key.split(':');
        events.push({ at, type: 'alarm_cleared', memberId, details: { alarm, name: name(memberId) } });
      }
    }

    if (prev.memberIds && memberIds && listed.length > 0) {
      for (const id of memberIds) {
        if (!prev.memberIds.has(id)) {
          const m = obs.members.find((x) => x.id === id);
          events.push({
            at,
            type: 'member_added',
            memberId: id,
            details: { name: name(id), peerURLs: m?.peerURLs ?? [], isLearner: m?.isLearner ?? false },
          });
        }
      }
      for (const id of prev.memberIds) {
        if (!memberIds.has(id))
          events.push({ at, type: 'member_removed', memberId: id, details: { name: prev.names?.get(id) ?? null } });
      }
    }
  }

  return {
    events,
    state: {
      lastLeader: obs.leader ?? prev?.lastLeader ?? null,
      // The current term, not the highest ever: a cluster restored from a snapshot starts counting again.
      lastTerm: term ?? prev?.lastTerm ?? null,
      health,
      memberIds,
      quorumLost,
      alarms,
      names: new Map([...(prev?.names ?? []), ...names]),
      unmatchedStatusChanges: unmatched,
      unmatchedMetricChanges: counted,
    },
  };
}
