// Debian packages fetched and unpacked without installing them: a private apt state (the machine's sources, lists
// and cache stay untouched), `apt-get download`, `dpkg-deb -x`. No maintainer script runs and no service starts.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runChecked } from './run-checked';

type Env = Readonly<Record<string, string | undefined>>;

const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** The URI of the machine's own Debian archive, from a deb822 .sources file or a one-line sources.list. */
export function debianMirrorFromSources(text: string): string | null {
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string): string[] =>
      stanza
        .split('\n')
        .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
        .flatMap((l) =>
          l
            .slice(name.length + 1)
            .trim()
            .split(/\s+/),
        );
    const suites = field('Suites');
    if (!field('Types').includes('deb') || suites.every((s) => s.endsWith('-security'))) continue;
    const uri = field('URIs')[0];
    if (uri !== undefined && uri !== '') return uri;
  }
  for (const l of text.split('\n').map((line) => line.trim())) {
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(l);
    if (m?.[1] !== undefined && !m[2]?.endsWith('-security')) return m[1];
  }
  return null;
}

export function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    const mirror = existsSync(file) ? debianMirrorFromSources(readFileSync(file, 'utf8')) : null;
    if (mirror !== null) return mirror;
  }
  throw new Error('no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list');
}

export function debianSourceLine(mirror: string, suite: string): string {
  return `deb [signed-by=${DEBIAN_KEYRING}] ${mirror} ${suite} main`;
}

/**
 * Downloads `packages` ("name=version") from `suite` of the machine's Debian mirror and unpacks them into `root`.
 * `notFound` turns apt's refusal into a message that says what the suite has instead (apt-cache policy's answer).
 */
export function unpackDebianPackages(opts: {
  suite: string;
  packages: string[];
  root: string;
  env: Env;
  notFound?: (policy: (pkg: string) => string) => string;
}): void {
  const { env } = opts;
  const work = mkdtempSync(path.join(os.tmpdir(), `debs-${opts.suite}-`));
  try {
    chmodSync(work, 0o755);
    const sourcesFile = path.join(work, 'sources.list');
    const aptOpts = [
      '-q',
      '-o',
      `Dir::Etc::sourcelist=${sourcesFile}`,
      '-o',
      'Dir::Etc::sourceparts=/dev/null',
      '-o',
      `Dir::State::Lists=${path.join(work, 'lists')}`,
      '-o',
      `Dir::Cache=${path.join(work, 'cache')}`,
    ];
    for (const dir of ['lists/partial', 'cache/archives/partial', 'debs']) {
      mkdirSync(path.join(work, dir), { recursive: true });
    }
    writeFileSync(sourcesFile, `${debianSourceLine(debianMirror(), opts.suite)}\n`);
    // As root, apt fetches as the _apt user: the folders must be its, or apt warns and fetches as root.
    if (process.getuid?.() === 0) runChecked('chown', ['-R', '_apt:root', work], work, env);
    runChecked('apt-get', [...aptOpts, 'update'], work, env);
    // apt-get download writes into the current folder as the _apt user.
    const debs = path.join(work, 'debs');
    try {
      runChecked('apt-get', [...aptOpts, 'download', ...opts.packages], debs, env);
    } catch (err) {
      if (!opts.notFound) throw err;
      const policy = (pkg: string) =>
        /Candidate: (\S+)/.exec(runChecked('apt-cache', [...aptOpts, 'policy', pkg], work, env))?.[1] ?? 'nothing';
      throw new Error(opts.notFound(policy), { cause: err });
    }
    mkdirSync(opts.root, { recursive: true });
    for (const deb of readdirSync(debs).filter((f) => f.endsWith('.deb'))) {
      runChecked('dpkg-deb', ['-x', deb, opts.root], debs, env);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
