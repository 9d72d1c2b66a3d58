// CPU time and resident memory of a process (and whatever it started), read from Linux's /proc.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | null = null;

/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat (100 on every common Linux). */
function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of every thread of the process, in seconds; null once it has exited. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / ticksPerSecond();
  } catch {
    return null;
  }
}

/** VmRSS in bytes; null once the process has exited. */
export function rssBytes(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

/** Every process below `pid` (children of all its threads, recursively). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.split(' ').filter(Boolean).map(Number)) {
        out.push(c);
        walk(c);
      }
    }
  };
  walk(pid);
  return out;
}

export interface ProcessUsage {
  seconds: number;
  /** CPU time over the window as a percentage of one core (200 % = two cores busy). */
  cpuPercentOfOneCore: number;
  cpuSeconds: number;
  rssPeakBytes: number;
  rssMeanBytes: number;
  rssSamples: number;
  /** Processes the measured one had started (counted in the figures above); 0 for a single Node.js server. */
  descendants: number;
}

/**
 * Samples RSS every `intervalMs` and reads CPU time at both ends, for the process and its descendants, until
 * `stop()` is called. Throws at stop if the process exited meanwhile.
 */
export function watchProcess(pid: number, intervalMs = 250): { stop: () => ProcessUsage } {
  const tree = () => [pid, ...descendants(pid)];
  const cpuOf = (pids: number[]) => pids.reduce((sum, p) => sum + (cpuSeconds(p) ?? 0), 0);
  const rssOf = (pids: number[]) => pids.reduce((sum, p) => sum + (rssBytes(p) ?? 0), 0);
  if (cpuSeconds(pid) === null) throw new Error(`process ${pid} is not running`);
  const startPids = tree();
  const cpu0 = cpuOf(startPids);
  const t0 = performance.now();
  const rss: number[] = [rssOf(startPids)];
  let maxTree = startPids.length;
  const timer = setInterval(() => {
    const pids = tree();
    maxTree = Math.max(maxTree, pids.length);
    rss.push(rssOf(pids));
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const pids = tree();
      if (cpuSeconds(pid) === null) throw new Error(`process ${pid} exited while it was measured`);
      const cpu = cpuOf(pids) - cpu0;
      const seconds = (performance.now() - t0) / 1000;
      rss.push(rssOf(pids));
      return {
        seconds: Math.round(seconds * 1000) / 1000,
        cpuPercentOfOneCore: Math.round((cpu / seconds) * 1000) / 10,
        cpuSeconds: Math.round(cpu * 100) / 100,
        rssPeakBytes: Math.max(...rss),
        rssMeanBytes: Math.round(rss.reduce((a, b) => a + b, 0) / rss.length),
        rssSamples: rss.length,
        descendants: maxTree - 1,
      };
    },
  };
}
