// An alert as a Slack incoming-webhook message that reads on its own: what, where, how bad, what to do, where to look.
import 'server-only';
import { formatAge } from '@/lib/format/units';
import type { AlertNotification, AlertSeverity } from './notification-types';

export interface SlackAttachment {
  color: string;
  fallback: string;
  text: string;
  fields: Array<{ title: string; value: string; short: boolean }>;
  footer: string;
  mrkdwn_in: string[];
}

export interface SlackMessage {
  text: string;
  attachments: SlackAttachment[];
}

const SEVERITY_COLOR: Record<AlertSeverity, string> = { critical: '#d92d20', warning: '#f79009', info: '#2e90fa' };
const SEVERITY_ICON: Record<AlertSeverity, string> = {
  critical: ':red_circle:',
  warning: ':large_orange_circle:',
  info: ':large_blue_circle:',
};
const RESOLVED_COLOR = '#12b76a';

/** Slack reads `<…>` as a link or a mention (`<!channel>`) and `&` as an entity: the alert's text must not. */
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function link(url: string | null): string | null {
  if (url === null || !URL.canParse(url)) return null;
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  return `<${u.href.replace(/\|/g, '%7C')}|Open in the dashboard>`;
}

/** "2025-03-01 12:00 UTC"; a time that does not parse is shown as given. */
function utc(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function slackMessage(alert: AlertNotification): SlackMessage {
  const resolved = alert.state === 'resolved';
  const member = alert.memberName ?? alert.memberId;
  const where = member ? `${alert.clusterName} / member ${member}` : alert.clusterName;
  const label = `${resolved ? 'RESOLVED' : 'FIRING'} ${alert.severity.toUpperCase()}`;
  const headline = `${label}: ${where}: ${alert.summary}`;
  const icon = resolved ? ':white_check_mark:' : SEVERITY_ICON[alert.severity];

  const started = Date.parse(alert.since);
  const ended = alert.endsAt === null ? NaN : Date.parse(alert.endsAt);
  const lasted = resolved && !Number.isNaN(started) && !Number.isNaN(ended) ? formatAge(ended - started) : null;
  const body = [
    resolved ? (lasted ? `Resolved after ${lasted}.` : 'Resolved.') : `*What to do:* ${escape(alert.advice)}`,
    link(alert.dashboardUrl),
  ].filter((line): line is string => line !== null && line !== '');

  const fields = [
    { title: 'Cluster', value: escape(`${alert.clusterName} (${alert.clusterId})`), short: true },
    ...(member ? [{ title: 'Member', value: escape(member), short: true }] : []),
    { title: 'Severity', value: alert.severity, short: true },
    { title: 'Firing since', value: utc(alert.since), short: true },
    ...(resolved && alert.endsAt ? [{ title: 'Resolved at', value: utc(alert.endsAt), short: true }] : []),
  ];

  return {
    text: `${icon} *${label}*: ${escape(where)}: ${escape(alert.summary)}`,
    attachments: [
      {
        color: resolved ? RESOLVED_COLOR : SEVERITY_COLOR[alert.severity],
        fallback: headline,
        text: body.join('\n'),
        fields,
        footer: escape(`etcd dashboard · rule ${alert.rule}`),
        mrkdwn_in: ['text'],
      },
    ],
  };
}
