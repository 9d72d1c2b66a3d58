// docs/performance.md, figure 6: the overview page in Chromium, cold.
import type { FigureRecord } from '../lib/results';
import type { HistoryPageResult } from '../history-page';
import type { PageLoadResult } from '../page-load';
import { kib, measuredOn, ms, notMeasured } from './format';

export function pageLoadSection(heading: string, rec: FigureRecord<PageLoadResult> | null): string {
  if (!rec) return notMeasured(heading, 'page-load');
  const r = rec.result;
  const js = r.javascript;
  const row = (what: string, s: { p50: number; p99: number; min: number; max: number } | null) =>
    `| ${what} | ${ms(s?.p50)} | ${ms(s?.p99)} | ${ms(s?.min)} | ${ms(s?.max)} |`;
  const byFcp = r.onScreenBy['first-contentful-paint'] ?? 0;
  const states = Object.entries(r.quorumStates)
    .map(([s, n]) => `"${s}" in ${n}`)
    .join(', ');
  const encodings = Object.entries(js.encodings)
    .map(([e, n]) => `${n} ${e}`)
    .join(', ');
  return `${heading}

${measuredOn(rec, 'npm run bench -- --only page-load')} Chromium ${r.chromium} (Debian's, headless) driven by
Playwright's library API against the production build (build ${rec.machine.build.buildId ?? 'unknown'} in
${rec.machine.build.distDir}) with anonymous viewing, over a real 3-member mTLS cluster; raw values, every script
included, in bench/results/page-load.json.

${r.loads} cold loads of \`/\`, each in a new browser context (empty cache, no cookies), ${r.viewport.width}×${r.viewport.height}, after one
unmeasured load that was the server's first render of the page (quorum on screen after
${ms(r.firstLoadAfterStart.quorumOnScreenMs)}). Times are in the page's own clock, from navigation start.

| from navigation start | p50 | p99 † | min | max |
| --- | --- | --- | --- | --- |
${row('**quorum state on screen**', r.quorumOnScreenMs)}
${row('quorum card in the page (DOM)', r.quorumInDomMs)}
${row('first contentful paint', r.firstContentfulPaintMs)}
${row('first byte of the HTML', r.responseStartMs)}
${row('load event', r.loadEventMs)}

† nearest rank: with ${r.loads} loads, p99 is the slowest.

**What "on screen" means.** A script added before the page's own watches for the quorum card
(\`data-testid="quorum-card"\`, components/quorum-card.tsx) to carry a state. The server renders the latest poll into the
HTML, so the card is in the page before anything is painted; its state is on screen with the first contentful paint,
which is the figure taken then (${byFcp} of ${r.loads} loads). Had the card appeared after that paint, the end of the next frame
would have been taken instead (${r.loads - byFcp} loads). The state shown was ${states}.

**JavaScript transferred: ${kib(js.gzipBytes)} gzipped** in ${js.requests} script files (${kib(js.decodedBytes)} uncompressed),
the HTML itself ${kib(r.htmlEncodedBytes)}. Next.js compresses responses itself (\`compress\` is on by default, and the custom
server in server/server.mjs passes every page and script request to Next's handler); it offers gzip but not Brotli, and the browser was
told to accept gzip only. Script responses by Content-Encoding: ${encodings}${js.computedGzip ? `; ${js.computedGzip} came uncompressed and were gzipped here (zlib, level 6) to count them` : ''}.
The figure is the sum of the encoded body sizes Chromium received for every script response from navigation until
2 s after the load event${js.sameEveryLoad ? ', and it was the same in every load' : '; it varied between loads (see the JSON)'}.`;
}

export function historyPageSection(heading: string, rec: FigureRecord<HistoryPageResult> | null): string {
  if (!rec) return notMeasured(heading, 'history-page');
  const r = rec.result;
  const row = (what: string, s: { p50: number; p99: number; min: number; max: number }) =>
    `| ${what} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.min)} | ${ms(s.max)} |`;
  return `${heading}

${measuredOn(rec, 'npm run bench -- --only history-page')} Chromium ${r.chromium} (Debian's, headless), ${r.viewport.width}×${r.viewport.height}.
The dashboard runs against a real 3-member cluster; its store is given an hour of samples for ${r.seededMembers} more
members at the collector's rates (${r.seededRows.toLocaleString('en')} rows), so \`/history?range=1h\` draws ${r.charts} charts of six members.
${r.loads} cold page loads, each followed by the peer, after one unmeasured round. The page: from navigation start until
every chart shows its points (${r.points} a member at most), in the page's own clock. The server renders the charts' data
into the page, and the charts draw on a canvas (uPlot). The peer: the same ${r.apiRequests} answers the charts draw (one
history query per chart, the leader changes and the outages), asked of the API at once by Node's fetch on the same
machine, until every body is parsed: the data alone, with no page, no scripts and no drawing.

| | p50 | p99 † | min | max |
| --- | --- | --- | --- | --- |
${row('the page: every chart drawn', r.drawnMs)}
${row(`the peer: ${r.apiRequests} API answers alone`, r.apiMs)}

† nearest rank: with fewer than 100 loads, the slowest. Points drawn in the last load: ${r.pointsDrawn.toLocaleString('en')}.

**Before (2026-12-07 02:18, the same page in the bench's earlier form):** p50 3743 ms, p99 4021 ms, when the charts were
SVG (Recharts) and asked for their data after the page's scripts had run. A Chromium profile of one load then: the
answers arrived about 1.6 s after navigation, and drawing ten SVG charts took the next 2 s.`;
}
