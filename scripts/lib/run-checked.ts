// Runs a tool the scripts depend on (go, apt-get, python3, a built binary) and fails with the end of what it said.
import { spawnSync } from 'node:child_process';

/** Runs `command` and returns its stdout; throws with the exit and the last 20 lines of its output when it fails. */
export function runChecked(
  command: string,
  args: string[],
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const run = spawnSync(command, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error !== undefined) throw new Error(`${command}: ${run.error.message}`);
  if (run.status !== 0) {
    const tail = `${run.stdout}\n${run.stderr}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`${command} ${args.join(' ')} failed (exit ${run.status ?? run.signal}) in ${cwd}:\n${tail}`);
  }
  return run.stdout;
}
