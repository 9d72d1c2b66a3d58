import { beforeEach, describe, expect, it } from 'vitest';
import { tempDatabasePerTest } from '@/test/support/temp-database';
import { openDatabase } from '@/lib/db/database';
import { SnapshotStore, type NewSnapshot, type VerifiedResult } from './snapshot-store';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

const temp = tempDatabasePerTest('snapshot-store-');
let store: SnapshotStore;

beforeEach(() => {
  store = new SnapshotStore(temp.db);
});

function attempt(id: string, startedAt: number, clusterId = 'prod'): NewSnapshot {
  return {
    id,
    clusterId,
    startedAt,
    memberId: '8e9e05c52164694d',
    memberName: 'etcd-0',
    trigger: 'manual',
    triggeredBy: 'alice',
    fileName: `${id}.db`,
  };
}

function verified(finishedAt: number, s3 = false): VerifiedResult {
  return {
    finishedAt,
    sizeBytes: 4096,
    revision: 42,
    totalKeys: 7,
    hash: 0xdeadbeef,
    sha256: 'ab'.repeat(32),
    keyspace: [],
    locations: [{ kind: 'local', where: `/data/snapshots/${finishedAt}.db` }],
    ...(s3 ? { locations: [{ kind: 's3', where: 's3://backups/prod/x.db' }] } : {}),
  };
}

describe('SnapshotStore.latestVerified: what the status, the alerts and /metrics read every second', () => {
  it('follows every write: a new verified snapshot, a failure, a missing file, retention, new locations', () => {
    expect(store.latestVerified('prod')).toBeNull();

    store.insert(attempt('s1', T0));
    expect(store.latestVerified('prod'), 'running is not verified').toBeNull();
    store.succeed('s1', verified(T0 + 1000));
    expect(store.latestVerified('prod')?.id).toBe('s1');

    store.insert(attempt('s2', T0 + 60_000));
    store.fail('s2', 'disk full', T0 + 61_000);
    expect(store.latestVerified('prod')?.id, 'a failed attempt changes nothing').toBe('s1');

    store.insertVerified(attempt('s3', T0 + 120_000), verified(T0 + 121_000));
    expect(store.latestVerified('prod')?.id).toBe('s3');
    expect(store.latestVerified('prod')?.locations.map((l) => l.kind)).toEqual(['local']);

    store.setLocations('s3', [
      { kind: 'local', where: '/data/snapshots/s3.db' },
      { kind: 's3', where: 's3://backups/prod/s3.db' },
    ]);
    expect(store.latestVerified('prod')?.locations.map((l) => l.kind)).toEqual(['local', 's3']);

    store.noteError('s3', 'off-site copy retried');
    expect(store.latestVerified('prod')?.error).toBe('off-site copy retried');

    store.markMissing('s3');
    expect(store.latestVerified('prod')?.id, 'a file removed outside the dashboard').toBe('s1');

    store.markDeleted('s1', T0 + 200_000);
    expect(store.latestVerified('prod'), 'retention removed the last one').toBeNull();
  });

  it('keeps clusters apart, and agrees with a second store reading the same database', () => {
    store.insertVerified(attempt('a', T0, 'prod'), verified(T0 + 1000));
    store.insertVerified(attempt('b', T0 + 5000, 'staging'), verified(T0 + 6000, true));
    expect(store.latestVerified('prod')?.id).toBe('a');
    expect(store.latestVerified('staging')?.id).toBe('b');
    expect(store.latestVerified('staging')?.locations[0]?.kind).toBe('s3');
    expect(store.latestVerified('nope')).toBeNull();

    const fresh = new SnapshotStore(temp.db);
    for (const c of ['prod', 'staging', 'nope']) expect(store.latestVerified(c), c).toEqual(fresh.latestVerified(c));
  });

  it('sees a write another connection to the same file commits', () => {
    store.insertVerified(attempt('a', T0), verified(T0 + 1000));
    expect(store.latestVerified('prod')?.id).toBe('a');
    const other = openDatabase(temp.file);
    try {
      const elsewhere = new SnapshotStore(other);
      elsewhere.insertVerified(attempt('b', T0 + 5000), verified(T0 + 6000));
      expect(store.latestVerified('prod')?.id).toBe('b');
      elsewhere.markDeleted('b', T0 + 7000);
      expect(store.latestVerified('prod')?.id).toBe('a');
    } finally {
      other.close();
    }
  });
});
