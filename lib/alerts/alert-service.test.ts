// The alert service over a real store (SQLite) and a real HTTP receiver on loopback, with the collector and the
// history faked: what one evaluation stores and notifies, when the database answers and when it refuses.
import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Observation } from '@/lib/cluster/status-types';
import type { ClusterCollector } from '@/lib/collector/cluster-collector';
import { loadConfig, type DashboardConfig } from '@/lib/config/load-config';
import { sqliteStore } from '@/lib/db/sqlite-store';
import type { EventStore } from '@/lib/history/event-store';
import type { SampleStore } from '@/lib/history/sample-store';
import type { SnapshotManager } from '@/lib/snapshots/snapshot-manager';
import { observation } from '@/test/support/observations';
import { tempDatabasePerTest } from '@/test/support/temp-database';
import { startReceiver, type TestReceiver } from '@/test/support/test-receiver';
import { AlertService } from './alert-service';
import { AlertStore } from './alert-store';
import type { TrackedAlert } from './alert-tracker';
import type { AlertNotification } from './notify/notification-types';
import type { WebhookBody } from './notify/receiver-request';

const temp = tempDatabasePerTest('alert-service-');
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const S = 1000;

/** Five voting members, etcd-3 and etcd-4 unreachable: quorum holds with nothing to spare. */
const twoDown = (at: number): Observation => ({
  ...observation({ members: [{}, {}, {}, { health: 'unreachable' }, { health: 'unreachable' }] }),
  observedAt: new Date(at).toISOString(),
});
const allUp = (at: number): Observation => ({
  ...observation({ members: [{}, {}, {}, {}, {}] }),
  observedAt: new Date(at).toISOString(),
});

/** The store, refusing every write (and the read of the open alerts) while `refusing` is set. */
class FlakyStore extends AlertStore {
  refusing = false;
  private refuse(): void {
    if (this.refusing) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
  }
  override async fired(clusterId: string, a: TrackedAlert): Promise<boolean> {
    this.refuse();
    return super.fired(clusterId, a);
  }
  override async resolved(id: string, at: number, summary: string): Promise<void> {
    this.refuse();
    return super.resolved(id, at, summary);
  }
  override async open(clusterId: string) {
    this.refuse();
    return super.open(clusterId);
  }
}

let receiver: TestReceiver;
let store: FlakyStore;
let obs: Observation | null;
let config: DashboardConfig;
const services: AlertService[] = [];

beforeEach(async () => {
  receiver = await startReceiver();
  store = new FlakyStore(sqliteStore(temp.db));
  obs = null;
  const loaded = loadConfig({ ETCDCTL_ENDPOINTS: 'http://127.0.0.1:1', DATA_DIR: os.tmpdir() });
  const cluster = loaded.clusters[0]!;
  config = {
    ...loaded,
    clusters: [
      {
        ...cluster,
        alerts: {
          // Fired at the first evaluation that finds them.
          thresholds: { ...cluster.alerts.thresholds, forSeconds: { member_down: 0, quorum_at_risk: 0 } },
          receivers: [{ type: 'webhook', name: 'ops', url: `${receiver.origin}/hooks/etcd` }],
        },
      },
    ],
  };
});
afterEach(async () => {
  for (const s of services.splice(0)) s.stop();
  await receiver.close();
  vi.restoreAllMocks();
});

function service(): AlertService {
  const collector = {
    current: () => obs,
    certificates: () => null,
    census: () => null,
    latestMetrics: () => new Map(),
  } as unknown as ClusterCollector;
  const svc = new AlertService({
    config,
    collectors: new Map([[config.clusters[0]!.id, collector]]),
    staleAfterMs: 60 * S,
    events: { countByType: () => Promise.resolve(0) } as unknown as EventStore,
    samples: { query: () => Promise.resolve({ members: [] }) } as unknown as SampleStore,
    // A verified snapshot of a moment ago: no snapshot rule has anything to say.
    snapshots: {
      latestVerifiedSummary: () => ({ finishedAt: new Date(T0).toISOString(), restoreTest: null, offsite: null }),
      latestRestoreTestedSummary: () => null,
    } as unknown as SnapshotManager,
    store,
    dashboardUrl: null,
  });
  services.push(svc);
  return svc;
}

const clusterId = () => config.clusters[0]!.id;
const firingIds = (svc: AlertService, now: number) =>
  svc
    .active(undefined, now)
    .filter((a) => a.state === 'firing')
    .map((a) => a.id)
    .sort();

/** The alerts of the receiver's n-th request (from 1), once it has arrived. */
async function request(n: number): Promise<AlertNotification[]> {
  return vi.waitFor(
    () => {
      const req = receiver.requests[n - 1];
      if (!req) throw new Error(`${receiver.requests.length} requests, waiting for ${n}`);
      return (req.body as WebhookBody).alerts;
    },
    { timeout: 5000, interval: 5 },
  );
}

describe('AlertService: what an evaluation stores and notifies', () => {
  it('stores every alert that fired, then notifies them all in one request', async () => {
    const svc = service();
    obs = twoDown(T0);
    await svc.evaluateAll(T0);

    const firing = firingIds(svc, T0);
    expect(firing).toHaveLength(3); // etcd-3 and etcd-4 down, quorum at risk
    expect((await store.open(clusterId())).map((a) => a.id).sort()).toEqual(firing);
    // Three state changes of one evaluation: one request carries them all, not one and then two.
    expect((await request(1)).map((a) => a.id).sort()).toEqual(firing);
  });

  it('a database that refuses holds up no notification; the changes are stored in order once it answers', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const svc = service();
    obs = allUp(T0);
    await svc.evaluateAll(T0); // the open alerts are read: none
    store.refusing = true;
    obs = twoDown(T0 + S);
    await svc.evaluateAll(T0 + S);
    const fired = firingIds(svc, T0 + S);
    expect(fired).toHaveLength(3);
    expect((await request(1)).map((a) => a.id).sort()).toEqual(fired);
    obs = allUp(T0 + 2 * S);
    await svc.evaluateAll(T0 + 2 * S); // every one of them resolved, still refused
    expect(firingIds(svc, T0 + 2 * S)).toEqual([]);
    const resolved = await request(2);
    expect(resolved.map((a) => [a.id, a.state]).sort()).toEqual(fired.map((id) => [id, 'resolved']));
    // Said once for the outage, not once per write.
    expect(log.mock.calls.filter(([line]) => String(line).includes('refuses the alerts'))).toHaveLength(1);

    store.refusing = false;
    expect(await store.open(clusterId())).toEqual([]);
    await svc.evaluateAll(T0 + 3 * S);
    // Written in the order they happened: each fired, then resolved (a resolve before its fire would be lost).
    const history = await store.history({ from: 0, to: T0 + 10 * S });
    expect(history.map((a) => a.id).sort()).toEqual(fired);
    expect(history.every((a) => a.firingSince === T0 + S && a.resolvedAt === T0 + 2 * S)).toBe(true);
    expect(log).toHaveBeenCalledWith('alerts: the database answers again');
  });

  it('alerts left open by the last run are read back before the cluster is judged, then resolve', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    obs = twoDown(T0);
    const before = service();
    await before.evaluateAll(T0);
    const open = firingIds(before, T0);
    before.stop();

    // A restart, and the database does not answer at first: the cluster is not judged (nothing new is raised
    // beside the stored alerts, which would stay open).
    const svc = service();
    store.refusing = true;
    obs = allUp(T0 + 5 * S);
    await svc.evaluateAll(T0 + 5 * S);
    expect(svc.active(undefined, T0 + 5 * S)).toEqual([]);
    expect(log.mock.calls.some(([line]) => String(line).includes('read again before it is judged'))).toBe(true);

    store.refusing = false;
    await svc.evaluateAll(T0 + 6 * S);
    expect(await store.open(clusterId())).toEqual([]);
    const history = await store.history({ from: 0, to: T0 + 10 * S });
    expect(history.map((a) => [a.id, a.resolvedAt]).sort()).toEqual(open.map((id) => [id, T0 + 6 * S]));
  });
});

describe('AlertService on replicas: only the leader judges, stores and notifies', () => {
  it('a leader that dies before its receivers took a notice: the next sends it, the firing one and a resolve owed', async () => {
    const busy = { status: 503, body: 'busy' };
    // The receiver refuses: the leader stores the alerts, but its notices are still being retried when it dies.
    receiver.answer = () => busy;
    obs = twoDown(T0);
    const first = service();
    await first.evaluateAll(T0);
    const fired = firingIds(first, T0);
    expect(fired).toHaveLength(3);
    await request(1);
    first.stop();
    expect((await store.open(clusterId())).map((a) => a.notified)).toEqual([null, null, null]);

    // The next leader sends them as firing: not lost. This time they are taken, and recorded as notified.
    receiver.answer = () => ({ status: 200, body: 'ok' });
    const sent = receiver.requests.length;
    const second = service();
    await second.restoreAll();
    await second.evaluateAll(T0 + S);
    const again = await request(sent + 1);
    expect(again.map((a) => `${a.state} ${a.id}`).sort()).toEqual(fired.map((id) => `firing ${id}`));
    await vi.waitFor(async () =>
      expect((await store.open(clusterId())).every((a) => a.notified === 'firing')).toBe(true),
    );

    // It resolves them, but dies before the receiver takes the resolve.
    receiver.answer = () => busy;
    obs = allUp(T0 + 2 * S);
    await second.evaluateAll(T0 + 2 * S);
    await request(sent + 2);
    second.stop();
    expect(await store.open(clusterId())).toEqual([]);

    // The third sends the resolves it owes, once; no firing notice again.
    receiver.answer = () => ({ status: 200, body: 'ok' });
    const before = receiver.requests.length;
    const third = service();
    await third.restoreAll();
    const owed = await request(before + 1);
    expect(owed.map((a) => `${a.state} ${a.id}`).sort()).toEqual(fired.map((id) => `resolved ${id}`));
    await third.evaluateAll(T0 + 3 * S);
    await vi.waitFor(async () =>
      expect((await store.history({ from: 0, to: T0 + 10 * S })).map((a) => a.notified)).toEqual(
        fired.map(() => 'resolved'),
      ),
    );
    expect(receiver.requests).toHaveLength(before + 1);
  });

  it('a replica that does not lead shows what the leader stored and sends nothing; taking over, it resolves them once', async () => {
    obs = twoDown(T0);
    const leader = service();
    const follower = service();
    await leader.evaluateAll(T0);
    const fired = firingIds(leader, T0);
    expect(fired).toHaveLength(3);
    await request(1);

    await follower.follow();
    // The same alerts, under the leader's ids, and since when the leader saw them fire.
    expect(firingIds(follower, T0)).toEqual(fired);
    expect(follower.active(undefined, T0).map((a) => a.since)).toEqual(
      leader.active(undefined, T0).map((a) => a.since),
    );

    // The leader resolves one (etcd-4 is back): the follower's next read shows it gone.
    obs = { ...allUp(T0 + S), members: twoDown(T0 + S).members.map((m, i) => (i === 4 ? allUp(T0).members[4]! : m)) };
    await leader.evaluateAll(T0 + S);
    await request(2);
    await follower.follow();
    expect(firingIds(follower, T0 + S)).toEqual(firingIds(leader, T0 + S));
    expect(firingIds(follower, T0 + S).length).toBeLessThan(fired.length);
    expect(firingIds(follower, T0 + S).length).toBeGreaterThan(0);

    // The leader dies, after recording what its receiver took (dying in between is the one way a notice goes twice);
    // the follower takes over, judges with all members up and resolves the rest, each notified once.
    await vi.waitFor(async () => {
      const all = await store.history({ from: 0, to: T0 + 10 * S });
      expect(all.map((a) => a.notified)).toEqual(all.map((a) => (a.resolvedAt === null ? 'firing' : 'resolved')));
    });
    leader.stop();
    obs = allUp(T0 + 2 * S);
    await follower.restoreAll();
    await follower.evaluateAll(T0 + 2 * S);
    const resolved = await request(3);
    expect(resolved.map((a) => a.state)).toEqual(resolved.map(() => 'resolved'));
    expect(resolved.map((a) => a.id).sort()).toEqual(firingIds(leader, T0 + S));
    expect(await store.open(clusterId())).toEqual([]);
    // Nothing fired a second time: three requests in all (fired; one resolved; the rest resolved).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.requests).toHaveLength(3);
  });
});
