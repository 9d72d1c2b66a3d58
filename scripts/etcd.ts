// Command line for the etcd versions the project supports: list them, find their binaries, fetch or build them.
import { parseArgs } from 'node:util';
import {
  ETCD_LINES,
  ETCD_RELEASES,
  ensureEtcd,
  etcdBinaries,
  etcdCacheDir,
  parseEtcdLine,
  selectedEtcdLine,
  type EtcdBinaries,
  type EtcdLine,
} from './lib/etcd-versions';

const usage = `usage: npm run etcd -- <command> [line|all] [--json]

commands:
  list           every supported version, its source, whether it is here, and the one chosen by default
  ensure [LINE]  fetch or build what is missing (3.6 and 3.7 build with Go: minutes the first time)
  which [LINE]   print the binaries' paths; exit 1 when they are not here
  default        print the line chosen when none is given (for scripts)
  lines          print every supported line, one a line (for scripts)

LINE is 3.4, 3.5, 3.6, 3.7 or all; without it, ETCD_DASHBOARD_ETCD_VERSION or else the newest this machine can get.
Binaries live in ${etcdCacheDir()}/<version>/ (ETCD_DASHBOARD_CACHE moves it); 3.4 is Debian's /usr/bin.`;

function linesFrom(arg: string | undefined): EtcdLine[] {
  if (arg === undefined) return [selectedEtcdLine()];
  if (arg === 'all') return [...ETCD_LINES];
  const line = parseEtcdLine(arg);
  if (line === null) throw new Error(`unknown etcd line "${arg}": one of ${ETCD_LINES.join(', ')}, all`);
  return [line];
}

function describe(line: EtcdLine, binaries: EtcdBinaries | null): string {
  const { version, source, endOfLife } = ETCD_RELEASES[line];
  const head = `${line}  ${version}  ${source}${endOfLife ? '  (end of life)' : ''}`;
  if (binaries === null) return `${head}\n  not here: npm run etcd -- ensure ${line}`;
  return [
    head,
    `  etcd     ${binaries.etcd}`,
    `  etcdctl  ${binaries.etcdctl}`,
    `  etcdutl  ${binaries.etcdutl ?? '-'}`,
  ].join('\n');
}

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  const [command, arg] = positionals;
  if (values.help || command === undefined) {
    console.log(usage);
    return command === undefined && !values.help ? 2 : 0;
  }

  if (command === 'default') {
    console.log(selectedEtcdLine());
    return 0;
  }
  if (command === 'lines') {
    console.log(ETCD_LINES.join('\n'));
    return 0;
  }

  if (command === 'list') {
    const chosen = selectedEtcdLine();
    for (const line of ETCD_LINES) {
      const { version, source, endOfLife } = ETCD_RELEASES[line];
      const here = etcdBinaries(line) !== null ? 'here' : 'missing';
      const notes = [endOfLife ? 'end of life' : '', line === chosen ? 'default' : ''].filter(Boolean).join(', ');
      console.log(`${line}  ${version.padEnd(7)}  ${source.padEnd(8)}  ${here.padEnd(7)}  ${notes}`.trimEnd());
    }
    return 0;
  }

  if (command === 'ensure' || command === 'which') {
    const lines = linesFrom(arg);
    const found = lines.map((line) => ({
      line,
      binaries: command === 'ensure' ? ensureEtcd(line) : etcdBinaries(line),
    }));
    if (values.json) {
      console.log(JSON.stringify(Object.fromEntries(found.map(({ line, binaries }) => [line, binaries])), null, 2));
    } else {
      console.log(found.map(({ line, binaries }) => describe(line, binaries)).join('\n'));
    }
    return found.every(({ binaries }) => binaries !== null) ? 0 : 1;
  }

  console.error(`unknown command "${command}"\n\n${usage}`);
  return 2;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`etcd: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
