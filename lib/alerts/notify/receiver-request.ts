// What each kind of receiver is sent for a batch of alerts: the URL, the headers and the JSON body.
import 'server-only';
import { alertmanagerAlert } from './alertmanager-alerts';
import type { AlertNotification } from './notification-types';
import { maskUrl } from './receiver-secrets';
import type { Receiver, ReceiverType } from '@/lib/config/receiver-schema';
import { slackMessage } from './slack-message';
import type { JsonRequest } from './post-json';

/** How many alerts one request may carry: a Slack message is about one alert so that it reads on its own. */
export const BATCH_LIMIT: Readonly<Record<ReceiverType, number>> = { webhook: 50, slack: 1, alertmanager: 100 };

export interface WebhookBody {
  version: 1;
  alerts: AlertNotification[];
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
      const body: WebhookBody = { version: 1, alerts };
      return { url: receiver.url, headers: receiver.headers ?? {}, body };
    }
    case 'slack': {
      const [alert] = alerts;
      if (alerts.length !== 1 || alert === undefined) throw new RangeError('a Slack message carries exactly one alert');
      return { url: receiver.url, headers: {}, body: slackMessage(alert) };
    }
    case 'alertmanager':
      return {
        url: alertmanagerUrl(receiver.url),
        headers: {},
        body: alerts.map((a) => alertmanagerAlert(a, nowMs)),
      };
  }
}
