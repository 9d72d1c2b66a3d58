// Figure 6: the production build in Chromium — time from navigation start until the quorum state is on screen, over
// cold loads (a new browser context each: empty cache, no cookies), and the JavaScript transferred, gzipped.
// Run alone with `npx tsx bench/page-load.ts [--quick]`; bench/run.ts runs it and writes the numbers to docs/.
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Response } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/support/chromium';
import { isAllHealthy, waitForStatus, withStack } from './lib/stack';
import { stackFigureMain } from './lib/stack-figure';
import { summarize, type Summary } from './lib/stats';

const VIEWPORT = { width: 1280, height: 800 };
/** After the load event, how long to keep counting scripts (Next.js fetches some after hydration). */
const SETTLE_MS = 2000;
const LOAD_TIMEOUT_MS = 30_000;

export interface ScriptFile {
  url: string;
  /** Body bytes as they came over the wire (Content-Encoding applied). */
  encodedBytes: number;
  decodedBytes: number;
  contentEncoding: string | null;
  /** encodedBytes when the server sent gzip; otherwise the body gzipped here with zlib (level 6). */
  gzipBytes: number;
}

export interface LoadSample {
  /** performance.now() in the page, i.e. ms since navigation start, when the quorum card first had a state. */
  quorumInDomMs: number;
  /**
   * When the state was on screen: the first contentful paint if the card was already in the page then (the server
   * renders it into the HTML, so that paint shows it), else the end of the frame after it appeared.
   */
  quorumOnScreenMs: number;
  onScreenBy: 'first-contentful-paint' | 'next-frame';
  /** The end of the first frame after the card appeared (a task posted from requestAnimationFrame). */
  nextFrameMs: number;
  quorumState: string;
  /** Whether the card's top edge was inside the viewport at that moment. */
  inViewport: boolean;
  firstContentfulPaintMs: number | null;
  responseStartMs: number;
  domContentLoadedMs: number;
  loadEventMs: number;
  scripts: ScriptFile[];
  htmlEncodedBytes: number;
}

export interface PageLoadResult {
  loads: number;
  viewport: typeof VIEWPORT;
  chromium: string;
  /** The one load right after the server started (its first render of the page), not in the figures below. */
  firstLoadAfterStart: Omit<LoadSample, 'scripts'>;
  quorumOnScreenMs: Summary;
  /** How many loads took quorumOnScreenMs from the first contentful paint, and how many from the next frame. */
  onScreenBy: Record<string, number>;
  quorumInDomMs: Summary;
  firstContentfulPaintMs: Summary | null;
  responseStartMs: Summary;
  loadEventMs: Summary;
  quorumStates: Record<string, number>;
  javascript: {
    requests: number;
    gzipBytes: number;
    encodedBytes: number;
    decodedBytes: number;
    /** Content-Encoding of the script responses, counted. */
    encodings: Record<string, number>;
    /** Scripts whose gzip size had to be computed because the server did not send gzip. */
    computedGzip: number;
    /** Every cold load fetched the same bytes of JavaScript. */
    sameEveryLoad: boolean;
    files: ScriptFile[];
  };
  htmlEncodedBytes: number;
}

// Runs in the page before any of its own scripts: records when the quorum card first carries a state, and when the
// next frame has been produced (requestAnimationFrame runs just before a frame; a task posted from it runs after).
const INIT_SCRIPT = `(() => {
  const rec = { domMs: null, paintMs: null, state: null, inViewport: null };
  window.__benchQuorum = rec;
  const check = () => {
    const el = document.querySelector('[data-testid="quorum-card"]');
    const state = el && el.getAttribute('data-state');
    if (!el || !state || state === 'no-data') return false;
    rec.domMs = performance.now();
    rec.state = state;
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        rec.paintMs = performance.now();
        rec.inViewport = el.getBoundingClientRect().top < window.innerHeight;
      };
      ch.port2.postMessage(null);
    });
    return true;
  };
  const obs = new MutationObserver(() => { if (check()) obs.disconnect(); });
  obs.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-state'] });
})();`;

interface InPage {
  domMs: number | null;
  paintMs: number | null;
  state: string | null;
  inViewport: boolean | null;
  fcp: number | null;
  responseStart: number;
  domContentLoaded: number;
  loadEvent: number;
}

async function scriptFile(res: Response): Promise<ScriptFile> {
  await res.finished();
  const sizes = await res.request().sizes();
  const headers = await res.allHeaders();
  const body = await res.body();
  const contentEncoding = headers['content-encoding'] ?? null;
  return {
    url: new URL(res.url()).pathname,
    encodedBytes: sizes.responseBodySize,
    decodedBytes: body.length,
    contentEncoding,
    gzipBytes: contentEncoding === 'gzip' ? sizes.responseBodySize : gzipSync(body, { level: 6 }).length,
  };
}

async function coldLoad(browser: Browser, url: string): Promise<LoadSample> {
  // Chromium asks for gzip, deflate, br and zstd; the figure the issue asks for is gzip.
  const context = await browser.newContext({ viewport: VIEWPORT, extraHTTPHeaders: { 'Accept-Encoding': 'gzip' } });
  try {
    await context.addInitScript(INIT_SCRIPT);
    const page = await context.newPage();
    const pending: Array<Promise<ScriptFile>> = [];
    let html: Promise<number> | null = null;
    page.on('response', (res) => {
      const type = res.request().resourceType();
      if (type === 'script') pending.push(scriptFile(res));
      if (type === 'document' && html === null)
        html = res
          .finished()
          .then(() => res.request().sizes())
          .then((s) => s.responseBodySize);
    });
    await page.goto(url, { waitUntil: 'load', timeout: LOAD_TIMEOUT_MS });
    await page.waitForFunction(
      () =>
        (window as unknown as { __benchQuorum?: { paintMs: number | null } }).__benchQuorum?.paintMs != null &&
        performance.getEntriesByName('first-contentful-paint').length > 0,
      undefined,
      { timeout: LOAD_TIMEOUT_MS },
    );
    await page.waitForTimeout(SETTLE_MS);
    const r = (await page.evaluate(() => {
      const q = (
        window as unknown as {
          __benchQuorum: { domMs: number; paintMs: number; state: string; inViewport: boolean };
        }
      ).__benchQuorum;
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      return {
        domMs: q.domMs,
        paintMs: q.paintMs,
        state: q.state,
        inViewport: q.inViewport,
        fcp: fcp ? fcp.startTime : null,
        responseStart: nav.responseStart,
        domContentLoaded: nav.domContentLoadedEventEnd,
        loadEvent: nav.loadEventEnd,
      };
    })) as InPage;
    if (r.domMs === null || r.paintMs === null || r.state === null) throw new Error('the quorum card never showed');
    const byFcp = r.fcp !== null && r.domMs <= r.fcp;
    return {
      quorumInDomMs: r.domMs,
      quorumOnScreenMs: byFcp && r.fcp !== null ? r.fcp : r.paintMs,
      onScreenBy: byFcp ? 'first-contentful-paint' : 'next-frame',
      nextFrameMs: r.paintMs,
      quorumState: r.state,
      inViewport: r.inViewport === true,
      firstContentfulPaintMs: r.fcp,
      responseStartMs: r.responseStart,
      domContentLoadedMs: r.domContentLoaded,
      loadEventMs: r.loadEvent,
      scripts: await Promise.all(pending),
      htmlEncodedBytes: (await (html ?? Promise.resolve(0))) as number,
    };
  } finally {
    await context.close();
  }
}

function must(s: Summary | null): Summary {
  if (!s) throw new Error('no samples');
  return s;
}

function log(line: string): void {
  console.log(`page-load: ${line}`);
}

/** 20 cold loads (the issue asks for at least 10); `quick` makes 10. */
export async function runPageLoad(quick = false): Promise<PageLoadResult> {
  const loads = quick ? 10 : 20;
  return withStack('page', async (stack) => {
    await waitForStatus(stack.statusUrl, (s) => isAllHealthy(s), 30_000, 'all members healthy');
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      const url = `${stack.dashboard.url}/`;
      const { scripts: _unused, ...first } = await coldLoad(browser, url);
      log(`first load after the server started: quorum on screen after ${Math.round(first.quorumOnScreenMs)} ms`);
      const samples: LoadSample[] = [];
      for (let i = 0; i < loads; i++) {
        const s = await coldLoad(browser, url);
        samples.push(s);
        log(
          `load ${i + 1} of ${loads}: quorum "${s.quorumState}" on screen after ${Math.round(s.quorumOnScreenMs)} ms ` +
            `(${s.onScreenBy}; in the DOM at ${Math.round(s.quorumInDomMs)} ms); ${s.scripts.length} scripts`,
        );
      }
      const files = samples[0]?.scripts ?? [];
      const total = (xs: ScriptFile[], k: 'gzipBytes' | 'encodedBytes' | 'decodedBytes') =>
        xs.reduce((sum, f) => sum + f[k], 0);
      const encodings: Record<string, number> = {};
      for (const f of files) encodings[f.contentEncoding ?? 'none'] = (encodings[f.contentEncoding ?? 'none'] ?? 0) + 1;
      const count = (pick: (s: LoadSample) => string) => {
        const out: Record<string, number> = {};
        for (const s of samples) out[pick(s)] = (out[pick(s)] ?? 0) + 1;
        return out;
      };
      const fcps = samples.map((s) => s.firstContentfulPaintMs).filter((x): x is number => x !== null);
      return {
        loads,
        viewport: VIEWPORT,
        chromium: browser.version(),
        firstLoadAfterStart: first,
        quorumOnScreenMs: must(summarize(samples.map((s) => s.quorumOnScreenMs))),
        onScreenBy: count((s) => s.onScreenBy),
        quorumInDomMs: must(summarize(samples.map((s) => s.quorumInDomMs))),
        firstContentfulPaintMs: summarize(fcps),
        responseStartMs: must(summarize(samples.map((s) => s.responseStartMs))),
        loadEventMs: must(summarize(samples.map((s) => s.loadEventMs))),
        quorumStates: count((s) => s.quorumState),
        javascript: {
          requests: files.length,
          gzipBytes: total(files, 'gzipBytes'),
          encodedBytes: total(files, 'encodedBytes'),
          decodedBytes: total(files, 'decodedBytes'),
          encodings,
          computedGzip: files.filter((f) => f.contentEncoding !== 'gzip').length,
          sameEveryLoad: samples.every((s) => total(s.scripts, 'gzipBytes') === total(files, 'gzipBytes')),
          files,
        },
        htmlEncodedBytes: samples[0]?.htmlEncodedBytes ?? 0,
      };
    } finally {
      await browser.close();
    }
  });
}

if (require.main === module) {
  stackFigureMain('page-load', ({ quick }) => runPageLoad(quick));
}
