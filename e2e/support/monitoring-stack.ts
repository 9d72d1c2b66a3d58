// Real Prometheus and Alertmanager (Debian bookworm's, from scripts/lib/monitoring-tools.ts) as processes of the test:
// bound to 127.0.0.1, ready when their /-/ready answers, stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { MonitoringTools } from '../../scripts/lib/monitoring-tools';

export interface Daemon {
  url: string;
  pid: number;
  log(): string;
  stop(): Promise<void>;
}

/** Runs `command` in `root` (its log there), ready once GET `url + readyPath` answers 2xx; stopped by its PID. */
export async function startDaemon(
  name: string,
  command: string,
  args: string[],
  root: string,
  url: string,
  timeoutMs = 30_000,
  readyPath = '/-/ready',
): Promise<Daemon> {
  const logFile = path.join(root, `${name}.log`);
  const fd = openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { cwd: root, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const log = () => readFileSync(logFile, 'utf8');
  const stop = async () => {
    if (!exited) process.kill(pid, 'SIGTERM');
    await gone;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`${name} exited at start:\n${log()}`);
    try {
      if ((await fetch(`${url}${readyPath}`)).ok) return { url, pid, log, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} not ready at ${url} within ${timeoutMs} ms:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Alertmanager routing everything to `webhookUrl`, grouped by alertname and etcd cluster, resolved notices on. */
export function startAlertmanager(tools: MonitoringTools, root: string, port: number, webhookUrl: string) {
  const dir = path.join(root, 'alertmanager');
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'alertmanager.yml');
  writeFileSync(
    config,
    stringify({
      route: {
        receiver: 'hook',
        group_by: ['alertname', 'etcd_cluster'],
        group_wait: '1s',
        group_interval: '1s',
        repeat_interval: '1h',
      },
      receivers: [{ name: 'hook', webhook_configs: [{ url: webhookUrl, send_resolved: true }] }],
    }),
  );
  return startDaemon(
    'alertmanager',
    tools.alertmanager,
    [
      `--config.file=${config}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // One instance: no gossip port.
      '--cluster.listen-address=',
    ],
    dir,
    `http://127.0.0.1:${port}`,
  );
}

/**
 * Prometheus scraping the dashboard every second with the target label `cluster` a multi-cluster setup adds, and
 * `rules` (a rule file's groups) evaluated every second.
 */
export function startPrometheus(
  tools: MonitoringTools,
  root: string,
  port: number,
  dashboardUrl: string,
  targetCluster: string,
  rules: unknown[],
) {
  const dir = path.join(root, 'prometheus');
  mkdirSync(dir, { recursive: true });
  const rulesFile = path.join(dir, 'rules.yml');
  writeFileSync(rulesFile, stringify({ groups: rules }));
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [rulesFile],
      scrape_configs: [
        {
          job_name: 'etcd-dashboard',
          static_configs: [{ targets: [new URL(dashboardUrl).host], labels: { cluster: targetCluster } }],
        },
      ],
    }),
  );
  return startDaemon(
    'prometheus',
    tools.prometheus,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    dir,
    `http://127.0.0.1:${port}`,
  );
}
