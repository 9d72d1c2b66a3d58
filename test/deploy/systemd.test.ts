// The systemd unit, checked by systemd's own tools without starting it (these machines do not run systemd as PID 1):
// `systemd-analyze verify` accepts it without a warning, `systemd-analyze security` rates its hardening, and the one
// hardening switch it leaves off (MemoryDenyWriteExecute) is shown to kill node.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const SYSTEMD = path.join(ROOT, 'deploy', 'systemd');
const UNIT_NAME = 'etcd-dashboard.service';
const UNIT = readFileSync(path.join(SYSTEMD, UNIT_NAME), 'utf8');
/**
 * systemd-analyze security's overall exposure (0 safest, 10 unprotected) as measured on systemd 252 (Debian 12):
 * 1.4, "OK". What remains is inherent to the job: it talks TCP (0.3 + 0.1 for AF_UNIX), shares the host network
 * (0.5: it must reach etcd), keeps @resources (ionice for restore tests), W+X memory (V8) and the host root.
 * Dropping any one switch raises it, and the test fails.
 */
const MAX_EXPOSURE = 1.4;

/** Every `Key=value` in the [Service] section, in order; a key may repeat. */
function serviceSettings(unit: string): [string, string][] {
  const section = /^\[Service\]$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(unit)?.[1] ?? '';
  return section
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

const settings = serviceSettings(UNIT);
const setting = (key: string): string | undefined => settings.filter(([k]) => k === key).at(-1)?.[1];

describe('the systemd unit', () => {
  let scratch: string;

  beforeAll(() => {
    const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (analyze.error !== undefined) {
      throw new Error(`systemd-analyze not found (Debian package systemd): ${analyze.error.message}`);
    }
    scratch = mkdtempSync(path.join(os.tmpdir(), 'systemd-unit-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /**
   * A copy of the unit in its own folder, its node replaced by the node running this test: verify checks that
   * ExecStart's program exists and is executable, and node need not be /usr/bin/node here. The script it runs is
   * not checked, so /opt/etcd-dashboard need not exist.
   */
  function unitCopy(edit: (unit: string) => string = (u) => u): string {
    const dir = mkdtempSync(path.join(scratch, 'unit-'));
    const file = path.join(dir, UNIT_NAME);
    writeFileSync(file, edit(UNIT.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `)));
    return file;
  }

  function analyze(args: string[]): { status: number | null; output: string } {
    const run = spawnSync('systemd-analyze', ['--no-pager', ...args], { encoding: 'utf8', timeout: 30_000 });
    return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
  }

  it('passes `systemd-analyze verify` with no warning', () => {
    expect(analyze(['verify', unitCopy()])).toEqual({ status: 0, output: '' });
  });

  it('a misspelled directive or a bad value is named by verify', () => {
    // verify exits 0 for both (systemd ignores such lines when it loads the unit): the warning is the failure.
    const misspelt = analyze(['verify', unitCopy((u) => u.replace('ProtectSystem=strict', 'ProtectSytem=strict'))]);
    expect(misspelt.output).toContain("Unknown key 'ProtectSytem' in section [Service]");
    const badValue = analyze(['verify', unitCopy((u) => u.replace('Restart=on-failure', 'Restart=sometimes'))]);
    expect(badValue.output).toContain('Failed to parse service restart specifier, ignoring: sometimes');
  });

  it('a node path that does not exist fails verify (adjust ExecStart to `command -v node`)', () => {
    const missing = analyze([
      'verify',
      unitCopy((u) => u.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/bin/node')),
    ]);
    expect(missing.status).not.toBe(0);
    expect(missing.output).toContain('Command /nonexistent/bin/node is not executable');
  });

  it(`has a systemd-analyze security exposure of at most ${MAX_EXPOSURE}; weaker hardening fails`, () => {
    const exposure = (file: string): number => {
      const run = analyze(['security', '--offline=true', file]);
      const level = new RegExp(`Overall exposure level for ${UNIT_NAME}: (\\d+\\.\\d+)`).exec(run.output)?.[1];
      if (level === undefined) throw new Error(`no exposure level in:\n${run.output}`);
      return Number(level);
    };
    const own = exposure(unitCopy());
    expect(own).toBeLessThanOrEqual(MAX_EXPOSURE);
    // systemd-analyze's own gate agrees (its threshold is in tenths).
    expect(analyze(['security', '--offline=true', `--threshold=${MAX_EXPOSURE * 10}`, unitCopy()]).status).toBe(0);
    // The measure sees each switch: without it the unit rates worse.
    for (const line of ['PrivateUsers=yes', 'ProtectKernelTunables=yes', 'CapabilityBoundingSet=']) {
      expect(exposure(unitCopy((u) => u.replace(new RegExp(`^${line}$`, 'm'), ''))), line).toBeGreaterThan(own);
    }
  });

  it('runs the standalone entry the image runs, as its own user, with DATA_DIR its state directory', () => {
    expect(setting('User')).toBe('etcd-dashboard');
    expect(setting('DynamicUser')).toBe('no');
    expect(setting('WorkingDirectory')).toBe('/opt/etcd-dashboard');
    // The Dockerfile's CMD is `node server/server.mjs` from its WORKDIR; the same folder layout here.
    expect(setting('ExecStart')).toBe(`/usr/bin/node ${setting('WorkingDirectory')}/server/server.mjs`);
    expect(setting('Environment')?.split(' ')).toContain(`DATA_DIR=/var/lib/${setting('StateDirectory')}`);
    expect(setting('EnvironmentFile')).toBe('/etc/etcd-dashboard/etcd-dashboard.env');
    expect(setting('Restart')).toBe('on-failure');
    expect(setting('TimeoutStopSec')).toMatch(/^\d+s$/);
    expect(setting('CapabilityBoundingSet')).toBe('');
    expect(setting('RestrictAddressFamilies')).toBe('AF_INET AF_INET6 AF_UNIX');
    // Restore tests run the scratch etcd under ionice and nice: @resources (ioprio_set, setpriority) stays allowed.
    const filters = settings.filter(([k]) => k === 'SystemCallFilter').map(([, v]) => v);
    expect(filters[0]).toBe('@system-service');
    expect(filters.join(' ')).not.toContain('@resources');
    expect(setting('MemoryDenyWriteExecute')).toBeUndefined();
  });

  it('leaves MemoryDenyWriteExecute off because node dies under it', (ctx) => {
    // The kernel's own form of that rule (PR_SET_MDWE, Linux 6.3+; systemd 253+ uses it, 252 a seccomp filter with
    // the same effect): no mapping may become executable after it was writable, which V8's compiler needs.
    const underMdwe = (nodeArgs: string[]) =>
      spawnSync(
        'python3',
        [
          '-c',
          [
            'import ctypes, os, sys',
            'libc = ctypes.CDLL(None, use_errno=True)',
            'if libc.prctl(65, 1, 0, 0, 0) != 0: sys.exit(77)',
            'os.execv(sys.argv[1], sys.argv[1:])',
          ].join('\n'),
          process.execPath,
          ...nodeArgs,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
    const node = underMdwe(['-e', 'console.log("node ran")']);
    if (node.status === 77) ctx.skip('this kernel has no PR_SET_MDWE (Linux < 6.3)');
    expect(node.stdout).not.toContain('node ran');
    expect(node.signal ?? node.status).not.toBe(0);
    // The control: with the JIT off node runs, so the rule works and it is the JIT it stops.
    expect(underMdwe(['--jitless', '-e', 'console.log("node ran")']).stdout).toContain('node ran');
  });
});

describe('the environment file example', () => {
  const example = readFileSync(path.join(SYSTEMD, 'etcd-dashboard.env'), 'utf8');
  const documented = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

  it("is in systemd's KEY=value form and names only variables the README documents", () => {
    const lines = example.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^[A-Z_][A-Z0-9_]*=\S*$/);
    // Commented-out settings too: a misspelt one would be copied in and silently ignored.
    const keys = [...example.matchAll(/^#?([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? '');
    expect(keys.filter((k) => !documented.includes(`\`${k}\``))).toEqual([]);
  });

  it('points at the certificate copies the README installs', () => {
    const readme = readFileSync(path.join(SYSTEMD, 'README.md'), 'utf8');
    for (const key of ['ETCDCTL_CACERT', 'ETCDCTL_CERT', 'ETCDCTL_KEY']) {
      const file = new RegExp(`^${key}=(\\S+)$`, 'm').exec(example)?.[1];
      expect(file, key).toBeDefined();
      expect(readme).toContain(path.basename(file ?? ''));
      expect(path.dirname(file ?? '')).toBe('/etc/etcd-dashboard/pki');
    }
  });
});
