// A maintenance run's rows when the database is slow or refuses: written in the order asked, never holding the run up,
// and never leaving a run "running" that ended. No etcd: the members' endpoints are a closed port, so every run
// fails its first step (the Status read before it), which is a run that starts, saves its steps and ends.
import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '@/lib/auth/audit-log';
import type { Observation } from '@/lib/cluster/status-types';
import { loadConfig, type ClusterConfig } from '@/lib/config/load-config';
import { sqliteStore } from '@/lib/db/sqlite-store';
import { isDomainError } from '@/lib/errors/domain-errors';
import { observation } from '@/test/support/observations';
import { until } from '@/test/support/poll';
import { tempDatabasePerTest } from '@/test/support/temp-database';
import { DEFAULT_MAINTENANCE_SETTINGS, MaintenanceService, type MaintenanceActor } from './maintenance-service';
import { MaintenanceStore, type NewRun } from './maintenance-store';
import type { RunState, RunStep } from './maintenance-types';

const temp = tempDatabasePerTest('maintenance-writes-');
const OPERATOR: MaintenanceActor = { actor: 'alice', role: 'operator', method: 'session', source: '127.0.0.1' };
/** Nothing listens on port 1: a Status read fails at once. */
const CLOSED = 'http://127.0.0.1:1';

/** The store with a hand on every write: each may be delayed or refused, and what landed is listed in order. */
class ControlledStore extends MaintenanceStore {
  /** What was written, in the order the writes completed. */
  readonly landed: string[] = [];
  /** Per call, ms to wait before writing (index by the call's number among all writes). */
  delays: number[] = [];
  refuseInsert = false;
  refuseSaves = false;
  refuseEnd = 0;
  refuseMark = 0;
  marks = 0;
  private calls = 0;

  private async gate(what: string, refuse: boolean): Promise<void> {
    const delay = this.delays[this.calls++] ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (refuse) throw new Error(`${what}: connect ECONNREFUSED 127.0.0.1:5432`);
  }
  override async insert(run: NewRun): Promise<void> {
    await this.gate('insert', this.refuseInsert);
    await super.insert(run);
    this.landed.push('insert');
  }
  override async saveSteps(id: string, steps: RunStep[]): Promise<void> {
    await this.gate('saveSteps', this.refuseSaves);
    await super.saveSteps(id, steps);
    this.landed.push(`steps:${steps.map((s) => s.state).join(',')}`);
  }
  override async finish(
    id: string,
    state: Exclude<RunState, 'running'>,
    at: number,
    reason: string | null,
    steps: RunStep[],
  ): Promise<void> {
    await this.gate('finish', this.refuseEnd > 0 && this.refuseEnd-- > 0);
    await super.finish(id, state, at, reason, steps);
    this.landed.push(`finish:${state}`);
  }
  override async markInterrupted(at: number) {
    this.marks++;
    if (this.refuseMark > 0 && this.refuseMark-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    return super.markInterrupted(at);
  }
}

let store: ControlledStore;
let audit: AuditLog;
let config: ClusterConfig;
let obs: Observation;

beforeEach(() => {
  const kysely = sqliteStore(temp.db);
  store = new ControlledStore(kysely);
  audit = new AuditLog(kysely);
  config = loadConfig({ ETCDCTL_ENDPOINTS: CLOSED, DATA_DIR: os.tmpdir() }).clusters[0]!;
  const healthy = observation();
  obs = {
    ...healthy,
    clusterId: config.id,
    observedAt: new Date().toISOString(),
    members: healthy.members.map((m) => ({ ...m, endpoint: CLOSED, clientURLs: [CLOSED] })),
  };
});
afterEach(() => {
  vi.restoreAllMocks();
});

function service(): MaintenanceService {
  return new MaintenanceService({
    clusters: [config],
    store,
    audit,
    events: null,
    observe: () => ({ ...obs, observedAt: new Date().toISOString() }),
    staleAfterMs: 60_000,
    snapshotRunning: () => null,
    markBusy: () => undefined,
    expectLeaderMove: () => undefined,
    failureDetails: (err) => (isDomainError(err) ? { code: err.code, message: err.message } : {}),
    settings: () => ({ ...DEFAULT_MAINTENANCE_SETTINGS, callTimeoutMs: 500 }),
  });
}

const STEPS_WHEN_FAILED = 'failed,skipped,skipped';

describe('MaintenanceService: a run’s rows', () => {
  it('are written in the order asked even when an earlier write is the slower one', async () => {
    const svc = service();
    // insert, then the first step's "running" save, slow; its "failed" save and the finish at once.
    store.delays = [0, 300, 0, 0];
    const run = await svc.start(config.id, { action: 'defragment' }, OPERATOR);
    await svc.settled(config.id);
    expect(store.landed).toEqual([
      'insert',
      'steps:running,pending,pending',
      'steps:failed,pending,pending',
      'finish:failed',
    ]);
    const stored = await store.get(config.id, run.id);
    expect(stored?.state).toBe('failed');
    expect(stored?.steps.map((s) => s.state).join(',')).toBe(STEPS_WHEN_FAILED);
    expect(await svc.get(config.id, run.id)).toEqual(stored);
  });

  it('a run whose writes are refused still ends: answered from memory, its end stored once the database answers', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const svc = service();
    store.refuseSaves = true;
    store.refuseEnd = 1;
    const run = await svc.start(config.id, { action: 'defragment' }, OPERATOR);
    // The run ends although none of its writes landed: the cluster is free for the next one.
    await until(
      () => svc.running(config.id),
      (id) => id === null,
      10_000,
    );
    expect(await svc.get(config.id, run.id)).toMatchObject({ state: 'failed' });
    expect((await svc.list(config.id)).map((r) => [r.id, r.state])).toEqual([[run.id, 'failed']]);
    expect((await store.get(config.id, run.id))?.state).toBe('running');
    expect(log.mock.calls.some(([line]) => String(line).includes('storing how it ended failed'))).toBe(true);

    // Tried again until it lands (the first retry a second later).
    const stored = await until(
      () => store.get(config.id, run.id),
      (r) => r?.state === 'failed',
      10_000,
    );
    expect(stored?.steps.map((s) => s.state).join(',')).toBe(STEPS_WHEN_FAILED);
    expect(await svc.get(config.id, run.id)).toEqual(stored);
    expect(log).toHaveBeenCalledWith(`maintenance ${run.id}: how it ended is stored now`);
  });

  it('a run the database will not store is not started, and leaves the cluster free', async () => {
    const svc = service();
    store.refuseInsert = true;
    await expect(svc.start(config.id, { action: 'defragment' }, OPERATOR)).rejects.toThrow(/ECONNREFUSED/);
    expect(svc.running(config.id)).toBeNull();
    expect(await store.list(config.id)).toEqual([]);
    const refused = await audit.query({ action: 'maintenance.defragment', outcome: 'failure' });
    expect(refused).toHaveLength(1);

    store.refuseInsert = false;
    const run = await svc.start(config.id, { action: 'defragment' }, OPERATOR);
    await svc.settled(config.id);
    expect((await store.get(config.id, run.id))?.state).toBe('failed');
  });

  it('runs a stopped dashboard left running are marked once; a refusal is tried again, and start waits for it', async () => {
    await store.insert({
      id: '20261206T010203Z-0a0b0c',
      clusterId: config.id,
      action: 'defragment',
      by: 'bob',
      trigger: 'manual',
      startedAt: Date.now() - 60_000,
      steps: [],
    });
    const svc = service();
    store.refuseMark = 1;
    await expect(svc.markInterrupted()).rejects.toThrow(/ECONNREFUSED/);
    expect((await store.get(config.id, '20261206T010203Z-0a0b0c'))?.state).toBe('running');

    // start() marks them first (it was refused at startup), then stores its own run.
    const run = await svc.start(config.id, { action: 'defragment' }, OPERATOR);
    await svc.settled(config.id);
    await svc.markInterrupted();
    expect(store.marks).toBe(2);
    expect((await store.get(config.id, '20261206T010203Z-0a0b0c'))?.state).toBe('interrupted');
    expect((await store.get(config.id, run.id))?.state).toBe('failed');
    const interrupted = await audit.query({ action: 'maintenance.defragment', outcome: 'failure' });
    expect(interrupted.some((r) => r.details.phase === 'interrupted' && r.actor === 'dashboard')).toBe(true);
  });

  it('a cancel of the run in progress is answered from memory and written behind the run’s earlier writes', async () => {
    const svc = service();
    // The insert lands; the first step's save is slow, so the run is still at its first step when canceled.
    store.delays = [0, 300];
    const run = await svc.start(config.id, { action: 'defragment' }, OPERATOR);
    const canceled = await svc.cancel(config.id, run.id, OPERATOR);
    expect(canceled.cancelRequested).toBe(true);
    await svc.settled(config.id);
    const stored = await store.get(config.id, run.id);
    expect(stored?.cancelRequested).toBe(true);
    expect(store.landed[0]).toBe('insert');
    expect(store.landed.at(-1)).toMatch(/^finish:/);
  });
});
