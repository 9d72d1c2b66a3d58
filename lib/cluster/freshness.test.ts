import { describe, expect, it } from 'vitest';
import { browserStaleAfterMs, deriveFreshness } from './freshness';
import type { ClusterStatus } from './status-types';

const HOUR = 3600_000;

/** A status as the server sends it: observed `ageAtServeMs` before it was served, on the server's clock. */
function status(opts: { servedAt: number; ageAtServeMs?: number | null; stale?: boolean; pollIntervalMs?: number }) {
  const { servedAt, ageAtServeMs = 300, stale = false, pollIntervalMs = 1000 } = opts;
  const s: ClusterStatus = {
    clusterId: 'default',
    name: 'default',
    observedAt: ageAtServeMs === null ? null : new Date(servedAt - ageAtServeMs).toISOString(),
    stale,
    servedAt: new Date(servedAt).toISOString(),
    pollIntervalMs,
    quorum: { members: 3, voting: 3, healthy: 3, required: 2, tolerance: 1, state: 'healthy' },
    leader: { id: 'ef37ad9dc622a7c4', name: 'etcd-0' },
    members: [],
    alarms: [],
    warnings: [],
    quotaBackendBytes: null,
    lastVerifiedSnapshot: null,
    secretsAtRest: null,
    lastAnsweredAt: null,
  };
  return s;
}

const serverNow = Date.parse('2025-03-01T12:00:00.000Z');

/** What the browser derives from a status served at `serverNow` that arrived at `receivedAt`, both on its own clock. */
function freshnessOf(
  served: { ageAtServeMs?: number | null; stale?: boolean },
  at: { receivedAt: number; now: number; fetchFailed?: boolean },
) {
  const { receivedAt, now, fetchFailed = false } = at;
  return deriveFreshness({ status: status({ servedAt: serverNow, ...served }), receivedAt, now, fetchFailed });
}

describe('browserStaleAfterMs', () => {
  it('is three polls, but never less than 5 s', () => {
    expect(browserStaleAfterMs(1000)).toBe(5000);
    expect(browserStaleAfterMs(250)).toBe(5000);
    expect(browserStaleAfterMs(4000)).toBe(12_000);
  });
});

describe('deriveFreshness', () => {
  it('is waiting before the first answer', () => {
    expect(deriveFreshness({ status: undefined, receivedAt: 0, now: serverNow, fetchFailed: false })).toEqual({
      kind: 'waiting',
    });
  });

  it('says the dashboard is unreachable when the first request fails, with no last-good time', () => {
    expect(deriveFreshness({ status: undefined, receivedAt: 0, now: serverNow, fetchFailed: true })).toEqual({
      kind: 'no-data',
      reason: 'dashboard-unreachable',
      since: null,
    });
  });

  it('is fresh, aged by the observation’s age at serve time plus the time since arrival', () => {
    const receivedAt = serverNow + 50;
    const f = freshnessOf({ ageAtServeMs: 300 }, { receivedAt, now: receivedAt + 200 });
    expect(f).toEqual({ kind: 'fresh', ageMs: 500 });
  });

  it.each([
    ['an hour ahead', HOUR],
    ['an hour behind', -HOUR],
    ['three years behind', -3 * 365 * 24 * HOUR],
    ['a minute ahead', 60_000],
  ])('gives the same age when the browser clock is %s of the server', (_label, skew) => {
    const receivedAt = serverNow + skew;
    const f = freshnessOf({ ageAtServeMs: 300 }, { receivedAt, now: receivedAt + 200 });
    expect(f).toEqual({ kind: 'fresh', ageMs: 500 });
  });

  it('does not call data fresh because the browser clock is behind when the dashboard went silent', () => {
    // The browser clock is an hour behind the server: comparing observedAt with it directly would look like the
    // future (fresh). The answer arrived 10 s ago (browser clock) and nothing since.
    const receivedAt = serverNow - HOUR;
    const f = freshnessOf({ ageAtServeMs: 300 }, { receivedAt, now: receivedAt + 10_000, fetchFailed: true });
    // `since` is on the browser's clock: 300 ms before the answer arrived.
    expect(f).toEqual({ kind: 'no-data', reason: 'dashboard-unreachable', since: receivedAt - 300 });
  });

  it('keeps showing data through a short outage of the dashboard', () => {
    const receivedAt = serverNow;
    const f = freshnessOf({ ageAtServeMs: 300 }, { receivedAt, now: receivedAt + 2000, fetchFailed: true });
    expect(f).toEqual({ kind: 'fresh', ageMs: 2300 });
  });

  it('gives up on a silent dashboard just after browserStaleAfterMs', () => {
    const s = status({ servedAt: serverNow, ageAtServeMs: 0, pollIntervalMs: 1000 });
    const limit = browserStaleAfterMs(1000);
    expect(deriveFreshness({ status: s, receivedAt: serverNow, now: serverNow + limit, fetchFailed: false }).kind).toBe(
      'fresh',
    );
    expect(
      deriveFreshness({ status: s, receivedAt: serverNow, now: serverNow + limit + 1, fetchFailed: false }),
    ).toEqual({ kind: 'no-data', reason: 'dashboard-unreachable', since: serverNow });
  });

  it('waits longer for a dashboard that polls slowly', () => {
    const s = status({ servedAt: serverNow, ageAtServeMs: 0, pollIntervalMs: 10_000 });
    expect(
      deriveFreshness({ status: s, receivedAt: serverNow, now: serverNow + 20_000, fetchFailed: false }).kind,
    ).toBe('fresh');
    expect(
      deriveFreshness({ status: s, receivedAt: serverNow, now: serverNow + 31_000, fetchFailed: false }).kind,
    ).toBe('no-data');
  });

  it('says etcd is unreachable when the server marks its own data stale, even though the dashboard answers', () => {
    const receivedAt = serverNow + 7 * HOUR; // skewed browser clock: must not matter
    const f = freshnessOf({ ageAtServeMs: 12_000, stale: true }, { receivedAt, now: receivedAt + 100 });
    expect(f).toEqual({ kind: 'no-data', reason: 'etcd-unreachable', since: receivedAt - 12_000 });
  });

  it('says etcd is unreachable, with no last-good time, when the server has never completed a poll', () => {
    const f = freshnessOf({ ageAtServeMs: null, stale: true }, { receivedAt: serverNow, now: serverNow + 100 });
    expect(f).toEqual({ kind: 'no-data', reason: 'etcd-unreachable', since: null });
  });

  it('never reports a negative age', () => {
    // The browser clock stepped back a little after the answer arrived.
    const f = freshnessOf({ ageAtServeMs: 0 }, { receivedAt: serverNow, now: serverNow - 50 });
    expect(f).toEqual({ kind: 'fresh', ageMs: 0 });
  });
});
