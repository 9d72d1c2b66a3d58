// Figure 6b: the history page in Chromium with an hour of history. The dashboard's store gets an hour of samples for
// three more members at the collector's rates (4 series every second, 6 every 5 s) while it runs against a real
// 3-member cluster; then /history?range=1h is loaded cold, in turn at the 400 points a member the charts ask for and at
// the 1,000 the API gave before (the request rewritten), until every chart has drawn its points.
// Run alone with `npx tsx --conditions=react-server bench/history-page.ts [--quick]`; bench/run.ts runs it too.
import path from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/support/chromium';
import { openDatabase } from '../lib/db/database';
import { CHART_MAX_POINTS } from '../lib/history/chart-model';
import { SampleStore, type SampleRow } from '../lib/history/sample-store';
import { EVERY_POLL, EVERY_SCRAPE } from './history-query';
import { withStack } from './lib/stack';
import { stackFigureMain } from './lib/stack-figure';
import { summarize, type Summary } from './lib/stats';

const VIEWPORT = { width: 1920, height: 1080 };
const HOUR = 3_600_000;
const SEEDED_MEMBERS = 3;
/** What the API gave every chart before the charts asked for fewer. */
const OLD_POINTS = 1000;

export interface HistoryPageResult {
  loads: number;
  viewport: typeof VIEWPORT;
  chromium: string;
  seededMembers: number;
  seededRows: number;
  charts: number;
  /** Navigation start until every chart shows its points, at CHART_MAX_POINTS and at OLD_POINTS. */
  drawnMs: Record<'current' | 'old', Summary>;
  points: Record<'current' | 'old', number>;
  /** Points drawn across all charts in the last load of each. */
  pointsDrawn: Record<'current' | 'old', number>;
}

function seed(dbFile: string, end: number): number {
  const db = openDatabase(dbFile);
  try {
    const store = new SampleStore(db);
    let rows = 0;
    for (let from = end - HOUR; from < end; from += 60_000) {
      const batch: SampleRow[] = [];
      for (let t = from; t < from + 60_000; t += 1000) {
        const s = Math.floor(t / 1000);
        for (let i = 0; i < SEEDED_MEMBERS; i++) {
          for (const series of [...EVERY_POLL, ...(s % 5 === 0 ? EVERY_SCRAPE : [])]) {
            const value = series.endsWith('_bytes')
              ? 50_000_000 + s
              : series === 'raft_index'
                ? s
                : ((s * (i + 3)) % 97) / 10;
            batch.push({
              clusterId: 'default',
              memberId: `5eed${i}`,
              memberName: `seeded-${i}`,
              series,
              at: t,
              value,
            });
          }
        }
      }
      store.insert(batch);
      rows += batch.length;
    }
    return rows;
  } finally {
    db.close();
  }
}

async function load(browser: Browser, url: string, points: number): Promise<{ ms: number; drawn: number }> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    if (points !== CHART_MAX_POINTS) {
      await page.route(/\/api\/clusters\/[^/]+\/history\?/, (route) =>
        route.continue({ url: route.request().url().replace(`points=${CHART_MAX_POINTS}`, `points=${points}`) }),
      );
    }
    await page.goto(url);
    const drawnAt = await page.waitForFunction(
      () => {
        const charts = [...document.querySelectorAll('[data-testid^="chart-"][data-points]')];
        const pending = charts.filter((c) => c.getAttribute('data-points') === '0');
        return charts.length >= 10 && pending.length === 0 ? performance.now() : null;
      },
      null,
      { timeout: 60_000, polling: 20 },
    );
    const drawn = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid^="chart-"][data-points]')].reduce(
        (n, c) => n + Number(c.getAttribute('data-points')),
        0,
      ),
    );
    return { ms: Math.round((await drawnAt.jsonValue()) as number), drawn };
  } finally {
    await context.close();
  }
}

export async function runHistoryPage(quick = false): Promise<HistoryPageResult> {
  const loads = quick ? 3 : 10;
  return withStack('history-page', async (stack) => {
    const dataDir = path.join(path.dirname(stack.dashboard.logFile), `data-${new URL(stack.dashboard.url).port}`);
    const seededRows = seed(path.join(dataDir, 'dashboard.sqlite'), Date.now());
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      const url = `${stack.dashboard.url}/history?cluster=default&range=1h`;
      await load(browser, url, CHART_MAX_POINTS); // unmeasured: the server's first render of the page
      const times: Record<'current' | 'old', number[]> = { current: [], old: [] };
      const drawn = { current: 0, old: 0 };
      // Alternated, so a slower minute of the machine falls on both.
      for (let i = 0; i < loads; i++) {
        for (const [key, points] of [
          ['current', CHART_MAX_POINTS],
          ['old', OLD_POINTS],
        ] as const) {
          const r = await load(browser, url, points);
          times[key].push(r.ms);
          drawn[key] = r.drawn;
        }
      }
      const current = summarize(times.current);
      const old = summarize(times.old);
      if (!current || !old) throw new Error('no loads measured');
      console.log(`history-page: p50 ${current.p50} ms at ${CHART_MAX_POINTS} points, ${old.p50} ms at ${OLD_POINTS}`);
      return {
        loads,
        viewport: VIEWPORT,
        chromium: browser.version(),
        seededMembers: SEEDED_MEMBERS,
        seededRows,
        charts: 10,
        drawnMs: { current, old },
        points: { current: CHART_MAX_POINTS, old: OLD_POINTS },
        pointsDrawn: drawn,
      };
    } finally {
      await browser.close();
    }
  });
}

if (require.main === module) {
  stackFigureMain('history-page', ({ quick }) => runHistoryPage(quick));
}
