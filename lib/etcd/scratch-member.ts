// A throwaway single etcd member on a restored snapshot, for restore tests: restored with the cluster's own version's
// tool, started with no TCP port at all (its client and peer URLs are unix sockets in its own 0700 folder, so only the
// dashboard's user can reach the data, Secrets included), asked through that version's etcdctl, stopped by its PID.
import 'server-only';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One etcd release's commands. */
export interface EtcdTools {
  /** The release, as `etcd --version` says ("3.6.14"). */
  version: string;
  etcd: string;
  etcdctl: string;
  /** From 3.5 on; 3.4 restores with etcdctl. */
  etcdutl: string | null;
}

const NAME = 'restore-test';
/** Relative to the scratch folder (the processes run there): socket files, never a port. */
const CLIENT_URL = 'unix://client:0';
const PEER_URL = 'unix://peer:0';
const PID_FILE = 'etcd.pid';
const LOW_PRIORITY = ['/usr/bin/ionice', '/usr/bin/nice'] as const;

/** etcdctl and etcd read ETCDCTL_* and ETCD_* from the environment: none of the dashboard's may leak in. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^ETCD(CTL)?_/.test(k)) delete env[k];
  env.ETCDCTL_API = '3';
  return env;
}

/** `cmd args` at the lowest CPU and I/O priority where ionice and nice exist. */
function lowPriority(cmd: string, args: string[]): [string, string[]] {
  if (LOW_PRIORITY.every((p) => existsSync(/*turbopackIgnore: true*/ p)))
    return [LOW_PRIORITY[0], ['-c3', LOW_PRIORITY[1], '-n', '19', cmd, ...args]];
  return [cmd, args];
}

/** Runs a command in `cwd` to its end within `timeoutMs`; resolves with stdout, rejects with its stderr's last line. */
function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const [bin, argv] = lowPriority(cmd, args);
    const child = spawn(/*turbopackIgnore: true*/ bin, argv, {
      cwd,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(cmd)}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(Buffer.concat(out).toString());
      const lines = Buffer.concat(err).toString().trim().split('\n').filter(Boolean);
      const last = lines.at(-1)?.slice(0, 300) ?? '';
      reject(
        new Error(
          signal === 'SIGKILL'
            ? `${path.basename(cmd)} ${args[0] ?? ''} did not finish within ${Math.round(timeoutMs / 1000)} s`
            : `${path.basename(cmd)} ${args.slice(0, 2).join(' ')} exited ${code}: ${last}`,
        ),
      );
    });
  });
}

/** `snapshot restore` of `file` into `<dir>/data` as a one-member cluster whose peer URL is a socket. */
export async function restoreInto(tools: EtcdTools, file: string, dir: string, timeoutMs: number): Promise<void> {
  const tool = tools.etcdutl ?? tools.etcdctl;
  await run(
    tool,
    [
      'snapshot',
      'restore',
      file,
      '--data-dir',
      path.join(dir, 'data'),
      '--name',
      NAME,
      '--initial-cluster',
      `${NAME}=${PEER_URL}`,
      '--initial-advertise-peer-urls',
      PEER_URL,
    ],
    dir,
    timeoutMs,
  );
}

/** Is `pid` an etcd serving a data dir inside `dir`? Guards a recorded PID against reuse. */
export function isScratchMember(pid: number, dir: string): boolean {
  try {
    const cmdline = readFileSync(/*turbopackIgnore: true*/ `/proc/${pid}/cmdline`, 'utf8').split('\0');
    const stat = readFileSync(/*turbopackIgnore: true*/ `/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && cmdline.includes(path.join(dir, 'data'));
  } catch {
    return false;
  }
}

export interface ScratchMember {
  pid: number;
  /** Ends the member (SIGTERM, then SIGKILL after a few seconds) and waits until it is gone. */
  stop(): Promise<void>;
}

async function waitGone(child: ChildProcess | null, pid: number, dir: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child ? child.exitCode !== null || child.signalCode !== null : !isScratchMember(pid, dir)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Stops a member by PID: SIGTERM, then SIGKILL. */
export async function stopScratchMember(pid: number, dir: string, child: ChildProcess | null = null): Promise<void> {
  if (!isScratchMember(pid, dir) && (!child || child.exitCode !== null)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await waitGone(child, pid, dir, 5_000)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitGone(child, pid, dir, 5_000);
}

/** Starts etcd on `<dir>/data`; its PID goes to `<dir>/etcd.pid`, so a later dashboard can stop it. */
export async function startScratchMember(tools: EtcdTools, dir: string, timeoutMs: number): Promise<ScratchMember> {
  const [bin, argv] = lowPriority(tools.etcd, [
    '--name',
    NAME,
    '--data-dir',
    path.join(dir, 'data'),
    '--listen-client-urls',
    CLIENT_URL,
    '--advertise-client-urls',
    CLIENT_URL,
    '--listen-peer-urls',
    PEER_URL,
    '--initial-advertise-peer-urls',
    PEER_URL,
    '--initial-cluster',
    `${NAME}=${PEER_URL}`,
    '--log-level',
    'warn',
  ]);
  const child = spawn(/*turbopackIgnore: true*/ bin, argv, {
    cwd: dir,
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`etcd ${tools.version} did not start`);
  writeFileSync(/*turbopackIgnore: true*/ path.join(dir, PID_FILE), String(pid));
  const err: string[] = [];
  child.stderr?.on('data', (c: Buffer) => err.push(c.toString()));
  // A dashboard that exits (SIGTERM, the end of a test run) takes its scratch member with it; one that is killed
  // leaves it to the next start's clearScratchRoot.
  const onExit = () => {
    try {
      if (isScratchMember(pid, dir)) process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  };
  process.once('exit', onExit);
  const member: ScratchMember = {
    pid,
    stop: async () => {
      process.removeListener('exit', onExit);
      await stopScratchMember(pid, dir, child);
    },
  };
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const line = err.join('').trim().split('\n').filter(Boolean).at(-1) ?? '';
      throw new Error(`etcd ${tools.version} exited ${child.exitCode} on the restored data: ${lastMessage(line)}`);
    }
    try {
      await ctl(tools, dir, ['endpoint', 'health'], 2_000);
      return member;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await member.stop();
  throw new Error(
    `etcd ${tools.version} on the restored data did not answer within ${Math.round(timeoutMs / 1000)} s: ${last}`,
  );
}

/** etcd logs JSON lines: their "msg" and "error" are what an operator reads. */
function lastMessage(line: string): string {
  try {
    const j = JSON.parse(line) as { msg?: string; error?: string };
    return [j.msg, j.error].filter(Boolean).join(': ').slice(0, 300);
  } catch {
    return line.slice(0, 300);
  }
}

function ctl(tools: EtcdTools, dir: string, args: string[], timeoutMs: number): Promise<string> {
  return run(
    tools.etcdctl,
    ['--endpoints', CLIENT_URL, '--command-timeout', `${Math.max(1, Math.round(timeoutMs / 1000))}s`, ...args],
    dir,
    timeoutMs + 2_000,
  );
}

/** The member's revision and its count of live keys (every key, Secrets included; only the count is read). */
export async function scratchKeyCount(
  tools: EtcdTools,
  dir: string,
  timeoutMs: number,
): Promise<{ revision: number; count: number }> {
  const out = await ctl(tools, dir, ['-w', 'json', 'get', '', '--prefix', '--keys-only', '--limit', '1'], timeoutMs);
  // The count and revision are small numbers; the ids JSON.parse would round are not read.
  const j = JSON.parse(out) as { header?: { revision?: number }; count?: number };
  return { revision: Number(j.header?.revision ?? 0), count: Number(j.count ?? 0) };
}

/** HashKV of the member at `revision`. */
export async function scratchHashKV(
  tools: EtcdTools,
  dir: string,
  revision: number,
  timeoutMs: number,
): Promise<{ hash: number; compactRevision: number }> {
  const out = await ctl(tools, dir, ['-w', 'json', 'endpoint', 'hashkv', '--rev', String(revision)], timeoutMs);
  const j = JSON.parse(out) as Array<{ HashKV?: { hash?: number; compact_revision?: number } }>;
  const h = j[0]?.HashKV;
  if (!h || typeof h.hash !== 'number') throw new Error('etcdctl endpoint hashkv gave no hash');
  return { hash: h.hash >>> 0, compactRevision: Number(h.compact_revision ?? 0) };
}

/**
 * At start: whatever a stopped dashboard left under `root` (a scratch member still running, a restored data dir) is
 * stopped by its recorded PID and removed. Returns how many folders were removed.
 */
export async function clearScratchRoot(root: string): Promise<number> {
  if (!existsSync(/*turbopackIgnore: true*/ root)) return 0;
  let removed = 0;
  for (const name of readdirSync(/*turbopackIgnore: true*/ root)) {
    const dir = path.join(root, name);
    const pidFile = path.join(dir, PID_FILE);
    if (existsSync(/*turbopackIgnore: true*/ pidFile)) {
      const pid = Number(readFileSync(/*turbopackIgnore: true*/ pidFile, 'utf8').trim());
      if (Number.isSafeInteger(pid) && pid > 0) await stopScratchMember(pid, dir);
    }
    rmSync(/*turbopackIgnore: true*/ dir, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
