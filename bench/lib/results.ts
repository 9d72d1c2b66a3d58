// The figures `npm run bench` measures, and the record each one leaves in bench/results/<name>.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, startMachineRecord, type MachineInfo } from './machine';

/**
 * In the order `npm run bench` runs them; `issue` is the figure's number (1–6 in issue 7; 7 is issue 15's rolling
 * defragment, 8 issue 16's restore test, 9 issue 18's fleet of replicas); `needsBuild` when the figure starts the
 * production dashboard.
 */
export const FIGURES = {
  'detect-time': { issue: 1, script: 'bench/detect-time.ts', title: 'Time to detect a dead member', needsBuild: true },
  'viewer-load': { issue: 2, script: 'bench/viewer-load.ts', title: 'Viewers and etcd load', needsBuild: true },
  'snapshot-throughput': {
    issue: 3,
    script: 'bench/snapshot-throughput.ts',
    title: 'Snapshot throughput and memory',
    needsBuild: true,
  },
  'snapshot-verify': {
    issue: 4,
    script: 'bench/snapshot-verify.ts',
    title: 'Snapshot verification',
    needsBuild: false,
  },
  scale: { issue: 5, script: 'bench/scale.ts', title: 'Ten clusters from one dashboard', needsBuild: true },
  history: { issue: 5, script: 'bench/history-query.ts', title: 'History queries', needsBuild: false },
  'page-load': { issue: 6, script: 'bench/page-load.ts', title: 'Page load in Chromium', needsBuild: true },
  'history-page': {
    issue: 6,
    script: 'bench/history-page.ts',
    title: 'History page in Chromium, an hour of samples',
    needsBuild: true,
  },
  defragment: {
    issue: 7,
    script: 'bench/defragment.ts',
    title: 'Rolling defragment against etcdctl (issue 15)',
    needsBuild: false,
  },
  'restore-test': {
    issue: 8,
    script: 'bench/restore-test.ts',
    title: 'Restore test against etcdutl by hand (issue 16)',
    needsBuild: false,
  },
  fleet: {
    issue: 9,
    script: 'bench/fleet.ts',
    title: 'A fleet: clusters sharded across replicas on PostgreSQL (issue 18)',
    needsBuild: true,
  },
} as const;

export type FigureName = keyof typeof FIGURES;
export const FIGURE_NAMES = Object.keys(FIGURES) as FigureName[];

export function isFigureName(s: string): s is FigureName {
  return Object.hasOwn(FIGURES, s);
}

export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
/** Where --quick runs write by default: git ignores it, so a trial run never replaces a record. */
export const QUICK_RESULTS_DIR = path.join(RESULTS_DIR, 'tmp');

export interface FigureRecord<T> {
  figure: FigureName;
  /** Measured with --quick (smaller data, fewer trials): for trying the benchmark out, not a record. */
  quick: boolean;
  machine: MachineInfo;
  result: T;
}

function resultsFile(dir: string, name: FigureName): string {
  return path.join(dir, `${name}.json`);
}

/** The figure's last record; null when there is none or it was written by an older benchmark without `figure`. */
export function readRecord<T>(dir: string, name: FigureName): FigureRecord<T> | null {
  try {
    const data = JSON.parse(readFileSync(resultsFile(dir, name), 'utf8')) as Partial<FigureRecord<T>>;
    if (data.figure !== name || !data.machine || data.result === undefined) return null;
    return data as FigureRecord<T>;
  } catch {
    return null;
  }
}

export interface FigureOptions {
  quick: boolean;
}

/**
 * The command line of one figure's script: `[--quick] [--out <dir>]`. Runs the figure, writes its record to
 * <dir>/<name>.json (bench/results, or bench/results/tmp with --quick) and prints where.
 */
export function figureMain<T>(name: FigureName, run: (opts: FigureOptions) => Promise<T>): void {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, out: { type: 'string' } },
    allowPositionals: false,
  });
  const quick = values.quick ?? false;
  const dir = path.resolve(values.out ?? (quick ? QUICK_RESULTS_DIR : RESULTS_DIR));
  const finishMachine = startMachineRecord();
  run({ quick })
    .then((result) => {
      const record: FigureRecord<T> = { figure: name, quick, machine: finishMachine(), result };
      mkdirSync(dir, { recursive: true });
      const file = resultsFile(dir, name);
      writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
      console.log(`${name}: wrote ${path.relative(ROOT, file)}`);
      // Handles that libraries leave open (gRPC channels, keep-alive sockets) must not keep the figure running.
      process.exit(0);
    })
    .catch((err: unknown) => {
      console.error(`${name}: failed:`, err);
      process.exit(1);
    });
}
