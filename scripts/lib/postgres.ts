// A PostgreSQL server of our own for the tests of the shared store: Debian bookworm's PostgreSQL 15 (the machine's
// own install when it has one, else the package unpacked into the cache), in its own data folder, listening on
// 127.0.0.1 at a port the caller picks, stopped by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { unpackDebianPackages } from './debian-packages';
import { deployToolsDir, DONE, fillCacheDir, timed, withLock, type ToolsEnv } from './deploy-tools';
import { runChecked } from './run-checked';

export const POSTGRES = { package: 'postgresql-15', version: '15.18-0+deb12u1', major: 15 } as const;
/** Where Debian installs it; relative to it the server finds its share/ folder (timezones, initdb's templates). */
const SYSTEM_BIN = `/usr/lib/postgresql/${POSTGRES.major}/bin`;
/** PostgreSQL refuses to run as root; as root the tests run it as this user. */
const UNPRIVILEGED = { uid: 65534, gid: 65534, name: 'nobody' };

function unpackedRoot(env: ToolsEnv): string {
  return path.join(deployToolsDir(env), `${POSTGRES.package}-${POSTGRES.version.replace(/[^A-Za-z0-9.-]/g, '_')}`);
}

/** The folder with initdb and postgres: the machine's install, or Debian's package unpacked once into the cache. */
export function ensurePostgres(env: ToolsEnv = process.env): string {
  if (existsSync(path.join(SYSTEM_BIN, 'postgres'))) return SYSTEM_BIN;
  const target = unpackedRoot(env);
  withLock(target, () => {
    if (existsSync(path.join(target, DONE))) return;
    timed(`${POSTGRES.package} ${POSTGRES.version}: from Debian bookworm into ${target}`, () =>
      fillCacheDir(target, (staging) =>
        unpackDebianPackages({
          suite: 'bookworm',
          packages: [`${POSTGRES.package}=${POSTGRES.version}`],
          root: staging,
          env,
          notFound: (policy) =>
            `Debian bookworm has ${POSTGRES.package} ${policy(POSTGRES.package)}, not ${POSTGRES.version}: update scripts/lib/postgres.ts`,
        }),
      ),
    );
  });
  return path.join(target, 'usr', 'lib', 'postgresql', String(POSTGRES.major), 'bin');
}

export interface PostgresServer {
  /** postgres://dashboard:…@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  pid: number;
  logFile: string;
  /** Fast shutdown (SIGINT) by PID, SIGKILL after 10 s; the data folder is kept. */
  stop(): Promise<void>;
  /** SIGKILL by PID to its backends and the postmaster, as a crash would; `start()` brings the same data back. */
  kill(): Promise<void>;
  /** Starts the server again on the same data folder and port. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
}

/** Until a query answers: after a crash the port listens while recovery still refuses connections. */
async function waitReady(url: string, child: ChildProcess, logFile: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`postgres exited (${child.exitCode ?? child.signalCode}) before it answered; see ${logFile}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > until)
        throw new Error(`postgres did not answer within ${deadlineMs} ms (${(err as Error).message}); see ${logFile}`, {
          cause: err,
        });
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * initdb into a new folder under `parent` (which the unprivileged user must be able to enter when run as root), then
 * the server on 127.0.0.1:`port` with a password user `dashboard`, owner of the database `postgres`. Commits are
 * synchronous but not fsynced (a test machine): a SIGKILLed server keeps every commit it acknowledged, since the
 * operating system holds the writes; only a power cut could lose them.
 */
export async function startPostgres(opts: { parent: string; port: number; env?: ToolsEnv }): Promise<PostgresServer> {
  const env = opts.env ?? process.env;
  let bin = ensurePostgres(env);
  mkdirSync(opts.parent, { recursive: true });
  const dir = mkdtempSync(path.join(opts.parent, `pg-${opts.port}-`));
  const asRoot = process.getuid?.() === 0;
  if (asRoot && !bin.startsWith('/usr/')) {
    // The cache sits in root's home, which the unprivileged user cannot enter: it runs a copy inside its folder.
    const installRoot = path.resolve(bin, '..', '..', '..', '..', '..');
    for (const part of ['lib', 'share']) {
      const from = path.join(installRoot, 'usr', part, 'postgresql', String(POSTGRES.major));
      cpSync(from, path.join(dir, 'install', 'usr', part, 'postgresql', String(POSTGRES.major)), { recursive: true });
    }
    bin = path.join(dir, 'install', 'usr', 'lib', 'postgresql', String(POSTGRES.major), 'bin');
  }
  const data = path.join(dir, 'data');
  const sockets = path.join(dir, 'sockets');
  mkdirSync(sockets);
  const password = `pw-${process.pid}-${opts.port}`;
  const pwfile = path.join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  const logFile = path.join(dir, 'postgres.log');
  if (asRoot) runChecked('chown', ['-R', `${UNPRIVILEGED.uid}:${UNPRIVILEGED.gid}`, dir], dir, env);
  const ids = asRoot ? { uid: UNPRIVILEGED.uid, gid: UNPRIVILEGED.gid } : {};
  const childEnv = { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  await new Promise<void>((resolve, reject) => {
    const init = spawn(
      path.join(bin, 'initdb'),
      [
        '-D',
        data,
        '-U',
        'dashboard',
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '--encoding=UTF8',
        '--no-locale',
        '--no-sync',
      ],
      { cwd: dir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], ...ids },
    );
    let out = '';
    init.stdout.on('data', (b: Buffer) => (out += b.toString()));
    init.stderr.on('data', (b: Buffer) => (out += b.toString()));
    init.once('error', reject);
    init.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`initdb exited ${code}: ${out.trim().split('\n').slice(-5).join(' | ')}`)),
    );
  });

  const url = `postgres://dashboard:${password}@127.0.0.1:${opts.port}/postgres`;
  let child: ChildProcess | null = null;
  const start = async () => {
    const log = openSync(logFile, 'a');
    if (asRoot) chownSync(logFile, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
    const c = spawn(
      path.join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(opts.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${sockets}`,
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'jit=off',
        '-c',
        'max_connections=100',
        '-c',
        'shared_buffers=32MB',
      ],
      { cwd: dir, env: childEnv, stdio: ['ignore', log, log], ...ids },
    );
    child = c;
    await waitReady(url, c, logFile, 60_000);
  };
  const signal = async (sig: NodeJS.Signals) => {
    const c = child;
    if (!c?.pid) return;
    if (c.exitCode === null && c.signalCode === null) {
      // A crash takes the backends down with the postmaster; SIGKILL to the postmaster alone leaves them serving their
      // open connections for a moment. Each backend is its own process group (PostgreSQL calls setsid), so they are
      // found as the postmaster's children and killed by their PIDs, first.
      // The postmaster is stopped first, so that it forks no new process (a recovery) once its backends are gone.
      if (sig === 'SIGKILL') {
        process.kill(c.pid, 'SIGSTOP');
        for (const pid of childrenOf(c.pid)) killQuietly(pid);
      }
      process.kill(c.pid, sig);
    }
    if (!(await exited(c, 10_000)) && c.pid) {
      for (const pid of childrenOf(c.pid)) killQuietly(pid);
      process.kill(c.pid, 'SIGKILL');
      await exited(c, 10_000);
    }
    child = null;
  };
  await start();
  const server: PostgresServer = {
    url,
    port: opts.port,
    get pid() {
      return child?.pid ?? -1;
    },
    logFile,
    stop: () => signal('SIGINT'),
    kill: () => signal('SIGKILL'),
    start,
    async destroy() {
      await signal('SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** The PIDs whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The fields after the command (in parentheses, which may hold spaces): state, then the parent's PID.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}

/** A temporary parent folder for a test's servers. */
export function postgresTestParent(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etcd-dashboard-pg-'));
  chmodSync(dir, 0o755);
  return dir;
}
