import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { failureDetails } from '@/lib/api/api-error';
import { GET as download, HEAD as downloadHead } from '@/app/api/clusters/[id]/snapshots/[sid]/download/route';
import { GET as list } from '@/app/api/clusters/[id]/snapshots/route';
import { GET as detail } from '@/app/api/clusters/[id]/snapshots/[sid]/route';
import { AuditLog } from '@/lib/auth/audit-log';
import { TokenStore } from '@/lib/auth/token-store';
import type { Role } from '@/lib/auth/roles';
import type { DashboardConfig } from '@/lib/config/load-config';
import { ClusterReads } from '@/lib/collector/cluster-reads';
import { openDatabase } from '@/lib/db/database';
import { sqliteStore } from '@/lib/db/sqlite-store';
import { accessServices } from '@/test/support/access-services';
import { SnapshotManager } from './snapshot-manager';
import { SnapshotStore } from './snapshot-store';
import type { SnapshotRecord } from './snapshot-types';

// The part of the dashboard's runtime the snapshot routes touch, over a real database and folder.
const runtime = vi.hoisted(() => ({ current: null as unknown }));
vi.mock('@/lib/app/dashboard', () => ({ dashboard: () => runtime.current }));

const FIXTURE = path.join(__dirname, 'fixtures', 'etcd-3.4.23-small.db');
const ID = '20260101T000000Z-aaaaaa';
const KEY_TEXT = '-----BEGIN PRIVATE KEY-----\nnever to be served\n-----END PRIVATE KEY-----\n';

let tmp: string;
let snapshotDir: string;
let db: Database.Database;
let audit: AuditLog;
let tokens: TokenStore;
const token: Partial<Record<Role | 'revoked', { id: string; token: string }>> = {};

beforeEach(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'snapshot-reads-'));
  snapshotDir = path.join(tmp, 'snapshots');
  mkdirSync(path.join(snapshotDir, 'prod'), { recursive: true });
  copyFileSync(FIXTURE, path.join(snapshotDir, 'prod', `${ID}.db`));
  db = openDatabase(path.join(tmp, 'dashboard.sqlite'));
  const services = accessServices(db, { anonymous: 'viewer' });
  ({ audit, tokens } = services.auth);
  const config = {
    snapshotDir,
    auth: { proxy: null, anonymous: 'viewer' },
    clusters: [{ id: 'prod', name: 'Production', snapshots: { schedule: null, retention: {}, offsite: null } }],
  } as unknown as DashboardConfig;
  const snapshots = new SnapshotManager({
    config,
    store: new SnapshotStore(sqliteStore(db)),
    audit,
    observe: () => null,
    failureDetails,
  });
  await snapshots.reconcile();
  await snapshots.flushWrites();
  const collectors = new Map();
  const clusters = new ClusterReads({
    clusters: config.clusters,
    collectors,
    pollIntervalMs: 1000,
    staleAfterMs: 5000,
    lastVerifiedSnapshot: () => null,
    secretsCensus: () => undefined,
  });
  runtime.current = { ...services, config, snapshots, snapshotDir, clusters, collectors };
  for (const role of ['viewer', 'operator', 'revoked'] as const) {
    const made = { name: `${role}-bot`, role: role === 'revoked' ? 'operator' : role, expiresAt: null, createdBy: 'a' };
    token[role] = await tokens.create(made, Date.now());
  }
  await tokens.revoke(token.revoked?.id as string, Date.now());
});
afterEach(() => {
  db.close();
  rmSync(tmp, { recursive: true, force: true });
});

const as = (who: Role | 'revoked' | 'anonymous'): Record<string, string> =>
  who === 'anonymous' ? {} : { Authorization: `Bearer ${token[who]?.token}` };
const ctx = (sid = ID) => ({ params: Promise.resolve({ id: 'prod', sid }) });
const url = `http://dashboard.test/api/clusters/prod/snapshots/${ID}/download`;

function call(method: 'GET' | 'HEAD', who: Role | 'revoked' | 'anonymous') {
  const req = new Request(url, { method, headers: as(who) });
  return (method === 'GET' ? download : downloadHead)(req, ctx());
}

const auditRows = async () =>
  (await audit.query({}))
    .filter((e) => e.action.startsWith('snapshot.'))
    .map((e) => ({ actor: e.actor, method: e.method, action: e.action, outcome: e.outcome, details: e.details }));

describe('GET and HEAD of a snapshot download: the same access check, each audited as what it is', () => {
  it('HEAD answers the headers a GET would, without a body, audited as snapshot.head and not as a download', async () => {
    const res = await call('HEAD', 'operator');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('24608');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="prod-${ID}.db"`);
    expect(res.body).toBeNull();
    expect(await auditRows()).toEqual([
      {
        actor: 'token:operator-bot',
        method: 'token',
        action: 'snapshot.head',
        outcome: 'success',
        details: { actorTokenId: token.operator?.id, snapshotId: ID },
      },
    ]);
  });

  it.each(['GET', 'HEAD'] as const)(
    '%s by a viewer is a 403, by anyone anonymous a 401, by a revoked token a 401: each refusal audited',
    async (method) => {
      const action = method === 'GET' ? 'snapshot.download' : 'snapshot.head';
      expect((await call(method, 'viewer')).status).toBe(403);
      expect((await call(method, 'anonymous')).status).toBe(401);
      expect((await call(method, 'revoked')).status).toBe(401);
      expect(await auditRows()).toEqual([
        {
          actor: 'token:revoked-bot',
          method: 'token',
          action,
          outcome: 'denied',
          details: { reason: `the API token ${token.revoked?.id} was revoked`, actorTokenId: token.revoked?.id },
        },
        {
          actor: 'anonymous',
          method: 'none',
          action,
          outcome: 'denied',
          details: { reason: 'sign in: anonymous users may only look' },
        },
        {
          actor: 'token:viewer-bot',
          method: 'token',
          action,
          outcome: 'denied',
          details: {
            reason: 'the operator role is needed; token:viewer-bot is viewer',
            actorTokenId: token.viewer?.id,
          },
        },
      ]);
    },
  );

  it('a link to a key file put in place of the snapshot is refused in the one error shape, and never read', async () => {
    const key = path.join(tmp, 'client.key');
    writeFileSync(key, KEY_TEXT);
    const file = path.join(snapshotDir, 'prod', `${ID}.db`);
    rmSync(file);
    symlinkSync(key, file);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await call(method, 'operator');
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 409,
        body: {
          error: { code: 'file_changed', message: `the file of snapshot ${ID} is a symbolic link; it is not served` },
        },
      });
    }
    vi.restoreAllMocks();
  });
});

describe('snapshot records for anonymous viewers name no path on the dashboard host', () => {
  const records = async (who: Role | 'anonymous') => {
    const req = new Request('http://dashboard.test/api/clusters/prod/snapshots', { headers: as(who) });
    return (
      (await (await list(req, { params: Promise.resolve({ id: 'prod' }) })).json()) as {
        snapshots: SnapshotRecord[];
      }
    ).snapshots;
  };

  it('the list and the detail give anonymous viewers the file name only; signed-in users the full path', async () => {
    const full = path.join(snapshotDir, 'prod', `${ID}.db`);
    expect((await records('viewer'))[0]?.locations).toEqual([{ kind: 'local', where: full }]);
    const anonymous = await records('anonymous');
    expect(anonymous[0]?.locations).toEqual([{ kind: 'local', where: `${ID}.db` }]);
    const req = new Request(`http://dashboard.test/api/clusters/prod/snapshots/${ID}`);
    const text = await (await detail(req, ctx())).text();
    expect(text).toContain(`"where":"${ID}.db"`);
    expect(JSON.stringify(anonymous) + text).not.toContain(tmp);
  });
});
