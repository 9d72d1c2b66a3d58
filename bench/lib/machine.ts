// The machine a figure was measured on, recorded beside every result: numbers mean little without it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface MachineInfo {
  /** When the figure finished. */
  date: string;
  os: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
  node: string;
  etcd: string;
  nextjs: string;
  /** The production build the dashboard ran from (NEXT_DIST_DIR) and its BUILD_ID; null when none was found. */
  build: { distDir: string; buildId: string | null };
  /** os.loadavg() (1, 5, 15 min) when the figure started and ended: how busy the machine was, this run included. */
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
}

/** The folder `next build` wrote to and `next start` reads from: next.config.js honours NEXT_DIST_DIR. */
export function distDir(): string {
  return process.env.NEXT_DIST_DIR || '.next';
}

/** The production build's id; null while there is none (e.g. while `next build` rewrites the folder). */
export function buildId(): string | null {
  try {
    return readFileSync(path.join(ROOT, distDir(), 'BUILD_ID'), 'utf8').trim();
  } catch {
    return null;
  }
}

function etcdVersion(): string {
  try {
    const out = execFileSync(process.env.ETCD_BIN ?? 'etcd', ['--version'], { encoding: 'utf8' });
    return /etcd Version:\s*(\S+)/.exec(out)?.[1] ?? out.split('\n')[0]?.trim() ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

function nextVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'next', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const round2 = (xs: number[]) => xs.map((x) => Math.round(x * 100) / 100);

/** Call when the figure starts; the returned function completes the record when it ends. */
export function startMachineRecord(): () => MachineInfo {
  const loadAtStart = os.loadavg();
  const build = { distDir: distDir(), buildId: buildId() };
  return () => {
    const cpus = os.cpus();
    return {
      date: new Date().toISOString(),
      os: `${os.type()} ${os.release()} (${os.arch()})`,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      cpuCount: cpus.length,
      totalMemoryBytes: os.totalmem(),
      node: process.version,
      etcd: etcdVersion(),
      nextjs: nextVersion(),
      build,
      loadAverageAtStart: round2(loadAtStart),
      loadAverageAtEnd: round2(os.loadavg()),
    };
  };
}
