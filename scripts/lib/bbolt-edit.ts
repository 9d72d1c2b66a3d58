// For tests only: tools/bbolt-edit, which rewrites one key's value in a stopped etcd member's bbolt file so that its
// data differs silently from its peers'. Built with Go into the cache the etcd builds use, once per source version.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { etcdCacheDir, findGo, type EtcdEnv } from './etcd-versions';

const TOOL = 'bbolt-edit';
const MODULE_DIR = path.resolve(__dirname, '..', '..', 'tools', TOOL);

/** The files a build depends on: go.mod, go.sum and every .go file of the module's root folder. */
function sourceFiles(): string[] {
  return readdirSync(MODULE_DIR)
    .filter((f) => f === 'go.mod' || f === 'go.sum' || f.endsWith('.go'))
    .sort();
}

/** A short hash of the module's sources: a change to any of them builds into a new cache folder. */
export function bboltEditSourceHash(): string {
  const hash = createHash('sha256');
  for (const name of sourceFiles()) {
    hash.update(`${name}\0`);
    hash.update(readFileSync(path.join(MODULE_DIR, name)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** Where the build for the current sources lives: beside the etcd builds, under the same cache root. */
export function bboltEditPath(env: EtcdEnv = process.env): string {
  return path.join(path.dirname(etcdCacheDir(env)), TOOL, bboltEditSourceHash(), TOOL);
}

/** The built tool's path; builds it with `go build` first when the current sources have no build yet. */
export function ensureBboltEdit(env: EtcdEnv = process.env): string {
  const target = bboltEditPath(env);
  if (existsSync(target)) return target;
  const go = findGo(env);
  if (go === null) throw new Error(`${TOOL} is built with Go, and no go was found (set GO=/path/to/go)`);
  const dir = path.dirname(target);
  mkdirSync(path.dirname(dir), { recursive: true });
  // Built into a staging folder and renamed into place, so a half-done build never looks present.
  const staging = mkdtempSync(`${dir}.partial-`);
  try {
    chmodSync(staging, 0o755);
    const args = ['build', '-trimpath', '-mod=readonly', '-buildvcs=false', '-ldflags=-s -w', '-o', staging + '/', '.'];
    const run = spawnSync(go, args, {
      cwd: MODULE_DIR,
      env: { ...process.env, ...env, CGO_ENABLED: '0' },
      encoding: 'utf8',
    });
    if (run.error !== undefined) throw new Error(`${go}: ${run.error.message}`);
    if (run.status !== 0) {
      throw new Error(
        `go ${args.join(' ')} failed (exit ${run.status ?? run.signal}) in ${MODULE_DIR}:\n${run.stderr}`,
      );
    }
    if (!existsSync(path.join(staging, TOOL))) throw new Error(`${TOOL} missing from ${staging} after go build`);
    // Another process may have finished first: its build is as good as ours.
    if (!existsSync(target)) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(staging, dir);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return target;
}

/**
 * Rewrites the value of `key`'s newest revision in a stopped member's bbolt file (`<data-dir>/member/snap/db`).
 * Resolves with the tool's one line saying which revision it changed; rejects with its stderr (key not found, file
 * missing or still locked by a running etcd).
 */
export function rewriteValue(dbFile: string, key: string, value: string): Promise<string> {
  const tool = ensureBboltEdit();
  return new Promise((resolve, reject) => {
    execFile(tool, ['-db', dbFile, '-key', key, '-value', value], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const why = stderr.trim() || err.message;
        reject(new Error(`${TOOL} ${key} in ${dbFile} failed (exit ${err.code ?? err.signal}): ${why}`));
      } else {
        resolve(stdout.trim());
      }
    });
  });
}
