// The dispatcher against real HTTP receivers on loopback (ephemeral ports; 25060 is used as a closed one): queues,
// retries and backoff, timeouts, repeats and resends, what the delivery records say, secrets kept out of them, stop().
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NotificationDispatcher, type NotificationDispatcherOptions } from './dispatcher';
import type { AlertNotification, DeliveryRecord } from './notification-types';
import type { Receiver } from '@/lib/config/receiver-schema';
import type { WebhookBody } from './receiver-request';
import {
  firing,
  startReceiver,
  type Answer,
  type ReceivedRequest,
  type TestReceiver,
} from '@/test/support/test-receiver';

const CLOSED_PORT = 25060;
const T0 = Date.parse('2025-03-01T12:05:00.000Z');
const FAST_RETRY = { initialMs: 20, maxMs: 200, maxAttempts: 4 };
/** For receivers that hang on every request: a short timeout keeps those tests fast. */
const TIMEOUT_MS = 300;
/**
 * For receivers that answer: it costs nothing, and a short one can expire under load (the first fetch of a process
 * sets up its HTTP client), turning a delivery into a retry the test did not expect.
 */
const ANSWERED_TIMEOUT_MS = 5000;
/** How long to wait for something that should happen: generous, since polling returns as soon as it does. */
const DEADLINE_MS = 5000;

const resolvedOf = (a: AlertNotification, endsAt = '2025-03-01T12:07:00.000Z'): AlertNotification => ({
  ...a,
  state: 'resolved',
  endsAt,
});

let clock = { t: T0 };
const started: TestReceiver[] = [];
const dispatchers: NotificationDispatcher[] = [];

afterEach(async () => {
  for (const d of dispatchers.splice(0)) d.stop();
  await Promise.all(started.splice(0).map((r) => r.close()));
  clock = { t: T0 };
});

async function receiver(answer?: (req: ReceivedRequest, index: number) => Answer): Promise<TestReceiver> {
  const r = await startReceiver(0, answer);
  started.push(r);
  return r;
}

/** Answers the listed statuses in turn, then 200 for every request after them. */
const answers =
  (...seq: Answer[]) =>
  (_req: ReceivedRequest, index: number): Answer =>
    seq[index] ?? { status: 200, body: 'ok' };

function dispatcher(receivers: Receiver[], opts: Partial<NotificationDispatcherOptions> = {}): NotificationDispatcher {
  const d = new NotificationDispatcher({
    receivers,
    now: () => clock.t,
    retry: FAST_RETRY,
    timeoutMs: ANSWERED_TIMEOUT_MS,
    ...opts,
  });
  dispatchers.push(d);
  return d;
}

const webhook = (r: TestReceiver, name = 'ops', path = '/hooks/etcd'): Receiver => ({
  type: 'webhook',
  name,
  url: `${r.origin}${path}`,
});

/** The receiver's records, oldest first. */
const recordsOf = (d: NotificationDispatcher, name: string): DeliveryRecord[] =>
  d
    .deliveries()
    .filter((r) => r.receiver === name)
    .reverse();

const alertsIn = (req: ReceivedRequest | undefined): AlertNotification[] => (req?.body as WebhookBody).alerts;

/** Polls until the receiver has had `n` requests; returns the n-th. */
async function request(r: TestReceiver, n: number): Promise<ReceivedRequest> {
  return vi.waitFor(
    () => {
      const req = r.requests[n - 1];
      if (!req) throw new Error(`${r.origin} had ${r.requests.length} requests, waiting for ${n}`);
      return req;
    },
    { timeout: DEADLINE_MS, interval: 5 },
  );
}

/** Polls until the receiver has `count` records, the last of which is final (not retrying); returns them all. */
async function settled(d: NotificationDispatcher, name: string, count: number): Promise<DeliveryRecord[]> {
  return vi.waitFor(
    () => {
      const records = recordsOf(d, name);
      if (records.length < count || records.at(-1)?.outcome === 'retrying') {
        throw new Error(`${name}: ${records.length} records so far, waiting for ${count}`);
      }
      return records;
    },
    { timeout: DEADLINE_MS, interval: 5 },
  );
}

/** Polls for `windowMs` and fails as soon as the receiver gets more than `count` requests. */
async function noMoreRequests(r: TestReceiver, count: number, windowMs: number): Promise<void> {
  const deadline = performance.now() + windowMs;
  while (performance.now() < deadline) {
    expect(r.requests.length, `requests at ${r.origin}`).toBe(count);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(r.requests.length, `requests at ${r.origin}`).toBe(count);
}

/** ms between a retrying record and the attempt it announces: the backoff chosen (floored to whole ms). */
const scheduledDelay = (r: DeliveryRecord | undefined): number =>
  Date.parse(r?.nextAttemptAt ?? 'missing') - Date.parse(r?.at ?? 'missing');

describe('webhook delivery', () => {
  it('POSTs a firing alert, then its resolve, and records both as delivered', async () => {
    const r = await receiver();
    const d = dispatcher([webhook(r)]);
    const a = firing();

    d.notify(a);
    const first = await request(r, 1);
    await settled(d, 'ops', 1); // a record's `at` is when the attempt ended
    expect(first.method).toBe('POST');
    expect(first.url).toBe('/hooks/etcd');
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.body).toMatchObject({ version: 1 });
    expect(alertsIn(first)).toHaveLength(1);
    expect(alertsIn(first)[0]).toMatchObject({
      id: a.id,
      rule: 'member-unreachable',
      severity: 'critical',
      state: 'firing',
      summary: 'Member etcd-2 does not answer',
      endsAt: null,
    });

    clock.t = T0 + 120_000;
    d.notify(resolvedOf(a));
    const second = await request(r, 2);
    expect(alertsIn(second)).toEqual([resolvedOf(a)]);
    expect(alertsIn(second)[0]).toMatchObject({ id: a.id, state: 'resolved', endsAt: '2025-03-01T12:07:00.000Z' });

    const records = await settled(d, 'ops', 2);
    expect(records).toEqual([
      {
        receiver: 'ops',
        target: `${r.origin}/hooks/…`,
        alertId: a.id,
        state: 'firing',
        at: new Date(T0).toISOString(),
        outcome: 'ok',
        status: 200,
        reason: null,
        attempt: 1,
        nextAttemptAt: null,
      },
      {
        receiver: 'ops',
        target: `${r.origin}/hooks/…`,
        alertId: a.id,
        state: 'resolved',
        at: new Date(T0 + 120_000).toISOString(),
        outcome: 'ok',
        status: 200,
        reason: null,
        attempt: 1,
        nextAttemptAt: null,
      },
    ]);
    // deliveries() is newest first.
    expect(d.deliveries()[0]?.state).toBe('resolved');
  });

  it('sends a resolve once, and only for an alert the receiver was told is firing', async () => {
    const r = await receiver();
    const d = dispatcher([webhook(r)]);
    const a = firing({ id: 'a' });

    d.notify(resolvedOf(firing({ id: 'never-fired' })));
    d.notify(a);
    d.notify(resolvedOf(a));
    d.notify(resolvedOf(a));
    // A marker sent after them all: had anything else been queued, it would have gone out before or with it.
    d.notify(firing({ id: 'marker' }));
    await vi.waitFor(() => expect(r.requests.flatMap(alertsIn).map((x) => x.id)).toContain('marker'), {
      timeout: DEADLINE_MS,
    });
    const sent = r.requests.flatMap(alertsIn).map((x) => `${x.id}:${x.state}`);
    // The resolve may overtake the firing it replaces while that still waits: either way the receiver ends resolved.
    expect(sent.filter((s) => s === 'a:resolved')).toEqual(['a:resolved']);
    expect(sent).not.toContain('never-fired:resolved');
    expect(sent.at(-1)).toBe('marker:firing');
  });

  it('records a firing that fails while its resolve waits as replaced, and sends the resolve from attempt 1', async () => {
    const a = firing();
    const r = await receiver();
    const d = dispatcher([webhook(r)]);
    r.answer = (_req, index) => {
      // Called as the firing arrives, before it is answered: the resolve comes while the firing is in flight.
      if (index === 0) d.notify(resolvedOf(a));
      return index === 0 ? { status: 503, body: 'try later' } : { status: 200 };
    };
    d.notify(a);

    const records = await settled(d, 'ops', 2);
    expect(r.requests.map((q) => alertsIn(q).map((x) => x.state))).toEqual([['firing'], ['resolved']]);
    expect(records.map((x) => [x.state, x.outcome, x.status, x.attempt])).toEqual([
      ['firing', 'failed', 503, 1],
      ['resolved', 'ok', 200, 1],
    ]);
    expect(records[0]?.reason).toBe('HTTP 503 Service Unavailable: try later; replaced by the resolved state');
  });
});

describe('retries', () => {
  it('retries a 500 with growing waits and records each failure, then the delivery', async () => {
    const error = { status: 500, body: 'database is locked' };
    const r = await receiver(answers(error, error));
    const d = dispatcher([webhook(r)]);
    const a = firing();
    d.notify(a);

    const records = await settled(d, 'ops', 3);
    expect(r.requests).toHaveLength(3);
    for (const req of r.requests) expect(alertsIn(req)).toEqual([a]);
    expect(records.map((x) => [x.outcome, x.status, x.attempt])).toEqual([
      ['retrying', 500, 1],
      ['retrying', 500, 2],
      ['ok', 200, 3],
    ]);
    expect(records[0]?.reason).toBe('HTTP 500 Internal Server Error: database is locked');
    expect(records[2]).toMatchObject({ reason: null, nextAttemptAt: null });

    // The waits chosen: initialMs, then doubled, each with up to 20 % jitter (the injected clock stands still, so the
    // record's nextAttemptAt - at is the wait itself).
    const [wait1, wait2] = [scheduledDelay(records[0]), scheduledDelay(records[1])];
    expect(wait1).toBeGreaterThanOrEqual(20);
    expect(wait1).toBeLessThanOrEqual(24);
    expect(wait2).toBeGreaterThanOrEqual(40);
    expect(wait2).toBeLessThanOrEqual(48);
    // And the receiver saw them: no attempt came before its wait was over (1 ms: Node's timer slack).
    const [at1, at2, at3] = r.requests.map((q) => q.at) as [number, number, number];
    expect(at2 - at1).toBeGreaterThanOrEqual(wait1 - 1);
    expect(at3 - at2).toBeGreaterThanOrEqual(wait2 - 1);
  });

  it('gives up after maxAttempts, each wait capped at maxMs', async () => {
    const r = await receiver(() => ({ status: 503, body: 'overloaded' }));
    const d = dispatcher([webhook(r)], { retry: { initialMs: 20, maxMs: 30, maxAttempts: 4 } });
    d.notify(firing());

    const records = await settled(d, 'ops', 4);
    expect(records.map((x) => [x.outcome, x.status, x.attempt])).toEqual([
      ['retrying', 503, 1],
      ['retrying', 503, 2],
      ['retrying', 503, 3],
      ['gave-up', 503, 4],
    ]);
    expect(d.counts()).toEqual([{ receiver: 'ops', type: 'webhook', sent: 0, failed: 1, retried: 3 }]);
    expect(scheduledDelay(records[1])).toBe(30);
    expect(scheduledDelay(records[2])).toBe(30);
    expect(records[3]).toMatchObject({ reason: 'HTTP 503 Service Unavailable: overloaded', nextAttemptAt: null });
    await noMoreRequests(r, 4, 150);
  });

  it('retries a resolved notice past maxAttempts until it is delivered, and counts what happened', async () => {
    // Firing delivered; then the receiver is down for the resolved notice's first 7 attempts (maxAttempts is 3).
    const r = await receiver(
      answers({ status: 200, body: 'ok' }, ...Array.from({ length: 7 }, () => ({ status: 503, body: 'down' }))),
    );
    const d = dispatcher([webhook(r)], { retry: { initialMs: 5, maxMs: 10, maxAttempts: 3 } });
    const a = firing();
    d.notify(a);
    await settled(d, 'ops', 1);
    d.notify(resolvedOf(a));
    const records = await settled(d, 'ops', 9);
    expect(records.map((x) => [x.state, x.outcome, x.attempt])).toEqual([
      ['firing', 'ok', 1],
      ...Array.from({ length: 7 }, (_, i) => ['resolved', 'retrying', i + 1]),
      ['resolved', 'ok', 8],
    ]);
    expect((r.requests.at(-1)?.body as WebhookBody).alerts[0]?.state).toBe('resolved');
    expect(d.counts()).toEqual([{ receiver: 'ops', type: 'webhook', sent: 2, failed: 0, retried: 7 }]);
  });

  it('does not retry a 400: one request, recorded as failed with the status and what the receiver said', async () => {
    const r = await receiver(() => ({ status: 400, body: '{"error":"unknown field alerts"}' }));
    const d = dispatcher([webhook(r)]);
    d.notify(firing());

    const [record] = await settled(d, 'ops', 1);
    expect(record).toMatchObject({
      outcome: 'failed',
      status: 400,
      reason: 'HTTP 400 Bad Request: {"error":"unknown field alerts"}',
      attempt: 1,
      nextAttemptAt: null,
    });
    // Well past the first retry's wait (at most 24 ms) nothing more arrives.
    await noMoreRequests(r, 1, 150);
    expect(recordsOf(d, 'ops')).toHaveLength(1);
  });

  it.each([429, 408])('retries a %i', async (status) => {
    const r = await receiver(answers({ status }));
    const d = dispatcher([webhook(r)]);
    d.notify(firing());

    const records = await settled(d, 'ops', 2);
    expect(records.map((x) => [x.outcome, x.status, x.attempt])).toEqual([
      ['retrying', status, 1],
      ['ok', 200, 2],
    ]);
    expect(r.requests).toHaveLength(2);
  });

  it("waits as long as a 429's Retry-After asks, within maxMs", async () => {
    const r = await receiver(answers({ status: 429, headers: { 'retry-after': '0.15' } }));
    const d = dispatcher([webhook(r)]);
    d.notify(firing());

    const records = await settled(d, 'ops', 2);
    expect(scheduledDelay(records[0])).toBe(150);
    const [at1, at2] = r.requests.map((q) => q.at) as [number, number];
    expect(at2 - at1).toBeGreaterThanOrEqual(149);
  });
});

describe('receivers that do not answer', () => {
  it('times out a receiver that hangs and records the timeout', async () => {
    const r = await receiver(() => 'hang');
    const d = dispatcher([webhook(r)], { timeoutMs: TIMEOUT_MS, retry: { initialMs: 20, maxMs: 200, maxAttempts: 2 } });
    d.notify(firing());

    const records = await settled(d, 'ops', 2);
    const reason = `timed out: no complete answer within ${TIMEOUT_MS} ms`;
    expect(records.map((x) => [x.outcome, x.status, x.attempt, x.reason])).toEqual([
      ['retrying', null, 1, reason],
      ['gave-up', null, 2, reason],
    ]);
    // The dispatcher closed its end of each request it gave up on.
    await vi.waitFor(() => expect(r.requests.map((q) => q.abandoned)).toEqual([true, true]), { timeout: DEADLINE_MS });
  });

  it('records a refused connection, naming the error', async () => {
    const d = dispatcher([{ type: 'webhook', name: 'gone', url: `http://127.0.0.1:${CLOSED_PORT}/hooks/etcd` }], {
      retry: { initialMs: 20, maxMs: 200, maxAttempts: 2 },
    });
    d.notify(firing());

    const records = await settled(d, 'gone', 2);
    expect(records.map((x) => [x.outcome, x.status, x.attempt])).toEqual([
      ['retrying', null, 1],
      ['gave-up', null, 2],
    ]);
    for (const x of records) {
      expect(x.reason).toBe(
        `connection refused: nothing listens there (connect ECONNREFUSED 127.0.0.1:${CLOSED_PORT})`,
      );
      expect(x.target).toBe(`http://127.0.0.1:${CLOSED_PORT}/hooks/…`);
    }
  });

  it('keeps delivering to the other receivers while one hangs and one refuses', async () => {
    const good = await receiver();
    const stuck = await receiver(() => 'hang');
    const d = dispatcher(
      [
        webhook(stuck, 'stuck'),
        { type: 'webhook', name: 'gone', url: `http://127.0.0.1:${CLOSED_PORT}/hooks/etcd` },
        webhook(good, 'good'),
      ],
      { retry: { initialMs: 20, maxMs: 200, maxAttempts: 1 } },
    );
    d.notify(firing({ id: 'a' }));

    const [refused] = await settled(d, 'gone', 1);
    expect(refused).toMatchObject({ outcome: 'gave-up', reason: expect.stringMatching(/^connection refused/) });
    await settled(d, 'good', 1);
    expect(recordsOf(d, 'good').map((x) => x.outcome)).toEqual(['ok']);

    // Still working after the refusal, while the hanging receiver's first request is still unanswered.
    d.notify(firing({ id: 'b' }));
    expect(alertsIn(await request(good, 2)).map((x) => x.id)).toEqual(['b']);
    await settled(d, 'good', 2);
    expect(recordsOf(d, 'good').map((x) => x.outcome)).toEqual(['ok', 'ok']);
    expect(recordsOf(d, 'gone').map((x) => x.alertId)).toEqual(['a', 'b']);
    expect(stuck.requests).toHaveLength(1);
    expect(stuck.requests[0]?.abandoned).toBe(false);
    expect(recordsOf(d, 'stuck')).toEqual([]);
  });
});

describe('repeats', () => {
  it('repeats a still-firing alert to a webhook only once repeatIntervalMs has passed', async () => {
    const r = await receiver();
    const d = dispatcher([webhook(r)], { repeatIntervalMs: 10_000 });
    const a = firing({ id: 'a' });
    const ids = () =>
      r.requests.map((q) =>
        alertsIn(q)
          .map((x) => x.id)
          .join(','),
      );

    d.notify(a);
    await request(r, 1);

    clock.t = T0 + 5_000;
    d.tick([a]);
    clock.t = T0 + 9_999;
    d.tick([a]);
    // tick() also sends an alert not yet sent (as after a restart); it goes out after anything already queued.
    d.tick([a, firing({ id: 'b' })]);
    await request(r, 2);
    expect(ids()).toEqual(['a', 'b']);

    clock.t = T0 + 10_000;
    d.tick([a]);
    expect(alertsIn(await request(r, 3))).toEqual([a]);

    // The interval counts from the repeat: nothing again until T0 + 20 000.
    clock.t = T0 + 19_999;
    d.tick([a]);
    d.tick([firing({ id: 'c' })]);
    await request(r, 4);
    clock.t = T0 + 20_000;
    d.tick([a]);
    await request(r, 5);
    expect(ids()).toEqual(['a', 'b', 'a', 'c', 'a']);
  });

  it('re-sends firing alerts to Alertmanager every alertmanagerResendMs, and ends them with endsAt', async () => {
    const am = await receiver();
    const hook = await receiver();
    const d = dispatcher(
      [
        { type: 'alertmanager', name: 'am', url: am.origin },
        { type: 'webhook', name: 'ops', url: `${hook.origin}/hooks/etcd` },
      ],
      { alertmanagerResendMs: 1000, repeatIntervalMs: 60_000 },
    );
    const a = firing({ id: 'a' });
    type AmAlert = { labels: Record<string, string>; startsAt: string; endsAt?: string };
    const amAlerts = (req: ReceivedRequest) => req.body as AmAlert[];
    const amSent = () =>
      am.requests.map((q) =>
        amAlerts(q)
          .map((x) => x.labels.rule)
          .join(','),
      );
    // Each step waits for the last send to be answered: a resend queued while the same alert is still in flight is
    // answered by that request.
    const step = async (t: number, firingNow: AlertNotification[], amRecords: number) => {
      clock.t = t;
      d.tick(firingNow);
      return settled(d, 'am', amRecords);
    };

    d.notify(a);
    await Promise.all([settled(d, 'am', 1), settled(d, 'ops', 1)]);
    const first = am.requests[0] as ReceivedRequest;
    expect(first.url).toBe('/api/v2/alerts');
    expect(amAlerts(first)).toHaveLength(1);
    expect(amAlerts(first)[0]).not.toHaveProperty('endsAt');

    // Not yet at T0 + 999 (the marker, queued after the tick, shows nothing else was); again at T0 + 1000.
    await step(T0 + 999, [a, firing({ id: 'm1', rule: 'm1' })], 2);
    await step(T0 + 1000, [a], 3);
    await step(T0 + 1999, [a, firing({ id: 'm2', rule: 'm2' })], 4);
    await step(T0 + 2000, [a], 5);
    expect(amSent()).toEqual(['member-unreachable', 'm1', 'member-unreachable', 'm2', 'member-unreachable']);
    for (const q of am.requests.filter((_, i) => i % 2 === 0)) expect(amAlerts(q)).toEqual(amAlerts(first));

    // The webhook's repeat interval has not passed: it was sent the alert once.
    await settled(d, 'ops', 3);
    expect(hook.requests.flatMap(alertsIn).map((x) => x.id)).toEqual(['a', 'm1', 'm2']);

    clock.t = T0 + 2500;
    d.notify(resolvedOf(a, '2025-03-01T12:07:00.000Z'));
    await settled(d, 'am', 6);
    expect(amAlerts(am.requests[5] as ReceivedRequest)).toEqual([
      { ...amAlerts(first)[0], endsAt: '2025-03-01T12:07:00.000Z' },
    ]);
    expect(recordsOf(d, 'am').every((x) => x.outcome === 'ok')).toBe(true);
    expect(alertsIn(await request(hook, 4))).toEqual([resolvedOf(a, '2025-03-01T12:07:00.000Z')]);
  });
});

describe('slack receiver', () => {
  it('gets one message per cause: three members with slow disks in one, another rule in its own', async () => {
    const r = await receiver();
    const d = dispatcher([{ type: 'slack', name: 'chat', url: `${r.origin}/services/T000/B000/XXXXsecretXXXX` }]);
    // One evaluation: three members' WAL fsync alerts and a snapshot alert change state together.
    for (const [i, ms] of [55, 110, 80].entries()) {
      d.notify(
        firing({
          id: `wal/${i}`,
          rule: 'wal_fsync_slow',
          severity: 'warning',
          summary: `WAL fsync p99 ${ms} ms on etcd-${i}`,
          advice: 'Move etcd to a faster disk',
          memberId: `m${i}`,
          memberName: `etcd-${i}`,
        }),
      );
    }
    d.notify(firing({ id: 'snap', rule: 'snapshot_stale', severity: 'warning', memberId: null, memberName: null }));

    await request(r, 2);
    const texts = r.requests.map((q) => (q.body as { text: string }).text);
    expect(texts[0]).toContain('WAL fsync slow on 3 members: etcd-0, etcd-1, etcd-2');
    const attachment = (r.requests[0]!.body as { attachments: Array<{ text: string }> }).attachments[0]!;
    expect(attachment.text).toContain('• etcd-1: WAL fsync p99 110 ms on etcd-1');
    expect(attachment.text.match(/What to do/g)).toHaveLength(1);
    expect(texts[1]).not.toContain('WAL');
    const records = await settled(d, 'chat', 4);
    expect(records.map((x) => x.outcome)).toEqual(['ok', 'ok', 'ok', 'ok']);
  });

  it('gets a Slack-compatible message, one request per alert of different causes', async () => {
    const r = await receiver();
    const d = dispatcher([{ type: 'slack', name: 'chat', url: `${r.origin}/services/T000/B000/XXXXsecretXXXX` }]);
    d.notify(firing({ id: 'a', summary: 'Member etcd-2 does not answer' }));
    d.notify(firing({ id: 'b', rule: 'no_leader', summary: 'Quorum lost', memberId: null, memberName: null }));

    await request(r, 2);
    const messages = r.requests.map((q) => q.body as { text: unknown; attachments?: unknown; blocks?: unknown });
    expect(r.requests[0]?.headers['content-type']).toBe('application/json');
    for (const m of messages) {
      expect(typeof m.text).toBe('string');
      expect(Array.isArray(m.attachments ?? m.blocks)).toBe(true);
    }
    expect(messages.map((m) => m.text)).toEqual([
      expect.stringContaining('Member etcd-2 does not answer'),
      expect.stringContaining('Quorum lost'),
    ]);
    const records = await settled(d, 'chat', 2);
    expect(records.map((x) => [x.alertId, x.outcome])).toEqual([
      ['a', 'ok'],
      ['b', 'ok'],
    ]);
    expect(records[0]?.target).toBe(`${r.origin}/services/…`);
  });
});

describe('secrets', () => {
  const PATH_TOKEN = 'tok-PATHSECRET-1a2b';
  const QUERY_TOKEN = 'QUERYSECRET-3c4d';
  const BEARER_TOKEN = 'HEADERSECRET-5e6f';
  const API_KEY = 'KEYSECRET-7a8b';

  /** Fails naming the first secret found anywhere in `text`. */
  function expectNoSecrets(text: string, secrets: string[]) {
    for (const s of secrets) expect(text, `contains ${s}`).not.toContain(s);
  }

  it('keeps URL tokens and header values out of the records, even when the receiver echoes them back', async () => {
    const path = `/hooks/${PATH_TOKEN}?token=${QUERY_TOKEN}&team=storage`;
    // Error pages that repeat what they were sent, as some do: one part each, as only a line's first 200 characters
    // are kept.
    const echoes = [
      (req: ReceivedRequest) => `no such hook: ${req.url}`,
      (req: ReceivedRequest) => `no such hook: ${encodeURIComponent(req.url)}`,
      (req: ReceivedRequest) => `bad credentials: ${String(req.headers.authorization)}`,
      (req: ReceivedRequest) => `token ${BEARER_TOKEN} revoked; key ${String(req.headers['x-api-key'])} unknown`,
    ];
    const r = await receiver((req, index) => ({ status: index < 3 ? 500 : 401, body: echoes[index]?.(req) }));
    const d = dispatcher([
      {
        type: 'webhook',
        name: 'ops',
        url: `${r.origin}${path}`,
        // Sent trimmed, so the receiver can only echo the trimmed form.
        headers: { Authorization: ` Bearer ${BEARER_TOKEN} `, 'X-Api-Key': API_KEY },
      },
    ]);
    d.notify(firing());
    const records = await settled(d, 'ops', 4);

    // The receiver did get the secrets, so their absence from the records is the dispatcher's doing.
    expect(r.requests[0]?.url).toBe(path);
    expect(r.requests[0]?.headers.authorization).toBe(`Bearer ${BEARER_TOKEN}`);
    expect(r.requests[0]?.headers['x-api-key']).toBe(API_KEY);
    expect(records.map((x) => [x.outcome, x.status])).toEqual([
      ['retrying', 500],
      ['retrying', 500],
      ['retrying', 500],
      ['failed', 401],
    ]);
    expect(records[0]?.reason).toBe('HTTP 500 Internal Server Error: no such hook: /hooks/……');
    expect(records[3]?.reason).toMatch(/^HTTP 401 Unauthorized: token … revoked; key … unknown$/);
    for (const x of records) expect(x.target).toBe(`${r.origin}/hooks/…`);
    expectNoSecrets(JSON.stringify(d.deliveries()), [PATH_TOKEN, QUERY_TOKEN, BEARER_TOKEN, API_KEY]);
  });

  it('does not leave the start of a secret that the 200-character cut of an echo would split', async () => {
    const r = await receiver(() => ({ status: 403, body: `${'x'.repeat(190)} ${BEARER_TOKEN}` }));
    const d = dispatcher([
      {
        type: 'webhook',
        name: 'ops',
        url: `${r.origin}/hooks/x`,
        headers: { Authorization: `Bearer ${BEARER_TOKEN}` },
      },
    ]);
    d.notify(firing());
    const [record] = await settled(d, 'ops', 1);
    expect(record?.reason).toMatch(/^HTTP 403 Forbidden: x{190} …/);
    expectNoSecrets(JSON.stringify(d.deliveries()), [BEARER_TOKEN.slice(0, 6)]);
  });

  it('keeps them out of timeouts, refused connections and Slack and Alertmanager records', async () => {
    const stuck = await receiver(() => 'hang');
    const am = await receiver(() => ({ status: 400, body: `bad request to /am/${PATH_TOKEN}/api/v2/alerts` }));
    const once = { initialMs: 20, maxMs: 200, maxAttempts: 1 };
    const hanging = dispatcher(
      [{ type: 'webhook', name: 'stuck', url: `${stuck.origin}/hooks/${PATH_TOKEN}?token=${QUERY_TOKEN}` }],
      { retry: once, timeoutMs: TIMEOUT_MS },
    );
    const d = dispatcher(
      [
        { type: 'slack', name: 'gone', url: `http://127.0.0.1:${CLOSED_PORT}/services/T000/B000/${PATH_TOKEN}` },
        { type: 'alertmanager', name: 'am', url: `${am.origin}/am/${PATH_TOKEN}` },
      ],
      { retry: once },
    );
    hanging.notify(firing());
    d.notify(firing());
    const [timedOut] = await settled(hanging, 'stuck', 1);
    await Promise.all([settled(d, 'gone', 1), settled(d, 'am', 1)]);

    expect(timedOut?.reason).toBe(`timed out: no complete answer within ${TIMEOUT_MS} ms`);
    expect(recordsOf(d, 'gone')[0]?.reason).toMatch(/^connection refused/);
    expect(recordsOf(d, 'am')[0]?.target).toBe(`${am.origin}/am/…/api/v2/alerts`);
    expect(recordsOf(d, 'am')[0]?.reason).toBe('HTTP 400 Bad Request: bad request to /am/…/api/v2/alerts');
    const all = JSON.stringify([...hanging.deliveries(), ...d.deliveries()]);
    expectNoSecrets(all, [PATH_TOKEN, QUERY_TOKEN]);
  });

  it('keeps a header value out of the record when the request cannot even be made with it', async () => {
    const r = await receiver();
    const value = ` Bearer ${BEARER_TOKEN}\u0000 `; // passes the schema (one line), refused by fetch
    const d = dispatcher([
      { type: 'webhook', name: 'ops', url: `${r.origin}/hooks/x`, headers: { Authorization: value } },
    ]);
    d.notify(firing());

    const [record] = await settled(d, 'ops', 1);
    expect(record).toMatchObject({ outcome: 'failed', status: null });
    expect(record?.reason).toMatch(/invalid header value/);
    expect(r.requests).toHaveLength(0);
    expectNoSecrets(JSON.stringify(d.deliveries()), [BEARER_TOKEN]);
  });

  it('keeps them out of the errors for an invalid receiver', () => {
    const invalid: unknown[] = [
      { type: 'webhook', name: 'ops', url: `ftp://hooks.example/${PATH_TOKEN}?token=${QUERY_TOKEN}` },
      { type: 'webhook', name: 'ops', url: `http://user:${QUERY_TOKEN}@hooks.example/${PATH_TOKEN}` },
      {
        type: 'webhook',
        name: 'ops',
        url: 'http://hooks.example/x',
        headers: { Authorization: `Bearer\n${BEARER_TOKEN}` },
      },
      { type: 'slack', name: 'chat', url: 'http://hooks.example/x', headers: { Authorization: BEARER_TOKEN } },
    ];
    for (const raw of invalid) {
      let thrown: unknown;
      try {
        dispatcher([raw as Receiver]);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, JSON.stringify(raw)).toBeInstanceOf(Error);
      const err = thrown as Error;
      expectNoSecrets(`${String(err)} ${err.stack ?? ''} ${JSON.stringify(err)}`, [
        PATH_TOKEN,
        QUERY_TOKEN,
        BEARER_TOKEN,
      ]);
    }
  });
});

describe('stop()', () => {
  it('stops retries: no request arrives after it, and no record is added', async () => {
    const r = await receiver(() => ({ status: 503 }));
    const d = dispatcher([webhook(r)], { retry: { initialMs: 20, maxMs: 40, maxAttempts: 100 } });
    d.notify(firing());
    await request(r, 2);

    d.stop();
    const count = r.requests.length;
    const records = d.deliveries();
    // Several times the longest wait between attempts (40 ms with jitter capped) and then some.
    await noMoreRequests(r, count, 300);
    expect(d.deliveries()).toEqual(records);

    d.notify(firing({ id: 'after-stop' }));
    d.tick([firing({ id: 'after-stop-tick' })]);
    await noMoreRequests(r, count, 100);
    expect(d.deliveries()).toEqual(records);
  });

  it('cancels a request in flight', async () => {
    const r = await receiver(() => 'hang');
    const d = dispatcher([webhook(r)]);
    d.notify(firing());
    await request(r, 1);

    d.stop();
    await vi.waitFor(() => expect(r.requests[0]?.abandoned).toBe(true), { timeout: DEADLINE_MS });
    expect(d.deliveries()).toEqual([]);
    await noMoreRequests(r, 1, 100);
  });
});

describe('onSettled: when every receiver is done with a state', () => {
  it('is called once both receivers are done, a retried one included, and not for a receiver still retrying', async () => {
    const quick = await receiver();
    // Refused twice (retryable), then delivered.
    const slow = await receiver(answers({ status: 503, body: 'busy' }, { status: 503, body: 'busy' }));
    const settled: string[] = [];
    const d = dispatcher([webhook(quick, 'quick'), webhook(slow, 'slow')], {
      onSettled: (id, state) => settled.push(`${state} ${id}`),
    });
    const a = firing({ id: 'a' });
    d.notify(a);
    await vi.waitFor(() => expect(quick.requests.length).toBe(1), { timeout: DEADLINE_MS });
    // The quick one is done; the slow one is still retrying.
    expect(settled).toEqual([]);
    await vi.waitFor(() => expect(settled).toEqual(['firing a']), { timeout: DEADLINE_MS });
    expect(slow.requests.length).toBe(3);

    d.notify(resolvedOf(a));
    await vi.waitFor(() => expect(settled).toEqual(['firing a', 'resolved a']), { timeout: DEADLINE_MS });
  });

  it('a receiver that gives up counts as done; a resolve for an alert never sent settles nothing', async () => {
    const down: Receiver = { type: 'webhook', name: 'down', url: `http://127.0.0.1:${CLOSED_PORT}/hook` };
    const settled: string[] = [];
    const d = dispatcher([down], { onSettled: (id, state) => settled.push(`${state} ${id}`) });
    d.notify(resolvedOf(firing({ id: 'never-fired' })));
    d.notify(firing({ id: 'b' }));
    await vi.waitFor(() => expect(settled).toEqual(['firing b']), { timeout: DEADLINE_MS });
    expect(recordsOf(d, 'down').at(-1)?.outcome).toBe('gave-up');
  });
});
