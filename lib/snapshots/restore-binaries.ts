// Where the etcd commands of each release line are, for restore tests: the folders the config names per line, else
// the folders `npm run etcd -- ensure` fills (ETCD_DASHBOARD_CACHE, ~/.cache/etcd-dashboard/etcd/<version>) and
// /usr/bin (Debian's etcd-server). A folder counts only when its etcd says it is of that line.
import 'server-only';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EtcdTools } from '@/lib/etcd/scratch-member';

/** "3.6.14" → "3.6"; null when it is no etcd version. */
export function etcdLineOf(version: string | null | undefined): string | null {
  const m = /^v?(\d+)\.(\d+)\.\d+/.exec(version ?? '');
  return m ? `${m[1]}.${m[2]}` : null;
}

/** What `etcd --version` says it is ("etcd Version: 3.6.14"), or null. */
function versionOf(etcd: string): string | null {
  try {
    const out = execFileSync(etcd, ['--version'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return /etcd Version:\s*(\S+)/.exec(out)?.[1] ?? null;
  } catch {
    return null;
  }
}

function toolsIn(dir: string): EtcdTools | null {
  const etcd = path.join(dir, 'etcd');
  const etcdctl = path.join(dir, 'etcdctl');
  if (!existsSync(/*turbopackIgnore: true*/ etcd) || !existsSync(/*turbopackIgnore: true*/ etcdctl)) return null;
  const version = versionOf(etcd);
  if (!version) return null;
  const etcdutl = path.join(dir, 'etcdutl');
  return { version, etcd, etcdctl, etcdutl: existsSync(/*turbopackIgnore: true*/ etcdutl) ? etcdutl : null };
}

export class EtcdBinaryFinder {
  private readonly found = new Map<string, EtcdTools | null>();

  constructor(
    /** Line ("3.6") → folder, from the config. */
    private readonly configured: Readonly<Record<string, string>>,
    private readonly env: Readonly<Record<string, string | undefined>> = process.env,
  ) {}

  /** The folders looked in for `line`, in order. */
  candidates(line: string): string[] {
    const dirs: string[] = [];
    const own = this.configured[line];
    if (own) return [own];
    const cache = path.join(
      path.resolve(
        /*turbopackIgnore: true*/ this.env.ETCD_DASHBOARD_CACHE || path.join(os.homedir(), '.cache', 'etcd-dashboard'),
      ),
      'etcd',
    );
    if (existsSync(/*turbopackIgnore: true*/ cache)) {
      const versions = readdirSync(/*turbopackIgnore: true*/ cache)
        .filter((v) => etcdLineOf(v) === line)
        .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
      dirs.push(...versions.map((v) => path.join(cache, v)));
    }
    dirs.push('/usr/bin');
    return dirs;
  }

  /** The commands of `line`, or null when this machine has none of that line. */
  tools(line: string): EtcdTools | null {
    if (this.found.has(line)) return this.found.get(line) ?? null;
    let tools: EtcdTools | null = null;
    for (const dir of this.candidates(line)) {
      const t = toolsIn(dir);
      if (t && etcdLineOf(t.version) === line) {
        tools = t;
        break;
      }
    }
    this.found.set(line, tools);
    return tools;
  }
}
