import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { describeOnEachEngine } from '@/test/support/store-engines';
import { AuditLog, REFUSAL_WINDOW_MS, REFUSALS_PER_KEY, REFUSALS_PER_WINDOW, type AuditAppend } from './audit-log';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const S = 1000;
/** This file's PostgreSQL server. */
const PG_PORT = 25911;

const entry = (over: Partial<AuditAppend> = {}): AuditAppend => ({
  at: T0,
  actor: 'alice',
  role: 'admin',
  method: 'session',
  source: '10.0.0.7',
  action: 'member.remove',
  outcome: 'success',
  ...over,
});

describeOnEachEngine('AuditLog', PG_PORT, (engine) => {
  let audit: AuditLog;
  beforeEach(() => {
    audit = new AuditLog(engine.db);
  });

  describe('entries', () => {
    it('returns what was appended, newest first, with ISO times, after a reopen', async () => {
      audit.append(entry({ at: T0, action: 'auth.login', method: 'password', details: { reason: 'ok' } }));
      audit.append(
        entry({ at: T0 + S, clusterId: 'prod', memberId: '8e9e05c52164694d', details: { name: 'etcd-2', n: 3 } }),
      );
      await audit.flush();
      audit = new AuditLog(await engine.reopen());

      expect(await audit.query({})).toEqual([
        {
          id: 2,
          at: '2025-03-01T12:00:01.000Z',
          actor: 'alice',
          role: 'admin',
          method: 'session',
          source: '10.0.0.7',
          action: 'member.remove',
          clusterId: 'prod',
          memberId: '8e9e05c52164694d',
          outcome: 'success',
          details: { name: 'etcd-2', n: 3 },
        },
        {
          id: 1,
          at: '2025-03-01T12:00:00.000Z',
          actor: 'alice',
          role: 'admin',
          method: 'password',
          source: '10.0.0.7',
          action: 'auth.login',
          clusterId: null,
          memberId: null,
          outcome: 'success',
          details: { reason: 'ok' },
        },
      ]);
    });

    it('keeps an anonymous entry with no role, source or details', async () => {
      audit.append(entry({ actor: 'anonymous', role: null, method: 'anonymous', source: null, outcome: 'denied' }));
      expect((await audit.query())[0]).toMatchObject({ actor: 'anonymous', role: null, source: null, details: {} });
    });

    it('drops keys naming a password, token, secret, authorization or cookie, at any depth and in any case', async () => {
      audit.append(
        entry({
          details: {
            username: 'alice',
            password: 'hunter2hunter2',
            Token: 'abc',
            SECRET: 'xyz',
            headers: { Authorization: 'Bearer abc', cookie: 'sid=abc', 'Set-Cookie': 'sid=abc', accept: 'json' },
            changes: [{ newPassword: 'p', passwordHash: 'scrypt$…', api_token: 't', field: 'role' }],
            token: { nested: 'even an object' },
            tokenName: 'ci backup job',
            tokenId: '0123456789abcdef',
          },
        }),
      );
      const [stored] = await audit.query();
      expect(stored?.details).toEqual({
        username: 'alice',
        headers: { accept: 'json' },
        changes: [{ field: 'role' }],
        tokenName: 'ci backup job',
        tokenId: '0123456789abcdef',
      });
      const { rows: raw } = await sql`SELECT details FROM audit_log`.execute(engine.db);
      expect(raw).toHaveLength(1);
      for (const secret of ['hunter2', 'Bearer', 'sid=', 'xyz', 'scrypt', 'even an object']) {
        expect(JSON.stringify(raw)).not.toContain(secret);
      }
    });

    it('blanks one of our API tokens found inside a free-text value', async () => {
      const token = `etcdd_0123456789abcdef_${'A'.repeat(43)}`;
      audit.append(entry({ details: { error: `rejected ${token} from curl`, list: [token] } }));
      expect((await audit.query())[0]?.details).toEqual({
        error: 'rejected [redacted] from curl',
        list: ['[redacted]'],
      });
    });

    it('stores awkward details safely: cycles, dates, bigints, oversized objects', async () => {
      const loop: Record<string, unknown> = { name: 'loop' };
      loop.self = loop;
      const shared = { x: 1 };
      audit.append(entry({ details: { loop, when: new Date(T0), big: 10n, a: shared, b: shared } }));
      expect((await audit.query())[0]?.details).toEqual({
        loop: { name: 'loop', self: '[omitted]' },
        when: '2025-03-01T12:00:00.000Z',
        big: '10',
        a: { x: 1 },
        b: { x: 1 },
      });
      audit.append(entry({ at: T0 + S, details: { blob: 'x'.repeat(10_000) } }));
      expect((await audit.query())[0]?.details).toEqual({ truncated: true, chars: 10_011 });
    });

    it('filters by time, actor, action and outcome, and clamps the limit to 1…1000 with 200 by default', async () => {
      for (let i = 0; i < 1100; i++) {
        audit.append(
          entry({
            at: T0 + i * S,
            actor: i % 2 === 0 ? 'alice' : 'bob',
            action: i % 3 === 0 ? 'auth.login' : 'member.remove',
            outcome: i % 5 === 0 ? 'denied' : 'success',
          }),
        );
      }
      expect(await audit.query()).toHaveLength(200);
      expect(await audit.query({ limit: 5000 })).toHaveLength(1000);
      expect(await audit.query({ limit: 0 })).toHaveLength(1);
      expect(await audit.query({ limit: Number.NaN })).toHaveLength(200);
      expect((await audit.query())[0]?.at).toBe(new Date(T0 + 1099 * S).toISOString());

      const found = await audit.query({ from: T0 + 10 * S, to: T0 + 40 * S, actor: 'alice', action: 'auth.login' });
      expect(found.map((e) => (Date.parse(e.at) - T0) / S)).toEqual([36, 30, 24, 18, 12]);
      const denied = await audit.query({ from: T0, to: T0 + 20 * S, outcome: 'denied' });
      expect(denied.map((e) => (Date.parse(e.at) - T0) / S)).toEqual([20, 15, 10, 5, 0]);
    });

    it('cannot be changed or deleted once written', async () => {
      audit.append(entry());
      await audit.flush();
      await expect(sql`UPDATE audit_log SET actor = 'mallory'`.execute(engine.db)).rejects.toThrow(
        'audit_log is append-only',
      );
      await expect(sql`DELETE FROM audit_log`.execute(engine.db)).rejects.toThrow('audit_log is append-only');
      if (engine.name === 'PostgreSQL')
        await expect(sql`TRUNCATE audit_log`.execute(engine.db)).rejects.toThrow('audit_log is append-only');
      expect((await audit.query()).map((e) => e.actor)).toEqual(['alice']);
    });

    it('refuses entries that do not say who, what, how or with what result', async () => {
      expect(() => audit.append(entry({ actor: '' }))).toThrow(/actor/);
      expect(() => audit.append(entry({ action: '' }))).toThrow(/action/);
      expect(() => audit.append(entry({ at: Number.NaN }))).toThrow(/at/);
      expect(() => audit.append(entry({ method: 'magic' as 'none' }))).toThrow(/method "magic"/);
      expect(() => audit.append(entry({ outcome: 'maybe' as 'success' }))).toThrow(/outcome "maybe"/);
      expect(() => audit.append(entry({ role: 'root' as 'admin' }))).toThrow(/role "root"/);
      expect(await audit.query()).toEqual([]);
    });
  });

  describe('a flood of refusals leaves a few rows and a count, not a row each', () => {
    const refused = (over: Partial<AuditAppend> = {}) =>
      entry({
        actor: 'anonymous',
        role: null,
        method: 'none',
        source: '203.0.113.9',
        action: 'token.create',
        outcome: 'denied',
        details: { reason: 'sign in, or send an API token' },
        ...over,
      });

    it('2,000 refused POSTs from one address in 14 s (the security review) make 5 rows and one count', async () => {
      for (let i = 0; i < 2000; i++) audit.append(refused({ at: T0 + i * 7 }));
      const rows = await audit.query({ limit: 1000 });
      expect(rows).toHaveLength(REFUSALS_PER_KEY + 1);
      expect(rows[0]).toMatchObject({
        actor: 'anonymous',
        source: '203.0.113.9',
        action: 'token.create',
        outcome: 'denied',
        at: new Date(T0 + 1999 * 7).toISOString(),
        details: {
          reason: '1995 more refused like this, counted instead of written one by one',
          folded: 1995,
          firstAt: new Date(T0 + 5 * 7).toISOString(),
          lastAt: new Date(T0 + 1999 * 7).toISOString(),
          lastReason: 'sign in, or send an API token',
        },
      });
      expect(rows.slice(1).map((r) => r.details)).toEqual(
        Array.from({ length: 5 }, () => ({ reason: 'sign in, or send an API token' })),
      );
    });

    it('each address, actor and action has its own allowance; successes and failures are never counted away', async () => {
      for (let i = 0; i < 10; i++) {
        audit.append(refused({ at: T0 + i }));
        audit.append(refused({ at: T0 + i, source: '198.51.100.1' }));
        audit.append(refused({ at: T0 + i, action: 'token.revoke' }));
        audit.append(entry({ at: T0 + i, outcome: 'failure' }));
        audit.append(entry({ at: T0 + i, outcome: 'success' }));
      }
      const rows = await audit.query({ limit: 1000 });
      const count = (f: (e: (typeof rows)[number]) => boolean) => rows.filter(f).length;
      expect(count((e) => e.outcome === 'success')).toBe(10);
      expect(count((e) => e.outcome === 'failure')).toBe(10);
      expect(count((e) => e.outcome === 'denied' && e.details.folded === undefined)).toBe(15);
      expect(
        rows.filter((e) => e.details.folded !== undefined).map((e) => [e.source, e.action, e.details.folded]),
      ).toEqual(
        expect.arrayContaining([
          ['203.0.113.9', 'token.create', 5],
          ['198.51.100.1', 'token.create', 5],
          ['203.0.113.9', 'token.revoke', 5],
        ]),
      );
    });

    it('a new window writes refusals one by one again, after the count of the last one', async () => {
      for (let i = 0; i < 8; i++) audit.append(refused({ at: T0 + i }));
      audit.append(refused({ at: T0 + REFUSAL_WINDOW_MS }));
      const rows = (await audit.query({ limit: 1000 })).reverse();
      expect(rows.map((e) => e.details.folded ?? '-')).toEqual(['-', '-', '-', '-', '-', 3, '-']);
    });

    it('many addresses and names at once: past REFUSALS_PER_WINDOW, one count per action says how many of each', async () => {
      for (let i = 0; i < 1000; i++) {
        audit.append(refused({ at: T0 + i, source: `10.1.${i >> 8}.${i & 255}`, actor: `user${i % 300}` }));
      }
      const rows = await audit.query({ limit: 1000 });
      expect(rows.filter((e) => e.details.folded === undefined)).toHaveLength(REFUSALS_PER_WINDOW);
      expect(rows.filter((e) => e.details.folded !== undefined)).toMatchObject([
        {
          actor: 'various',
          role: null,
          method: 'none',
          source: null,
          action: 'token.create',
          details: { folded: 1000 - REFUSALS_PER_WINDOW, actors: 300, sources: 1000 - REFUSALS_PER_WINDOW },
        },
      ]);
    });
  });

  describe('while the database refuses writes (PostgreSQL stopped)', () => {
    const postgresOnly = engine.name === 'PostgreSQL';

    it.runIf(postgresOnly)(
      'holds entries in order and writes them when it is back; readers hear the error',
      async () => {
        audit.append(entry({ at: T0, action: 'before' }));
        await audit.flush();
        await engine.server!.kill();
        audit.append(entry({ at: T0 + S, action: 'during.1' }));
        audit.append(entry({ at: T0 + 2 * S, action: 'during.2' }));
        await expect(audit.flush()).rejects.toThrow();
        await expect(audit.query()).rejects.toThrow();
        expect(audit.pendingCount).toBe(2);

        await engine.server!.start();
        await audit.flush();
        expect(audit.pendingCount).toBe(0);
        expect((await audit.query()).map((e) => e.action)).toEqual(['during.2', 'during.1', 'before']);
      },
    );

    it.runIf(postgresOnly)('past what it may hold, the newest are counted, and the count is written', async () => {
      audit = new AuditLog(engine.db, { maxPending: 3 });
      await engine.server!.kill();
      for (let i = 0; i < 5; i++) audit.append(entry({ at: T0 + i * S, action: `during.${i}` }));
      await expect(audit.flush()).rejects.toThrow();
      await engine.server!.start();
      await audit.flush();
      const rows = await audit.query();
      expect(rows.map((e) => e.action).sort()).toEqual(['audit.lost', 'during.0', 'during.1', 'during.2']);
      expect(rows.find((e) => e.action === 'audit.lost')).toMatchObject({
        actor: 'dashboard',
        outcome: 'failure',
        details: { lost: 2 },
      });
    });
  });
});
