// Figure 6b: the history page in Chromium with an hour of history. The dashboard's store gets an hour of samples for
// three more members at the collector's rates (4 series every second, 6 every 5 s) while it runs against a real
// 3-member cluster; then /history?range=1h is loaded cold until every chart has drawn its points, in turn with the
// peer: the same charts' data alone, asked of the API all at once by a bare client (what no page can beat).
// Run alone with `npx tsx --conditions=react-server bench/history-page.ts [--quick]`; bench/run.ts runs it too.
import path from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/support/chromium';
import { openDatabase } from '../lib/db/database';
import { sqliteStore } from '../lib/db/sqlite-store';
import { CHART_MAX_POINTS } from '../lib/history/chart-model';
import { HISTORY_CHARTS, OUTAGE_EVENT_TYPES } from '../lib/history/series';
import { eventsParams, historyParams, type HistoryWindow } from '../lib/history/history-params';
import { SampleStore, type SampleRow } from '../lib/history/sample-store';
import { EVERY_POLL, EVERY_SCRAPE } from './history-query';
import { withStack } from './lib/stack';
import { stackFigureMain } from './lib/stack-figure';
import { summarize, type Summary } from './lib/stats';

const VIEWPORT = { width: 1920, height: 1080 };
const HOUR = 3_600_000;
const SEEDED_MEMBERS = 3;

export interface HistoryPageResult {
  loads: number;
  viewport: typeof VIEWPORT;
  chromium: string;
  seededMembers: number;
  seededRows: number;
  charts: number;
  /** Navigation start until every chart shows its points. */
  drawnMs: Summary;
  /** The peer: the charts' history and event answers, asked of the API at once by Node's fetch, all bodies parsed. */
  apiMs: Summary;
  /** Requests in the peer: one per chart, and the leader changes and outages shaded on them. */
  apiRequests: number;
  points: number;
  /** Points drawn across all charts in the last load. */
  pointsDrawn: number;
}

async function seed(dbFile: string, end: number): Promise<number> {
  const db = openDatabase(dbFile);
  try {
    const store = new SampleStore(sqliteStore(db));
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
      await store.insert(batch);
      rows += batch.length;
    }
    return rows;
  } finally {
    db.close();
  }
}

async function load(browser: Browser, url: string): Promise<{ ms: number; drawn: number }> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    await page.goto(url);
    const drawnAt = await page.waitForFunction(
      () => {
        // The canvas sets data-lines when it has drawn; the points are in the server's HTML before that.
        const charts = [...document.querySelectorAll('[data-testid^="chart-"][data-points]')];
        const drawn = charts.filter((c) => c.querySelector('[data-testid="chart-canvas"][data-lines]'));
        return charts.length >= 10 && drawn.length === charts.length ? performance.now() : null;
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

/** The URLs of the data the charts draw, as the page asks for them. */
function chartDataUrls(base: string): string[] {
  const win: HistoryWindow = { clusterId: 'default', from: '-1h', to: 'now', live: true };
  const api = `${base}/api/clusters/default`;
  return [
    ...HISTORY_CHARTS.map((s) => `${api}/history?${historyParams(win, s)}`),
    ...[['leader_changed' as const], OUTAGE_EVENT_TYPES].map((t) => `${api}/events?${eventsParams(win, t)}`),
  ];
}

async function fetchAll(urls: string[]): Promise<number> {
  const start = performance.now();
  await Promise.all(
    urls.map(async (u) => {
      const res = await fetch(u);
      if (!res.ok) throw new Error(`${u}: HTTP ${res.status}`);
      await res.json();
    }),
  );
  return Math.round(performance.now() - start);
}

export async function runHistoryPage(quick = false): Promise<HistoryPageResult> {
  const loads = quick ? 3 : 10;
  return withStack('history-page', async (stack) => {
    const dataDir = path.join(path.dirname(stack.dashboard.logFile), `data-${new URL(stack.dashboard.url).port}`);
    const seededRows = await seed(path.join(dataDir, 'dashboard.sqlite'), Date.now());
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      const url = `${stack.dashboard.url}/history?cluster=default&range=1h`;
      const urls = chartDataUrls(stack.dashboard.url);
      // Unmeasured: the server's first render of the page and its first answers.
      await load(browser, url);
      await fetchAll(urls);
      const page: number[] = [];
      const api: number[] = [];
      let drawn = 0;
      // Alternated, so a slower minute of the machine falls on both.
      for (let i = 0; i < loads; i++) {
        const r = await load(browser, url);
        page.push(r.ms);
        drawn = r.drawn;
        api.push(await fetchAll(urls));
      }
      const drawnMs = summarize(page);
      const apiMs = summarize(api);
      if (!drawnMs || !apiMs) throw new Error('no loads measured');
      console.log(`history-page: p50 ${drawnMs.p50} ms until every chart is drawn; the API alone ${apiMs.p50} ms`);
      return {
        loads,
        viewport: VIEWPORT,
        chromium: browser.version(),
        seededMembers: SEEDED_MEMBERS,
        seededRows,
        charts: HISTORY_CHARTS.length,
        drawnMs,
        apiMs,
        apiRequests: urls.length,
        points: CHART_MAX_POINTS,
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
