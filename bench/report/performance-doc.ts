// docs/performance.md: the sections `npm run bench` writes between markers, from bench/results/*.json. Everything
// outside the markers (the introduction, background on earlier changes) is kept as written by hand.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import type { FleetResult } from '../fleet';
import { FIGURE_NAMES, readRecord, type FigureName, type FigureRecord } from '../lib/results';
import { defragmentSection } from './defragment';
import { fleetSection } from './fleet';
import { detectSection, viewersSection } from './live-view';
import { historyPageSection, pageLoadSection } from './page-load';
import { restoreTestSection } from './restore-test';
import { historySection, scaleSection } from './scale';
import { snapshotThroughputSection, snapshotVerifySection } from './snapshots';
import { summarySection, type Records } from './summary';

type SectionId = 'summary' | FigureName;

/** Every figure's record; the summary's table (bench/report/summary.ts) does not list the fleet figure yet. */
type AllRecords = Records & { fleet: FigureRecord<FleetResult> | null };

/** In the order they appear in the file. */
const SECTIONS: Array<{ id: SectionId; render: (r: AllRecords) => string }> = [
  { id: 'summary', render: (r) => summarySection('## Summary', r) },
  { id: 'detect-time', render: (r) => detectSection('## 1. Time to detect a dead member', r['detect-time']) },
  { id: 'viewer-load', render: (r) => viewersSection('## 2. Viewers and etcd load', r['viewer-load']) },
  {
    id: 'snapshot-throughput',
    render: (r) => snapshotThroughputSection('## 3. Snapshots: throughput and memory', r['snapshot-throughput']),
  },
  {
    id: 'snapshot-verify',
    render: (r) => snapshotVerifySection('## 4. Snapshot verification', r['snapshot-verify']),
  },
  { id: 'scale', render: (r) => scaleSection('## 5. Ten clusters from one dashboard', r.scale) },
  { id: 'history', render: (r) => historySection('### History queries', r.history) },
  { id: 'page-load', render: (r) => pageLoadSection('## 6. Page load in Chromium', r['page-load']) },
  {
    id: 'history-page',
    render: (r) => historyPageSection('### History page with an hour of samples', r['history-page']),
  },
  {
    id: 'defragment',
    render: (r) => defragmentSection('## 7. Rolling defragment against etcdctl by hand (issue 15)', r.defragment),
  },
  {
    id: 'restore-test',
    render: (r) =>
      restoreTestSection('## 8. Restore test against `etcdutl snapshot restore` by hand (issue 16)', r['restore-test']),
  },
  {
    id: 'fleet',
    render: (r) => fleetSection('## 9. A fleet: clusters sharded across replicas on PostgreSQL (issue 18)', r.fleet),
  },
];

const begin = (id: SectionId) =>
  `<!-- bench:${id} begin (written by \`npm run bench\` from bench/results; edits inside are overwritten) -->`;
const end = (id: SectionId) => `<!-- bench:${id} end -->`;

function loadRecords(resultsDir: string): AllRecords {
  return Object.fromEntries(FIGURE_NAMES.map((name) => [name, readRecord(resultsDir, name)])) as unknown as AllRecords;
}

/** The templates are wrapped for reading in the source; in the file each paragraph becomes one line. */
function unwrapParagraphs(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((block) => (/^(\||#|<!--)/.test(block) ? block : block.replace(/\n/g, ' ')))
    .join('\n\n');
}

/** Replaces every section between its markers; a section without markers goes after the one before it. */
function renderDoc(old: string | null, records: AllRecords): string {
  let text = old ?? '# Performance\n';
  let previousEnd: string | null = null;
  for (const s of SECTIONS) {
    const block = `${begin(s.id)}\n\n${unwrapParagraphs(s.render(records))}\n\n${end(s.id)}`;
    const a = text.indexOf(`<!-- bench:${s.id} begin`);
    const b = text.indexOf(end(s.id));
    if (a >= 0 && b > a) {
      text = text.slice(0, a) + block + text.slice(b + end(s.id).length);
    } else {
      const at = previousEnd === null ? -1 : text.indexOf(previousEnd);
      text =
        at >= 0
          ? `${text.slice(0, at + (previousEnd ?? '').length)}\n\n${block}${text.slice(at + (previousEnd ?? '').length)}`
          : `${text.trimEnd()}\n\n${block}\n`;
    }
    previousEnd = end(s.id);
  }
  return text;
}

/** Rewrites the generated sections of `docFile` from the records in `resultsDir`, formatted as `npm run format` would. */
export async function writePerformanceDoc(resultsDir: string, docFile: string): Promise<void> {
  const old = existsSync(docFile) ? readFileSync(docFile, 'utf8') : null;
  const next = renderDoc(old, loadRecords(resultsDir));
  mkdirSync(path.dirname(docFile), { recursive: true });
  const options = (await prettier.resolveConfig(docFile)) ?? {};
  writeFileSync(docFile, await prettier.format(next, { ...options, filepath: docFile }));
}
