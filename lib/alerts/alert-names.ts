// The names and links an alert carries outside the dashboard (Alertmanager, webhooks, /metrics): etcd-style
// camelCase names with a prefix of their own, so routes such as alertname=~"etcd.*" catch them and they never clash
// with another source's; the member as Prometheus names a target (host:port); a runbook link per rule.

/** `member_down` → `etcdDashboardMemberDown`. */
export function alertName(rule: string): string {
  return `etcdDashboard${rule
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')}`;
}

/**
 * The member's client URL as Prometheus' `instance` label names a scrape target: host:port (the scheme's default port
 * when the URL has none). Null when there is no URL or it cannot be read.
 */
export function instanceOf(clientUrl: string | null | undefined): string | null {
  if (!clientUrl || !URL.canParse(clientUrl)) return null;
  const u = new URL(clientUrl);
  if (!u.hostname) return null;
  const port = u.port || (u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '');
  return port ? `${u.hostname}:${port}` : u.hostname;
}

/** The page that explains the rule and what to do, on the dashboard at `dashboardUrl`; null when that is unknown. */
export function runbookUrl(dashboardUrl: string | null, rule: string): string | null {
  if (!dashboardUrl || !/^https?:\/\//.test(dashboardUrl) || !URL.canParse(dashboardUrl)) return null;
  return `${dashboardUrl.replace(/\/+$/, '')}/runbooks#${alertName(rule)}`;
}
