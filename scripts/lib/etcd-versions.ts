// The etcd versions the project supports and where each one's binaries live: finds, fetches and builds them.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { debianMirror, unpackDebianPackages } from './debian-packages';
import { runChecked } from './run-checked';

export const ETCD_LINES = ['3.4', '3.5', '3.6', '3.7'] as const;
export type EtcdLine = (typeof ETCD_LINES)[number];

/** apt: Debian bookworm's own packages; sid-deb: Debian sid's .debs unpacked into the cache; go-build: etcd's Go modules. */
export type EtcdSource = 'apt' | 'sid-deb' | 'go-build';

export interface EtcdRelease {
  line: EtcdLine;
  version: string;
  source: EtcdSource;
  endOfLife: boolean;
}

export const ETCD_RELEASES: Readonly<Record<EtcdLine, EtcdRelease>> = {
  '3.4': { line: '3.4', version: '3.4.23', source: 'apt', endOfLife: true },
  '3.5': { line: '3.5', version: '3.5.30', source: 'sid-deb', endOfLife: false },
  '3.6': { line: '3.6', version: '3.6.14', source: 'go-build', endOfLife: false },
  '3.7': { line: '3.7', version: '3.7.1', source: 'go-build', endOfLife: false },
};

/** Settings read: ETCD_DASHBOARD_ETCD_VERSION, ETCD_DASHBOARD_CACHE, GO, PATH. Child processes get process.env with these on top. */
export type EtcdEnv = Readonly<Record<string, string | undefined>>;

export interface EtcdBinaries {
  version: string;
  etcd: string;
  etcdctl: string;
  /** etcdutl exists from 3.5 on; 3.4's snapshot status and restore live in etcdctl. */
  etcdutl: string | null;
}

const ROOT = path.resolve(__dirname, '..', '..');
const APT_BIN_DIR = '/usr/bin';
const CACHED_COMMANDS = ['etcd', 'etcdctl', 'etcdutl'] as const;

/** The Go module (committed in the repo) that builds a go-build line's three commands. */
export function goModuleDir(line: EtcdLine): string {
  return path.join(ROOT, 'tools', 'etcd-build', `v${line}`);
}

/** Outside the repo, so repeated runs on one machine reuse what earlier runs fetched or built; ETCD_DASHBOARD_CACHE moves it. */
export function projectCacheDir(env: EtcdEnv = process.env): string {
  return path.resolve(env.ETCD_DASHBOARD_CACHE || path.join(os.homedir(), '.cache', 'etcd-dashboard'));
}

export function etcdCacheDir(env: EtcdEnv = process.env): string {
  return path.join(projectCacheDir(env), 'etcd');
}

export function parseEtcdLine(value: string): EtcdLine | null {
  return ETCD_LINES.find((line) => line === value.trim()) ?? null;
}

/** ETCD_DASHBOARD_ETCD_VERSION picks a line; unset or empty means "the default"; anything else is refused by name. */
export function etcdLineFromEnv(env: EtcdEnv = process.env): EtcdLine | null {
  const raw = env.ETCD_DASHBOARD_ETCD_VERSION;
  if (raw === undefined || raw.trim() === '') return null;
  const line = parseEtcdLine(raw);
  if (line === null)
    throw new Error(`ETCD_DASHBOARD_ETCD_VERSION must be one of ${ETCD_LINES.join(', ')} (got "${raw}")`);
  return line;
}

/** The newest line we have or can get: 3.7 wherever Go is, else 3.5 from sid's debs, last the end-of-life 3.4. */
export function pickDefaultLine(obtainable: Iterable<EtcdLine>): EtcdLine | null {
  const have = new Set(obtainable);
  return [...ETCD_LINES].reverse().find((line) => have.has(line)) ?? null;
}

export function etcdBinaries(line: EtcdLine, env: EtcdEnv = process.env): EtcdBinaries | null {
  const { version, source } = ETCD_RELEASES[line];
  if (source === 'apt') {
    const etcd = path.join(APT_BIN_DIR, 'etcd');
    const etcdctl = path.join(APT_BIN_DIR, 'etcdctl');
    return existsSync(etcd) && existsSync(etcdctl) ? { version, etcd, etcdctl, etcdutl: null } : null;
  }
  const file = (name: (typeof CACHED_COMMANDS)[number]): string => path.join(etcdCacheDir(env), version, name);
  if (!CACHED_COMMANDS.every((name) => existsSync(file(name)))) return null;
  return { version, etcd: file('etcd'), etcdctl: file('etcdctl'), etcdutl: file('etcdutl') };
}

/** Lines whose binaries are here, or whose source tool is (Go for go-build, apt-get for the rest). */
export function obtainableLines(env: EtcdEnv = process.env): EtcdLine[] {
  const go = findGo(env) !== null;
  const apt = findOnPath('apt-get', env) !== null && findOnPath('dpkg-deb', env) !== null;
  return ETCD_LINES.filter((line) => {
    if (etcdBinaries(line, env) !== null) return true;
    return ETCD_RELEASES[line].source === 'go-build' ? go : apt;
  });
}

export function defaultEtcdLine(env: EtcdEnv = process.env): EtcdLine {
  const line = pickDefaultLine(obtainableLines(env));
  if (line === null) throw new Error('no etcd available: install Go (builds 3.7) or run on Debian with apt-get');
  if (ETCD_RELEASES[line].endOfLife) {
    console.error(`etcd: falling back to ${line}, which is end of life; install Go to get 3.7`);
  }
  return line;
}

/** ETCD_DASHBOARD_ETCD_VERSION when set, the default line otherwise. */
export function selectedEtcdLine(env: EtcdEnv = process.env): EtcdLine {
  return etcdLineFromEnv(env) ?? defaultEtcdLine(env);
}

/** Returns the line's binaries, fetching or building them first when they are missing (builds take minutes). */
export function ensureEtcd(line: EtcdLine, env: EtcdEnv = process.env): EtcdBinaries {
  const present = etcdBinaries(line, env);
  if (present !== null) return present;
  const release = ETCD_RELEASES[line];
  const started = Date.now();
  let what: string;
  if (release.source === 'apt') {
    installFromApt(env);
    what = 'installed etcd-server and etcd-client with apt-get';
  } else {
    const target = path.join(etcdCacheDir(env), release.version);
    if (release.source === 'sid-deb') {
      fillCacheDir(target, (staging) => unpackSidDebs(release.version, staging, env));
      what = `fetched Debian sid's etcd-server and etcd-client ${release.version} from ${debianMirror()} into ${target}`;
    } else {
      const go = findGo(env);
      if (go === null) {
        throw new Error(`etcd ${release.version} is built with Go, and no go was found (set GO=/path/to/go)`);
      }
      fillCacheDir(target, (staging) => goBuild(go, goModuleDir(line), staging, env));
      what = `built etcd ${release.version} from etcd's Go modules (${path.relative(ROOT, goModuleDir(line))}) into ${target}`;
    }
  }
  const binaries = etcdBinaries(line, env);
  if (binaries === null) throw new Error(`etcd ${release.version}: binaries still missing after install`);
  checkVersion(binaries, env);
  console.error(`etcd ${line}: ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return binaries;
}

/** Fills a staging folder beside `target` and renames it into place, so a half-done install never looks present. */
function fillCacheDir(target: string, fill: (staging: string) => void): void {
  mkdirSync(path.dirname(target), { recursive: true });
  const staging = mkdtempSync(`${target}.partial-`);
  try {
    chmodSync(staging, 0o755);
    fill(staging);
    for (const name of CACHED_COMMANDS) {
      if (!existsSync(path.join(staging, name))) throw new Error(`${name} missing from ${staging}`);
    }
    // A folder left by an interrupted run, or another process that finished first.
    if (existsSync(target) && !CACHED_COMMANDS.every((name) => existsSync(path.join(target, name)))) {
      rmSync(target, { recursive: true, force: true });
    }
    if (!existsSync(target)) renameSync(staging, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function unpackSidDebs(version: string, staging: string, env: EtcdEnv): void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'etcd-sid-'));
  try {
    unpackDebianPackages({
      suite: 'sid',
      packages: [`etcd-server=${version}-*`, `etcd-client=${version}-*`],
      root,
      env,
      // sid moves on and drops old versions: say what it has now, so the table can follow.
      notFound: (policy) =>
        `Debian sid has etcd-server ${policy('etcd-server')}, not ${version}: update ETCD_RELEASES['3.5']`,
    });
    // etcd-server ships etcd and etcdutl, etcd-client ships etcdctl.
    for (const name of CACHED_COMMANDS) {
      copyFileSync(path.join(root, 'usr', 'bin', name), path.join(staging, name));
      chmodSync(path.join(staging, name), 0o755);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function goBuild(go: string, moduleDir: string, staging: string, env: EtcdEnv): void {
  // Static, reproducible binaries from go.sum as committed: no VCS stamp (the repo's own state is not etcd's).
  const flags = ['-trimpath', '-mod=readonly', '-buildvcs=false', '-ldflags=-s -w'];
  const out = `${staging}${path.sep}`;
  runChecked(go, ['build', ...flags, '-o', out, './etcd', './etcdctl', './etcdutl'], moduleDir, {
    ...env,
    CGO_ENABLED: '0',
  });
}

function installFromApt(env: EtcdEnv): void {
  const command = 'apt-get update && apt-get install -y --no-install-recommends etcd-server etcd-client';
  if (process.getuid?.() !== 0) throw new Error(`etcd 3.4 comes from Debian's packages: run  sudo sh -c '${command}'`);
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  runChecked('apt-get', ['-q', 'update'], ROOT, aptEnv);
  runChecked('apt-get', ['-q', 'install', '-y', '--no-install-recommends', 'etcd-server', 'etcd-client'], ROOT, aptEnv);
}

/** What we fetched or built must say it is the version the table promises. */
function checkVersion(binaries: EtcdBinaries, env: EtcdEnv): void {
  const out = runChecked(binaries.etcd, ['--version'], ROOT, env);
  const said = /etcd Version: (\S+)/.exec(out)?.[1];
  if (said !== binaries.version) {
    throw new Error(`${binaries.etcd} says it is ${said ?? 'an unknown version'}, expected ${binaries.version}`);
  }
}

function findOnPath(name: string, env: EtcdEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

/** GO if set, else go on PATH, else the usual install folders (a CI shell's PATH often lacks /usr/local/go/bin). */
export function findGo(env: EtcdEnv = process.env): string | null {
  if (env.GO) return existsSync(env.GO) ? env.GO : null;
  return findOnPath('go', env) ?? ['/usr/local/go/bin/go', '/usr/lib/go/bin/go'].find((p) => existsSync(p)) ?? null;
}
