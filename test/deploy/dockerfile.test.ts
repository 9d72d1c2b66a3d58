// The container image's promises, checked without a Docker engine: the Dockerfile passes hadolint, its bases are
// pinned, it runs as a numeric non-root user, copies exactly what `npm run build:standalone` produces, and its health
// check really asks /readyz. (The lead's standalone test runs those files; no image is built or run here.)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHadolint, runHadolint } from '../support/hadolint';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCKERFILE = path.join(ROOT, 'Dockerfile');
const STANDALONE = path.join(ROOT, 'dist', 'standalone');

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Docker's reading of a Dockerfile, as far as these checks need: continuations joined, comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { text: string; line: number } | null = null;
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && pending === null)) return;
    const continued = trimmed.endsWith('\\');
    const piece = continued ? trimmed.slice(0, -1).trimEnd() : trimmed;
    pending = pending === null ? { text: piece, line: i + 1 } : { ...pending, text: `${pending.text} ${piece}` };
    if (continued) return;
    const m = /^(\S+)\s*(.*)$/s.exec(pending.text);
    if (m?.[1] !== undefined) out.push({ keyword: m[1].toUpperCase(), args: (m[2] ?? '').trim(), line: pending.line });
    pending = null;
  });
  return out;
}

/** `--name=value` flags in front of an instruction's arguments, and what follows them. */
function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let m = /^--([a-z-]+)=(\S+)\s+/.exec(rest); m !== null; m = /^--([a-z-]+)=(\S+)\s+/.exec(rest)) {
    flags[m[1] ?? ''] = m[2] ?? '';
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** ENV in both its forms (`K=v K2=v2` and the legacy `K v`), later values winning. */
function envOf(stage: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of stage.filter((i) => i.keyword === 'ENV')) {
    const pairs = args.match(/[A-Za-z_][A-Za-z0-9_]*=("[^"]*"|\S*)/g);
    if (pairs === null) {
      const [key, ...value] = args.split(/\s+/);
      if (key !== undefined) env[key] = value.join(' ');
      continue;
    }
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

const instructions = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const stageStarts = instructions.flatMap((i, n) => (i.keyword === 'FROM' ? [n] : []));
const stages = stageStarts.map((start, k) => instructions.slice(start, stageStarts[k + 1]));
const runtime = stages.at(-1) ?? [];
const only = (stage: Instruction[], keyword: string): Instruction[] => stage.filter((i) => i.keyword === keyword);
const last = (stage: Instruction[], keyword: string): string => only(stage, keyword).at(-1)?.args ?? '';

describe('Dockerfile: hadolint', () => {
  let hadolint: string;
  let scratch: string;

  beforeAll(() => {
    hadolint = ensureHadolint();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'dockerfile-test-'));
  }, 180_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('passes with no finding at any level (error, warning, info or style)', () => {
    const run = runHadolint(hadolint, DOCKERFILE, ROOT);
    expect(run.findings.map((f) => `line ${f.line}: ${f.code} ${f.message}`)).toEqual([]);
    expect(run.status).toBe(0);
  });

  it('fails a Dockerfile with a floating tag, unpinned apt packages and root at the end, naming each rule', () => {
    const bad = path.join(scratch, 'Dockerfile');
    writeFileSync(
      bad,
      ['FROM node:latest', 'RUN apt-get update && apt-get install -y curl', 'USER root', 'CMD node server.js', ''].join(
        '\n',
      ),
    );
    const run = runHadolint(hadolint, bad, ROOT);
    expect(run.status).not.toBe(0);
    const codes = run.findings.map((f) => f.code);
    // DL3007 `latest`, DL3008 apt-get without versions, DL3002 last USER is root, DL3025 CMD not in JSON form.
    expect(codes).toEqual(expect.arrayContaining(['DL3007', 'DL3008', 'DL3002', 'DL3025']));
  });
});

describe('Dockerfile: what the image promises', () => {
  it('builds and runs on the same exact Node.js release and Debian bookworm, pinned by version tag', () => {
    const froms = stages.map((s) => splitFlags(s[0]?.args ?? '').rest.split(/\s+/)[0] ?? '');
    expect(froms).toHaveLength(2);
    const tags = froms.map((image) =>
      /^node:(\d+)\.(\d+)\.(\d+)-(bookworm(?:-slim)?)(?:@sha256:[0-9a-f]{64})?$/.exec(image),
    );
    expect(
      tags.every((m) => m !== null),
      `every base must be node:X.Y.Z-bookworm[-slim]: ${froms.join(', ')}`,
    ).toBe(true);
    const [build, run] = tags;
    // The better-sqlite3 addon is compiled for the build stage's Node ABI and glibc: the runtime must match both.
    expect(run?.slice(1, 4)).toEqual(build?.slice(1, 4));
    expect([build?.[4], run?.[4]]).toEqual(['bookworm', 'bookworm-slim']);
    const [major, minor] = [Number(run?.[1]), Number(run?.[2])];
    const engines = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } })
      .engines.node;
    const [, wantMajor, wantMinor] = /^>=(\d+)\.(\d+)/.exec(engines) ?? [];
    expect(major > Number(wantMajor) || (major === Number(wantMajor) && minor >= Number(wantMinor))).toBe(true);
  });

  it('runs as a numeric non-root user from /app, with DATA_DIR a volume that user owns', () => {
    const user = last(runtime, 'USER');
    expect(user).toMatch(/^\d+:\d+$/);
    const [uid, gid] = user.split(':').map(Number);
    expect(uid).toBe(65532);
    expect(gid).toBe(65532);
    expect(last(runtime, 'WORKDIR')).toBe('/app');

    const env = envOf(runtime);
    expect(env).toMatchObject({
      NODE_ENV: 'production',
      HOSTNAME: '0.0.0.0',
      PORT: '3000',
      DATA_DIR: '/var/lib/etcd-dashboard',
      NEXT_TELEMETRY_DISABLED: '1',
    });
    expect(JSON.parse(last(runtime, 'VOLUME'))).toEqual([env.DATA_DIR]);
    expect(last(runtime, 'EXPOSE')).toBe(env.PORT);
    // Made before VOLUME, owned by the runtime user and private: a new named volume starts with that owner and mode.
    const makesDataDir = only(runtime, 'RUN').some((r) =>
      r.args.includes(`install -d -o ${uid} -g ${gid} -m 0700 ${env.DATA_DIR}`),
    );
    expect(makesDataDir).toBe(true);
  });

  it('copies every top-level entry of dist/standalone, root-owned, and nothing else', () => {
    const buildDir = last(stages[0] ?? [], 'WORKDIR');
    const copies = only(runtime, 'COPY').map((c) => {
      const { flags, rest } = splitFlags(c.args);
      const [source = '', dest = ''] = rest.split(/\s+/);
      return { flags, source, dest };
    });
    expect(copies.length).toBeGreaterThan(0);
    for (const { flags, source, dest } of copies) {
      // Not writable by uid 65532, so nothing changes even where the root filesystem is not mounted read-only.
      expect(flags).toEqual({ from: 'build', chown: 'root:root' });
      expect(source.startsWith(`${buildDir}/dist/standalone/`), source).toBe(true);
      expect(dest).toBe(`./${path.posix.relative(`${buildDir}/dist/standalone`, source)}`);
    }
    const copied = copies.map((c) => path.posix.relative(`${buildDir}/dist/standalone`, c.source)).sort();
    expect(copied).toEqual(standaloneEntries().sort());
  }, 900_000);

  it('starts `node server/server.mjs`, which stops on the STOPSIGNAL', () => {
    expect(JSON.parse(last(runtime, 'CMD'))).toEqual(['node', 'server/server.mjs']);
    expect(last(runtime, 'STOPSIGNAL')).toBe('SIGTERM');
    expect(readFileSync(path.join(ROOT, 'server', 'server.mjs'), 'utf8')).toContain("process.on('SIGTERM'");
  });

  it('labels the image with its title, source and the licence package.json declares', () => {
    const labels = only(runtime, 'LABEL')
      .map((l) => l.args)
      .join(' ');
    const value = (key: string) => new RegExp(`${key.replaceAll('.', '\\.')}="([^"]*)"`).exec(labels)?.[1];
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; license: string };
    expect(value('org.opencontainers.image.licenses')).toBe(pkg.license);
    expect(value('org.opencontainers.image.title')).toBe(pkg.name);
    // The repository's address comes from the build (--build-arg SOURCE_URL=…), declared in the runtime stage.
    expect(value('org.opencontainers.image.source')).toBe(`\${SOURCE_URL}`);
    expect(only(runtime, 'ARG').map((a) => a.args.split('=')[0])).toContain('SOURCE_URL');
  });
});

describe('Dockerfile: the HEALTHCHECK', () => {
  const healthcheck = last(runtime, 'HEALTHCHECK');
  const argv = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim()) as string[];
  let server: Server;
  let port: number;
  let answer = 200;
  const asked: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(answer, { 'Content-Type': 'application/json' }).end('{"ready":false,"checks":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** The image's command as Docker runs it: node from PATH (here this node), with the image's PORT; its exit code. */
  function check(atPort: number): Promise<number | null> {
    const [command, ...args] = argv;
    expect(command).toBe('node');
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, {
        env: { NODE_ENV: 'production', PORT: String(atPort) },
        stdio: 'ignore',
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  it('uses node, no curl, within an interval, timeout and start period', () => {
    expect(healthcheck).toMatch(/^--interval=\d+s --timeout=\d+s --start-period=\d+s --retries=\d+ CMD \[/);
    expect(argv.join(' ')).not.toMatch(/curl|wget/);
  });

  it('passes while /readyz answers 200, fails on 503 and when nothing listens', async () => {
    answer = 200;
    expect(await check(port)).toBe(0);
    answer = 503;
    expect(await check(port)).toBe(1);
    expect(asked).toEqual(['/readyz', '/readyz']);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await check(freePort)).toBe(1);
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('sends every file the build reads', () => {
    const tracked = spawnSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\n');
    const sources =
      /^(app|components|lib|public|server)\/|^(package(-lock)?\.json|next\.config\.js|tsconfig\.json|postcss\.config\.mjs|proxy\.ts|instrumentation\.ts)$/;
    const needed = [
      ...tracked.filter((f) => sources.test(f) && !/\.test\.tsx?$/.test(f)),
      'scripts/build-standalone.ts',
    ];
    expect(needed.length).toBeGreaterThan(50);
    expect(needed.filter((f) => dockerIgnores(f, patterns))).toEqual([]);
  });

  it('leaves out installed modules, builds, local data and the repository', () => {
    const local = [
      'node_modules/next/package.json',
      'lib/node_modules/x.js',
      '.next/BUILD_ID',
      '.next-drills/BUILD_ID',
      'dist/standalone/server/server.mjs',
      'data/dashboard.sqlite',
      '.cluster/pki/ca.key',
      '.git/HEAD',
      'lib/db/database.test.ts',
    ];
    expect(local.filter((f) => !dockerIgnores(f, patterns))).toEqual([]);
  });
});

/** Docker's rule: the last pattern matching the path or one of its parent folders decides; `!` sends it again. */
function dockerIgnores(file: string, patterns: string[]): boolean {
  const parts = file.split('/');
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const glob = path.posix.normalize((negated ? raw.slice(1) : raw).replace(/^\/+/, ''));
    const re = new RegExp(
      `^${glob
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((t) =>
          t === '**/'
            ? '(?:.*/)?'
            : t === '**'
              ? '.*'
              : t === '*'
                ? '[^/]*'
                : t === '?'
                  ? '[^/]'
                  : t.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
        )
        .join('')}$`,
    );
    if (parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')))) ignored = !negated;
  }
  return ignored;
}

/** The top of dist/standalone, built first (as the Dockerfile's build stage does) when no earlier step has. */
function standaloneEntries(): string[] {
  if (!existsSync(path.join(STANDALONE, 'server', 'server.mjs'))) {
    const build = spawnSync('npm', ['run', 'build:standalone'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build:standalone failed:\n${build.stdout}\n${build.stderr}`);
  }
  return readdirSync(STANDALONE);
}
