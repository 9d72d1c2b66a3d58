// An alert as a Slack incoming-webhook message that reads on its own: what, where, how bad, what to do, where to look.
import 'server-only';
import { formatAge } from '@/lib/format/units';
import { groupAlerts } from '../alert-groups';
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

/**
 * One message for alerts of one cause (same cluster, rule, severity and state), as the overview groups them: "WAL
 * fsync slow on 3 members: m0, m1, m2", each member's figure on its own line, the advice once.
 */
export function slackGroupMessage(alerts: readonly AlertNotification[]): SlackMessage {
  const [first] = alerts;
  if (first === undefined) throw new RangeError('a Slack message carries at least one alert');
  if (alerts.length === 1) return slackMessage(first);
  const [group, ...others] = groupAlerts(alerts);
  if (group === undefined || others.length > 0 || alerts.some((a) => a.clusterId !== first.clusterId)) {
    throw new RangeError('a Slack message carries alerts of one cluster, rule, severity and state');
  }
  const resolved = group.state === 'resolved';
  const label = `${resolved ? 'RESOLVED' : 'FIRING'} ${group.severity.toUpperCase()}`;
  const icon = resolved ? ':white_check_mark:' : SEVERITY_ICON[group.severity];
  const lines = group.alerts.map(
    (a) => `• ${escape(a.memberName ?? a.memberId ?? a.clusterName)}: ${escape(a.summary)}`,
  );
  const body = [
    ...lines,
    resolved ? 'Resolved.' : `*What to do:* ${escape(group.advice)}`,
    link(first.dashboardUrl),
  ].filter((line): line is string => line !== null && line !== '');
  return {
    text: `${icon} *${label}*: ${escape(first.clusterName)}: ${escape(group.headline)}`,
    attachments: [
      {
        color: resolved ? RESOLVED_COLOR : SEVERITY_COLOR[group.severity],
        fallback: `${label}: ${first.clusterName}: ${group.headline}`,
        text: body.join('\n'),
        fields: [
          { title: 'Cluster', value: escape(`${first.clusterName} (${first.clusterId})`), short: true },
          { title: 'Alerts', value: String(alerts.length), short: true },
          { title: 'Severity', value: group.severity, short: true },
          { title: resolved ? 'First fired' : 'Firing since', value: utc(group.since), short: true },
        ],
        footer: escape(`etcd dashboard · rule ${group.rule}`),
        mrkdwn_in: ['text'],
      },
    ],
  };
}
