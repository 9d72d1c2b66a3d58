// How bad a finding about a cluster is: an alert's severity, an etcd release advisory's. Shared with the browser.

export type Severity = 'info' | 'warning' | 'critical';
