// Starts the production build of the dashboard as a child process bound to 127.0.0.1, and stops it by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface DashboardProcess {
  pid: number;
  port: number;
  url: string;
  logFile: string;
  /** Resolves with the exit code when the process has exited. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  log(): string;
}

const ROOT = path.resolve(__dirname, '..', '..');

export interface StartDashboardOptions {
  port: number;
  env: Record<string, string>;
  logFile: string;
  /** DATA_DIR for the dashboard database; by default a folder beside the log named after the port. */
  dataDir?: string;
  /** Wait for /api/clusters to answer; false to watch a process that should fail at start. */
  waitReady?: boolean;
  timeoutMs?: number;
  /** A folder that holds server/server.mjs and the build beside it (dist/standalone); by default this checkout. */
  serverDir?: string;
  /** Run as this user and group (the container image's 65532), as root can; by default as the caller. */
  user?: { uid: number; gid: number };
  /**
   * Each line of the log begins with the time this process read it (ISO, ms), for benchmarks that read a timeline
   * from several replicas' logs; the dashboard's output then passes through this process (by default it writes the
   * file itself).
   */
  stampLines?: boolean;
  /** Options for node itself before the server's path (`--cpu-prof`, which NODE_OPTIONS does not take). */
  nodeArgs?: string[];
}

export async function startDashboard(opts: StartDashboardOptions): Promise<DashboardProcess> {
  const fd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    // The production server run directly by node, not through npm and sh, so the PID we hold is the server's own.
    const serverDir = opts.serverDir ?? ROOT;
    child = spawn(process.execPath, [...(opts.nodeArgs ?? []), path.join(serverDir, 'server/server.mjs')], {
      cwd: serverDir,
      ...opts.user,
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: '1',
        HOSTNAME: '127.0.0.1',
        PORT: String(opts.port),
        DATA_DIR: opts.dataDir ?? path.join(path.dirname(opts.logFile), `data-${opts.port}`),
        ...opts.env,
      },
      stdio: opts.stampLines ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    });
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (opts.stampLines) {
    let open = 2;
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => writeSync(fd, `${new Date().toISOString()} ${line}\n`));
      lines.on('close', () => --open === 0 && closeSync(fd));
    }
  } else {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the dashboard');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const url = `http://127.0.0.1:${opts.port}`;
  const proc: DashboardProcess = {
    pid,
    port: opts.port,
    url,
    logFile: opts.logFile,
    exited,
    log: () => readFileSync(opts.logFile, 'utf8'),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (hasExited) return;
      process.kill(pid, signal);
      const timer = setTimeout(() => !hasExited && process.kill(pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  if (opts.waitReady === false) return proc;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (hasExited) throw new Error(`dashboard exited during start; log:\n${proc.log()}`);
    try {
      const res = await fetch(`${url}/api/clusters`);
      if (res.ok) return proc;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await proc.stop();
  throw new Error(`dashboard did not answer on ${url} within ${opts.timeoutMs ?? 30_000} ms; log:\n${proc.log()}`);
}
