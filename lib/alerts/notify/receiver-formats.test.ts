// What each kind of receiver gets on the wire, sent through the dispatcher to real HTTP servers on ports 24700–24703.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationDispatcher } from './dispatcher';
import type { AlertNotification } from './notification-types';
import type { Receiver } from '@/lib/config/receiver-schema';
import { firing, startReceiver, waitFor, type TestReceiver } from '@/test/support/test-receiver';

const WEBHOOK_PORT = 24700;
const SLACK_PORT = 24701;
const ALERTMANAGER_PORT = 24702;

const T0 = Date.parse('2025-03-01T12:05:00.000Z');

const resolved = (a: AlertNotification): AlertNotification => ({
  ...a,
  state: 'resolved',
  endsAt: '2025-03-01T12:07:00.000Z',
});

let webhook: TestReceiver;
let slack: TestReceiver;
let alertmanager: TestReceiver;
const dispatchers: NotificationDispatcher[] = [];

beforeAll(async () => {
  [webhook, slack, alertmanager] = await Promise.all([
    startReceiver(WEBHOOK_PORT),
    startReceiver(SLACK_PORT),
    startReceiver(ALERTMANAGER_PORT),
  ]);
});
afterAll(async () => {
  for (const d of dispatchers) d.stop();
  await Promise.all([webhook.close(), slack.close(), alertmanager.close()]);
});

function dispatcher(receiver: Receiver, clock: { t: number } = { t: T0 }): NotificationDispatcher {
  const d = new NotificationDispatcher({ receivers: [receiver], now: () => clock.t, timeoutMs: 2000 });
  dispatchers.push(d);
  return d;
}

const arrived = (r: TestReceiver, n: number) => waitFor(`request ${n} at ${r.origin}`, () => r.requests[n - 1]);

describe('webhook receiver', () => {
  it('POSTs the alerts as JSON version 1 to the configured URL with the configured headers', async () => {
    webhook.requests.length = 0;
    const d = dispatcher({
      type: 'webhook',
      name: 'ops',
      url: `${webhook.origin}/hooks/etcd?team=storage`,
      headers: { Authorization: 'Bearer hook-secret-123' },
    });
    const a = firing();
    d.notify(a);
    const req = await arrived(webhook, 1);
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hooks/etcd?team=storage');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBe('Bearer hook-secret-123');
    const group = {
      clusterId: a.clusterId,
      rule: a.rule,
      alertname: a.alertname,
      severity: a.severity,
      members: [a.memberName],
      headline: a.summary,
      alertIds: [a.id],
    };
    expect(req.body).toEqual({ version: 1, alerts: [a], groups: [{ ...group, state: 'firing' }] });

    d.notify(resolved(a));
    const res = await arrived(webhook, 2);
    expect(res.body).toEqual({ version: 1, alerts: [resolved(a)], groups: [{ ...group, state: 'resolved' }] });
  });

  it('groups the alerts of one request by cause, as the overview does', async () => {
    webhook.requests.length = 0;
    const d = dispatcher({ type: 'webhook', name: 'ops', url: `${webhook.origin}/hooks/etcd` });
    const wal = (i: number) =>
      firing({
        id: `prod-east/wal_fsync_slow/m${i}`,
        rule: 'wal_fsync_slow',
        severity: 'warning',
        memberId: `m${i}`,
        memberName: `etcd-${i}`,
      });
    for (const a of [wal(2), wal(0), firing(), wal(1)]) d.notify(a);
    const req = await arrived(webhook, 1);
    const body = req.body as {
      alerts: unknown[];
      groups: Array<{ rule: string; headline: string; alertIds: string[] }>;
    };
    expect(body.alerts).toHaveLength(4);
    expect(body.groups.map((g) => [g.rule, g.headline, g.alertIds.length])).toEqual([
      ['member-unreachable', 'Member etcd-2 does not answer', 1],
      ['wal_fsync_slow', 'WAL fsync slow on 3 members: etcd-0, etcd-1, etcd-2', 3],
    ]);
  });
});

describe('slack receiver', () => {
  it('posts one readable message per alert, and says RESOLVED when it is', async () => {
    slack.requests.length = 0;
    const d = dispatcher({ type: 'slack', name: 'chat', url: `${slack.origin}/services/T000/B000/XXXXsecretXXXX` });
    const a = firing();
    d.notify(a);
    const req = await arrived(slack, 1);
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/services/T000/B000/XXXXsecretXXXX');
    expect(req.headers['content-type']).toBe('application/json');
    const msg = req.body as { text: string; attachments: Array<{ color: string; text: string; fallback: string }> };
    expect(msg.text).toContain('FIRING CRITICAL');
    expect(msg.text).toContain('Production East / member etcd-2');
    expect(msg.text).toContain('Member etcd-2 does not answer');
    expect(msg.text).not.toContain('RESOLVED');
    const [att] = msg.attachments;
    expect(att?.color).toBe('#d92d20');
    expect(att?.text).toContain('Check the etcd process and the network on etcd-2');
    expect(att?.text).toContain('<https://dash.example/clusters/prod-east|Open in the dashboard>');
    expect(att?.fallback).toBe('FIRING CRITICAL: Production East / member etcd-2: Member etcd-2 does not answer');

    d.notify(resolved(a));
    const done = (await arrived(slack, 2)).body as typeof msg;
    expect(done.text).toContain('RESOLVED CRITICAL');
    expect(done.text).not.toContain('FIRING');
    expect(done.attachments[0]?.text).toContain('Resolved after 7 min.');
    expect(done.attachments[0]?.color).toBe('#12b76a');
  });

  it('keeps alert text from turning into Slack mentions or links', async () => {
    slack.requests.length = 0;
    const d = dispatcher({ type: 'slack', name: 'chat', url: `${slack.origin}/services/T000/B000/XXXXsecretXXXX` });
    d.notify(firing({ id: 'x', summary: '<!channel> db size > 8 GiB & rising', memberId: null, memberName: null }));
    const msg = (await arrived(slack, 1)).body as { text: string };
    expect(msg.text).toContain('&lt;!channel&gt; db size &gt; 8 GiB &amp; rising');
    expect(msg.text).not.toContain('member');
  });
});

describe('alertmanager receiver', () => {
  it('POSTs API v2 alerts to /api/v2/alerts, re-sends while firing, and ends them when resolved', async () => {
    alertmanager.requests.length = 0;
    const clock = { t: T0 };
    const d = dispatcher({ type: 'alertmanager', name: 'am', url: `${alertmanager.origin}/am/` }, clock);
    const a = firing();
    d.notify(a);
    const req = await arrived(alertmanager, 1);
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/am/api/v2/alerts');
    expect(req.headers['content-type']).toBe('application/json');
    const sentFiring = [
      {
        labels: {
          alertname: 'etcdDashboardMemberUnreachable',
          rule: 'member-unreachable',
          severity: 'critical',
          etcd_cluster: 'prod-east',
          member: 'etcd-2',
          member_id: '8e9e05c52164694d',
          instance: '10.0.0.12:2379',
        },
        annotations: {
          summary: 'Member etcd-2 does not answer',
          description: 'Check the etcd process and the network on etcd-2',
          runbook_url: 'https://dash.example/runbooks#etcdDashboardMemberUnreachable',
        },
        startsAt: '2025-03-01T12:00:00.000Z',
        generatorURL: 'https://dash.example/clusters/prod-east',
      },
    ];
    expect(req.body).toStrictEqual(sentFiring);

    // A re-send queued while the first request is still unanswered would be answered by it: wait for the answer.
    await waitFor('the first delivery record', () => d.deliveries().length === 1);
    // Within the resend interval nothing goes out; past it, the same alert again, still without endsAt.
    clock.t = T0 + 30_000;
    d.tick([a]);
    clock.t = T0 + 60_000;
    d.tick([a]);
    expect((await arrived(alertmanager, 2)).body).toStrictEqual(sentFiring);

    clock.t = T0 + 120_000;
    d.notify(resolved(a));
    const [sentResolved] = (await arrived(alertmanager, 3)).body as Array<Record<string, unknown>>;
    expect(sentResolved).toStrictEqual({ ...sentFiring[0], endsAt: '2025-03-01T12:07:00.000Z' });
    expect(alertmanager.requests).toHaveLength(3);
  });

  it('names the member by id when its name and address are unknown, and leaves out links that are not http(s)', async () => {
    alertmanager.requests.length = 0;
    const d = dispatcher({ type: 'alertmanager', name: 'am', url: alertmanager.origin });
    const a = firing({
      id: 'y',
      memberName: null,
      memberInstance: null,
      dashboardUrl: 'javascript:alert(1)',
      runbookUrl: 'javascript:alert(2)',
      severity: 'warning',
    });
    d.notify(a);
    const req = await arrived(alertmanager, 1);
    expect(req.url).toBe('/api/v2/alerts');
    expect(req.body).toStrictEqual([
      {
        labels: {
          alertname: 'etcdDashboardMemberUnreachable',
          rule: 'member-unreachable',
          severity: 'warning',
          etcd_cluster: 'prod-east',
          member: '8e9e05c52164694d',
          member_id: '8e9e05c52164694d',
        },
        annotations: {
          summary: 'Member etcd-2 does not answer',
          description: 'Check the etcd process and the network on etcd-2',
        },
        startsAt: '2025-03-01T12:00:00.000Z',
      },
    ]);
  });
});
