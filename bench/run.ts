// `npm run bench`: measures every figure of issue 7, one after another, each in its own process, writes
// bench/results/<figure>.json (with the machine it ran on) and rewrites the generated sections of docs/performance.md.
// The numbers are a record, never a test assertion.
//
//   npm run bench                                  all figures, the issue's sizes (about 35 minutes on 2 cores)
//   npm run bench -- --only scale,page-load        some figures (names, or the figures' numbers 1–9)
//   npm run bench -- --quick                       small data and few trials, written to bench/results/tmp/
//   npm run bench -- --docs-only                   rewrite docs/performance.md from the last results
//
// The dashboards run from the production build in NEXT_DIST_DIR (default .next): build it first, e.g.
// `NEXT_DIST_DIR=.next-bench npx next build`, and run with the same NEXT_DIST_DIR.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildId, distDir, ROOT } from './lib/machine';
import { assertBuild } from './lib/stack';
import { FIGURE_NAMES, FIGURES, isFigureName, QUICK_RESULTS_DIR, RESULTS_DIR, type FigureName } from './lib/results';
import { writePerformanceDoc } from './report/performance-doc';

const DOC_FILE = path.join(ROOT, 'docs', 'performance.md');

function selectFigures(only: string[]): FigureName[] {
  if (only.length === 0) return FIGURE_NAMES;
  const wanted = new Set<FigureName>();
  for (const item of only
    .flatMap((o) => o.split(','))
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (isFigureName(item)) wanted.add(item);
    else if (/^[1-9]$/.test(item)) {
      for (const name of FIGURE_NAMES) if (FIGURES[name].issue === Number(item)) wanted.add(name);
    } else {
      throw new Error(`--only: "${item}" is not a figure; use ${FIGURE_NAMES.join(', ')} or the figures' numbers 1–9`);
    }
  }
  return FIGURE_NAMES.filter((n) => wanted.has(n));
}

let current: ChildProcess | null = null;
let interrupted = false;

/** Runs one figure's script in its own process (and process group, so a Ctrl-C reaches it once, from here). */
function runFigure(name: FigureName, outDir: string, quick: boolean): Promise<number | null> {
  return new Promise((resolve) => {
    const args = [
      '--import',
      'tsx',
      // Lets `server-only` load outside Next.js: the figures use the dashboard's own server modules.
      '--conditions=react-server',
      path.join(ROOT, FIGURES[name].script),
      '--out',
      outDir,
      ...(quick ? ['--quick'] : []),
    ];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'inherit', detached: true });
    current = child;
    child.on('exit', (code, signal) => {
      current = null;
      resolve(signal ? null : code);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true, default: [] },
      quick: { type: 'boolean', default: false },
      'docs-only': { type: 'boolean', default: false },
      results: { type: 'string' },
      doc: { type: 'string' },
    },
    allowPositionals: false,
  });
  const quick = values.quick ?? false;
  const resultsDir = path.resolve(values.results ?? (quick ? QUICK_RESULTS_DIR : RESULTS_DIR));
  // A quick run never rewrites the real document: it writes a copy beside its results.
  const docFile = path.resolve(values.doc ?? (quick ? path.join(resultsDir, 'performance.md') : DOC_FILE));
  if (quick && !existsSync(docFile) && existsSync(DOC_FILE)) {
    mkdirSync(path.dirname(docFile), { recursive: true });
    copyFileSync(DOC_FILE, docFile);
  }

  if (values['docs-only']) {
    await writePerformanceDoc(resultsDir, docFile);
    console.log(`bench: rewrote ${path.relative(ROOT, docFile)} from ${path.relative(ROOT, resultsDir)}`);
    return;
  }

  const figures = selectFigures(values.only ?? []);
  if (figures.some((f) => FIGURES[f].needsBuild)) assertBuild();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`\nbench: ${sig}: asking the running figure to stop what it started`);
      if (current?.pid !== undefined) process.kill(current.pid, 'SIGINT');
    });
  }
  console.log(
    `bench: ${figures.join(', ')}${quick ? ' (--quick)' : ''}; build ${buildId() ?? 'none'} in ${distDir()}; ` +
      `results to ${path.relative(ROOT, resultsDir)}`,
  );

  const failed: string[] = [];
  const took: string[] = [];
  for (const name of figures) {
    if (interrupted) break;
    console.log(`\nbench: ── ${name} (figure ${FIGURES[name].issue}: ${FIGURES[name].title}) ──`);
    const t0 = performance.now();
    const code = await runFigure(name, resultsDir, quick);
    took.push(`${name} ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    if (code !== 0) failed.push(name);
  }
  await writePerformanceDoc(resultsDir, docFile);
  console.log(`\nbench: ${took.join(', ')}`);
  console.log(`bench: rewrote ${path.relative(ROOT, docFile)} from ${path.relative(ROOT, resultsDir)}`);
  if (interrupted) process.exit(130);
  if (failed.length > 0) {
    console.error(`bench: failed: ${failed.join(', ')} (their earlier records, if any, are left as they were)`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
