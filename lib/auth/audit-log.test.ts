import { beforeEach, describe, expect, it } from 'vitest';
import { tempDatabasePerTest } from '@/test/support/temp-database';
import { AuditLog, REFUSAL_WINDOW_MS, REFUSALS_PER_KEY, REFUSALS_PER_WINDOW, type AuditAppend } from './audit-log';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const S = 1000;

const temp = tempDatabasePerTest('audit-log-');
let audit: AuditLog;

beforeEach(() => {
  audit = new AuditLog(temp.db);
});

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

describe('AuditLog', () => {
  it('returns what was appended, newest first, with ISO times, after a reopen', () => {
    audit.append(entry({ at: T0, action: 'auth.login', method: 'password', details: { reason: 'ok' } }));
    audit.append(
      entry({ at: T0 + S, clusterId: 'prod', memberId: '8e9e05c52164694d', details: { name: 'etcd-2', n: 3 } }),
    );
    audit = new AuditLog(temp.reopen());

    expect(audit.query({})).toEqual([
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

  it('keeps an anonymous entry with no role, source or details', () => {
    audit.append(entry({ actor: 'anonymous', role: null, method: 'anonymous', source: null, outcome: 'denied' }));
    expect(audit.query()[0]).toMatchObject({ actor: 'anonymous', role: null, source: null, details: {} });
  });

  it('drops keys naming a password, token, secret, authorization or cookie, at any depth and in any case', () => {
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
    const [stored] = audit.query();
    expect(stored?.details).toEqual({
      username: 'alice',
      headers: { accept: 'json' },
      changes: [{ field: 'role' }],
      tokenName: 'ci backup job',
      tokenId: '0123456789abcdef',
    });
    const raw = temp.db.prepare('SELECT details FROM audit_log').pluck().get();
    for (const secret of ['hunter2', 'Bearer', 'sid=', 'xyz', 'scrypt', 'even an object']) {
      expect(raw).not.toContain(secret);
    }
  });

  it('blanks one of our API tokens found inside a free-text value', () => {
    const token = `etcdd_0123456789abcdef_${'A'.repeat(43)}`;
    audit.append(entry({ details: { error: `rejected ${token} from curl`, list: [token] } }));
    expect(audit.query()[0]?.details).toEqual({ error: 'rejected [redacted] from curl', list: ['[redacted]'] });
  });

  it('stores awkward details safely: cycles, dates, bigints, oversized objects', () => {
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    const shared = { x: 1 };
    audit.append(entry({ details: { loop, when: new Date(T0), big: 10n, a: shared, b: shared } }));
    expect(audit.query()[0]?.details).toEqual({
      loop: { name: 'loop', self: '[omitted]' },
      when: '2025-03-01T12:00:00.000Z',
      big: '10',
      a: { x: 1 },
      b: { x: 1 },
    });
    audit.append(entry({ at: T0 + S, details: { blob: 'x'.repeat(10_000) } }));
    expect(audit.query()[0]?.details).toEqual({ truncated: true, chars: 10_011 });
  });

  it('filters by time, actor, action and outcome, and clamps the limit to 1…1000 with 200 by default', () => {
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
    expect(audit.query()).toHaveLength(200);
    expect(audit.query({ limit: 5000 })).toHaveLength(1000);
    expect(audit.query({ limit: 0 })).toHaveLength(1);
    expect(audit.query({ limit: Number.NaN })).toHaveLength(200);
    expect(audit.query()[0]?.at).toBe(new Date(T0 + 1099 * S).toISOString());

    const found = audit.query({ from: T0 + 10 * S, to: T0 + 40 * S, actor: 'alice', action: 'auth.login' });
    expect(found.map((e) => (Date.parse(e.at) - T0) / S)).toEqual([36, 30, 24, 18, 12]);
    const denied = audit.query({ from: T0, to: T0 + 20 * S, outcome: 'denied' });
    expect(denied.map((e) => (Date.parse(e.at) - T0) / S)).toEqual([20, 15, 10, 5, 0]);
  });

  it('cannot be changed or deleted once written', () => {
    audit.append(entry());
    expect(() => temp.db.prepare("UPDATE audit_log SET actor = 'mallory'").run()).toThrow('audit_log is append-only');
    expect(() => temp.db.prepare('DELETE FROM audit_log').run()).toThrow('audit_log is append-only');
    expect(audit.query().map((e) => e.actor)).toEqual(['alice']);
  });

  it('refuses entries that do not say who, what, how or with what result', () => {
    expect(() => audit.append(entry({ actor: '' }))).toThrow(/actor/);
    expect(() => audit.append(entry({ action: '' }))).toThrow(/action/);
    expect(() => audit.append(entry({ at: Number.NaN }))).toThrow(/at/);
    expect(() => audit.append(entry({ method: 'magic' as 'none' }))).toThrow(/method "magic"/);
    expect(() => audit.append(entry({ outcome: 'maybe' as 'success' }))).toThrow(/outcome "maybe"/);
    expect(() => audit.append(entry({ role: 'root' as 'admin' }))).toThrow(/role "root"/);
    expect(audit.query()).toEqual([]);
  });
});

describe('AuditLog: a flood of refusals leaves a few rows and a count, not a row each', () => {
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

  it('2,000 refused POSTs from one address in 14 s (the security review) make 5 rows and one count', () => {
    for (let i = 0; i < 2000; i++) audit.append(refused({ at: T0 + i * 7 }));
    const rows = audit.query({ limit: 1000 });
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

  it('each address, actor and action has its own allowance; successes and failures are never counted away', () => {
    for (let i = 0; i < 10; i++) {
      audit.append(refused({ at: T0 + i }));
      audit.append(refused({ at: T0 + i, source: '198.51.100.1' }));
      audit.append(refused({ at: T0 + i, action: 'token.revoke' }));
      audit.append(entry({ at: T0 + i, outcome: 'failure' }));
      audit.append(entry({ at: T0 + i, outcome: 'success' }));
    }
    const rows = audit.query({ limit: 1000 });
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

  it('a new window writes refusals one by one again, after the count of the last one', () => {
    for (let i = 0; i < 8; i++) audit.append(refused({ at: T0 + i }));
    audit.append(refused({ at: T0 + REFUSAL_WINDOW_MS }));
    const rows = audit.query({ limit: 1000 }).reverse();
    expect(rows.map((e) => e.details.folded ?? '-')).toEqual(['-', '-', '-', '-', '-', 3, '-']);
  });

  it('many addresses and names at once: past REFUSALS_PER_WINDOW, one count per action says how many of each', () => {
    for (let i = 0; i < 1000; i++) {
      audit.append(refused({ at: T0 + i, source: `10.1.${i >> 8}.${i & 255}`, actor: `user${i % 300}` }));
    }
    const rows = audit.query({ limit: 1000 });
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
