// What each kind of receiver is sent for a batch of alerts: the URL, the headers and the JSON body.
import 'server-only';
import { alertmanagerAlert } from './alertmanager-alerts';
import type { AlertNotification } from './notification-types';
import { maskUrl } from './receiver-secrets';
import type { Receiver, ReceiverType } from '@/lib/config/receiver-schema';
import { slackGroupMessage } from './slack-message';
import { groupAlerts } from '../alert-groups';
import type { JsonRequest } from './post-json';

/** How many alerts one request may carry: a Slack message is about one cause (see sameCause), so it reads on its own. */
export const BATCH_LIMIT: Readonly<Record<ReceiverType, number>> = { webhook: 50, slack: 100, alertmanager: 100 };

/** Receivers that take only alerts of one cause per request. */
export const ONE_CAUSE_PER_REQUEST: Readonly<Record<ReceiverType, boolean>> = {
  webhook: false,
  slack: true,
  alertmanager: false,
};

/** One cause: the same cluster, rule, severity and state (the overview's grouping, per cluster). */
export function sameCause(a: AlertNotification, b: AlertNotification): boolean {
  return a.clusterId === b.clusterId && a.rule === b.rule && a.severity === b.severity && a.state === b.state;
}

/** The alerts of a webhook request grouped by cause, as the overview shows them: ids, not copies. */
export interface WebhookGroup {
  clusterId: string;
  rule: string;
  alertname: string;
  severity: AlertNotification['severity'];
  state: AlertNotification['state'];
  /** "WAL fsync slow on 3 members: m0, m1, m2", or the alert's summary when it is alone. */
  headline: string;
  members: string[];
  alertIds: string[];
}

export interface WebhookBody {
  version: 1;
  alerts: AlertNotification[];
  groups: WebhookGroup[];
}

function webhookGroups(alerts: AlertNotification[]): WebhookGroup[] {
  const byCluster = new Map<string, AlertNotification[]>();
  for (const a of alerts) {
    const list = byCluster.get(a.clusterId);
    if (list) list.push(a);
    else byCluster.set(a.clusterId, [a]);
  }
  return [...byCluster].flatMap(([clusterId, list]) =>
    groupAlerts(list).map((g) => ({
      clusterId,
      rule: g.rule,
      alertname: g.alertname,
      severity: g.severity,
      state: g.state as AlertNotification['state'],
      headline: g.headline,
      members: g.members,
      alertIds: g.alerts.map((a) => a.id),
    })),
  );
}

const ALERTMANAGER_PATH = 'api/v2/alerts';

function alertmanagerUrl(base: string): string {
  const u = new URL(base);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${ALERTMANAGER_PATH}`;
  return u.href;
}

/** Where requests to the receiver go, as records may show it (see maskUrl). */
export function receiverTarget(receiver: Receiver): string {
  return receiver.type === 'alertmanager'
    ? `${maskUrl(receiver.url).replace(/\/+$/, '')}/${ALERTMANAGER_PATH}`
    : maskUrl(receiver.url);
}

/** `alerts` must hold at least one and at most BATCH_LIMIT[receiver.type]. */
export function receiverRequest(receiver: Receiver, alerts: AlertNotification[], nowMs: number): JsonRequest {
  switch (receiver.type) {
    case 'webhook': {
      const body: WebhookBody = { version: 1, alerts, groups: webhookGroups(alerts) };
      return { url: receiver.url, headers: receiver.headers ?? {}, body };
    }
    case 'slack':
      return { url: receiver.url, headers: {}, body: slackGroupMessage(alerts) };
    case 'alertmanager':
      return {
        url: alertmanagerUrl(receiver.url),
        headers: {},
        body: alerts.map((a) => alertmanagerAlert(a, nowMs)),
      };
  }
}
