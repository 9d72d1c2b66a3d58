// Prometheus, Alertmanager and nginx for the tests that check the dashboard against them: Debian bookworm's own
// packages, the versions a Debian shop runs, unpacked into the cache (nothing installed, no service started).
import { chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unpackDebianPackages } from './debian-packages';
import { deployToolsDir, DONE, fillCacheDir, timed, withLock, type ToolsEnv } from './deploy-tools';

interface DebianTool {
  package: string;
  version: string;
  /** The commands taken from /usr/bin, under the names the tests use. */
  commands: Record<string, string>;
  /** A folder the command reads from a fixed system path, kept beside it and put in place when missing. */
  systemDir?: string;
}

export const PROMETHEUS: DebianTool = {
  package: 'prometheus',
  version: '2.42.0+ds-5+deb12u1',
  commands: { prometheus: 'prometheus', promtool: 'promtool' },
};

export const ALERTMANAGER: DebianTool = {
  package: 'prometheus-alertmanager',
  version: '0.25.0-1+b4',
  commands: { alertmanager: 'prometheus-alertmanager', amtool: 'amtool' },
  // Debian's build reads its notification templates (and UI) from here instead of carrying them inside the binary.
  systemDir: '/usr/share/prometheus/alertmanager',
};

/** The load balancer in front of the replicas in the high-availability tests. */
export const NGINX: DebianTool = {
  package: 'nginx',
  version: '1.22.1-9+deb12u9',
  commands: { nginx: '../sbin/nginx' },
};

export interface MonitoringTools {
  prometheus: string;
  promtool: string;
  alertmanager: string;
  amtool: string;
}

function toolDir(tool: DebianTool, env: ToolsEnv): string {
  return path.join(deployToolsDir(env), `${tool.package}-${tool.version.replace(/[^A-Za-z0-9.-]/g, '_')}`);
}

export function monitoringTools(env: ToolsEnv = process.env): MonitoringTools | null {
  const dirs = [PROMETHEUS, ALERTMANAGER].map((t) => toolDir(t, env));
  if (!dirs.every((d) => existsSync(path.join(d, DONE)))) return null;
  const [prom, am] = dirs as [string, string];
  return {
    prometheus: path.join(prom, 'prometheus'),
    promtool: path.join(prom, 'promtool'),
    alertmanager: path.join(am, 'alertmanager'),
    amtool: path.join(am, 'amtool'),
  };
}

/** Fetches and unpacks one package's commands into the cache when missing. */
function ensureTool(tool: DebianTool, env: ToolsEnv): void {
  const target = toolDir(tool, env);
  withLock(target, () => {
    if (existsSync(path.join(target, DONE))) return;
    timed(`${tool.package} ${tool.version}: from Debian bookworm into ${target}`, () =>
      fillCacheDir(target, (staging) => {
        const root = mkdtempSync(path.join(os.tmpdir(), `${tool.package}-`));
        try {
          unpackDebianPackages({
            suite: 'bookworm',
            packages: [`${tool.package}=${tool.version}`],
            root,
            env,
            notFound: (policy) =>
              `Debian bookworm has ${tool.package} ${policy(tool.package)}, not ${tool.version}: update scripts/lib/monitoring-tools.ts`,
          });
          for (const [name, inPackage] of Object.entries(tool.commands)) {
            copyFileSync(path.join(root, 'usr', 'bin', inPackage), path.join(staging, name));
            chmodSync(path.join(staging, name), 0o755);
          }
          if (tool.systemDir)
            cpSync(path.join(root, tool.systemDir), path.join(staging, 'system'), { recursive: true });
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      }),
    );
  });
}

/** nginx's binary, fetched (about 0.5 MB from the Debian mirror) when missing. */
export function ensureNginx(env: ToolsEnv = process.env): string {
  ensureTool(NGINX, env);
  return path.join(toolDir(NGINX, env), 'nginx');
}

/** Fetches and unpacks the packages when missing (about 30 MB from the Debian mirror). */
export function ensureMonitoringTools(env: ToolsEnv = process.env): MonitoringTools {
  for (const tool of [PROMETHEUS, ALERTMANAGER]) ensureTool(tool, env);
  for (const tool of [PROMETHEUS, ALERTMANAGER]) {
    const dir = tool.systemDir;
    if (!dir || existsSync(path.join(dir, 'default.tmpl'))) continue;
    // What installing the package would put there, from the same package version.
    if (process.getuid?.() !== 0) {
      throw new Error(
        `${tool.package} needs ${dir}: run  sudo apt-get install ${tool.package}  or run the tests as root`,
      );
    }
    cpSync(path.join(toolDir(tool, env), 'system'), dir, { recursive: true });
  }
  const tools = monitoringTools(env);
  if (tools === null) throw new Error(`Prometheus and Alertmanager still missing from ${deployToolsDir(env)}`);
  return tools;
}
