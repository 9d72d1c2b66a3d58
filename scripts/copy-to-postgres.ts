// `npm run db:copy-to-postgres -- --from <dashboard.sqlite> --to <postgres://…>` (or DATABASE_URL): moves a dashboard's
// SQLite database into PostgreSQL, checked row for row. Exit 0 only when every row is verified.
import { copyToPostgres, type CopyProgress } from '../lib/db/copy-store';
import { redactUrl } from '../lib/db/redact-url';

const USAGE =
  'usage: npm run db:copy-to-postgres -- --from <dashboard.sqlite> [--to <postgres://user:password@host:port/db>] (the URL may come from DATABASE_URL)';
/** How often a long table says how far it is. */
const PROGRESS_EVERY_MS = 2000;

function parseArgs(argv: string[]): { from: string; to: string } | string {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    if (name !== '--from' && name !== '--to') return `unknown argument ${name === arg ? arg : name}`;
    const value = inline ?? argv[++i];
    if (!value) return `${name} needs a value`;
    given.set(name, value);
  }
  const from = given.get('--from');
  const to = given.get('--to') ?? process.env.DATABASE_URL;
  if (!from) return '--from is missing';
  if (!to) return '--to is missing and DATABASE_URL is not set';
  return { from, to };
}

/** Every line out of here goes through this: the password, wherever it shows up, is masked. */
function secretFree(text: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // Not a URL: redactUrl says so, and there is no password to find.
  }
  return password ? text.split(password).join('***') : text;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    console.error(`copy-to-postgres: ${args}\n${USAGE}`);
    return 2;
  }
  const say = (line: string) => console.log(secretFree(line, args.to));
  let lastProgress = Date.now();
  const onProgress = (p: CopyProgress) => {
    const now = Date.now();
    if (now - lastProgress < PROGRESS_EVERY_MS || p.rows === p.total) return;
    lastProgress = now;
    process.stderr.write(
      `copy-to-postgres: ${p.table}: ${p.rows} of ${p.total} rows ${p.phase === 'copy' ? 'copied' : 'verified'}\n`,
    );
  };
  try {
    const target = redactUrl(args.to);
    say(`copying ${args.from} into ${target}`);
    const result = await copyToPostgres({ from: args.from, to: args.to, onProgress });
    const width = Math.max(...result.tables.map((t) => t.table.length));
    for (const t of result.tables) {
      say(
        `  ${t.table.padEnd(width)}  ${String(t.rows).padStart(10)} rows ${result.alreadyThere ? 'already there' : 'copied'}, verified`,
      );
    }
    const rows = result.tables.reduce((sum, t) => sum + t.rows, 0);
    say(
      result.alreadyThere
        ? `verified: ${target} already holds every row of ${args.from} (${result.tables.length} tables, ${rows} rows); nothing copied`
        : `copied and verified: ${result.tables.length} tables, ${rows} rows from ${args.from} into ${target}`,
    );
    return 0;
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    console.error(secretFree(`copy-to-postgres: ${message}`, args.to));
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  () => process.exit(1),
);
