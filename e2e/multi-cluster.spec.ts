// Several clusters from an ETCD_DASHBOARD_CONFIG file: a switcher, a warning for a single-member cluster,
// and a layout that works on a phone and on a 1080p screen.
import { expect, test, type Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { LocalCluster } from '../scripts/lib/local-cluster';
import { startDashboard, type DashboardProcess } from '../scripts/lib/dashboard-process';
import { writeDashboardConfig } from './support/config-file';
import { overflowingElements, spilledText } from './support/layout';
import { E2E_CLUSTER_DIR, E2E_ROOT } from './support/e2e-env';

const PORT = 3193;
let single: LocalCluster;
let dashboard: DashboardProcess;

test.beforeAll(async () => {
  // A worker restarted after a failure runs beforeAll again: the previous one's cluster must go first.
  const dir = path.join(E2E_ROOT, 'single');
  if (existsSync(LocalCluster.statePath(dir))) await LocalCluster.load(dir).destroy();
  single = LocalCluster.create({ dir, members: 1, basePort: 24350, name: 'solo' });
  await single.start();
  const main = LocalCluster.load(E2E_CLUSTER_DIR).state;
  const file = writeDashboardConfig(path.join(E2E_ROOT, 'dashboard.yaml'), [
    { id: 'prod', name: 'Production', cluster: main },
    { id: 'solo', name: 'Lab (single member)', cluster: single.state },
  ]);
  dashboard = await startDashboard({
    port: PORT,
    env: { ETCD_DASHBOARD_CONFIG: file, DASHBOARD_ANONYMOUS: 'viewer' },
    logFile: path.join(E2E_ROOT, 'dashboard-multi.log'),
  });
});

test.afterAll(async () => {
  await dashboard?.stop();
  await single?.stop();
});

async function waitHealthy(page: Page) {
  await expect(page.getByTestId('quorum-card')).toHaveAttribute('data-state', 'healthy');
}

test('lists both clusters and switches between them; the single-member cluster carries a warning', async ({ page }) => {
  const res = await page.request.get(`${dashboard.url}/api/clusters`);
  expect(await res.json()).toEqual({
    clusters: [
      { id: 'prod', name: 'Production', endpoints: LocalCluster.load(E2E_CLUSTER_DIR).endpoints },
      { id: 'solo', name: 'Lab (single member)', endpoints: single.endpoints },
    ],
  });

  await page.goto(`${dashboard.url}/`);
  await expect(page.getByTestId('cluster-name')).toHaveText('Production');
  await waitHealthy(page);
  await expect(page.getByTestId('member-row')).toHaveCount(3);
  await expect(page.getByTestId('size-warning')).toHaveCount(0);

  await page.getByRole('link', { name: 'Lab (single member)' }).click();
  await expect(page).toHaveURL(/\?cluster=solo$/);
  await expect(page.getByTestId('cluster-name')).toHaveText('Lab (single member)');
  await waitHealthy(page);
  await expect(page.getByTestId('member-row')).toHaveCount(1);
  await expect(page.getByTestId('quorum-summary')).toHaveText('1 of 1 healthy, quorum 1, can lose 0 more');
  await expect(page.getByTestId('size-warning')).toContainText('Single-member cluster');
});

test('an unknown cluster id is a 404 in the one error shape', async ({ request }) => {
  const res = await request.get(`${dashboard.url}/api/clusters/nope/status`);
  expect(res.status()).toBe(404);
  expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no cluster with id "nope"' } });
});

for (const [label, viewport] of [
  ['phone', { width: 390, height: 844 }],
  ['1080p', { width: 1920, height: 1080 }],
] as const) {
  // With the dashboard's own fonts, and with them refused so the machine's (on Debian: DejaVu, wider) are used:
  // a phone or wall screen that fails to load them must still get a page that fits.
  for (const fonts of ['own fonts', 'fallback fonts'] as const) {
    test(`the overview fits a ${label} screen without sideways scrolling (${fonts})`, async ({ browser }, testInfo) => {
      const page = await browser.newPage({ viewport });
      if (fonts === 'fallback fonts') await page.route(/\.woff2$/, (route) => route.abort());
      await page.goto(`${dashboard.url}/?cluster=prod`);
      await waitHealthy(page);
      await expect(page.getByTestId('quorum-state')).toBeInViewport();
      await page.evaluate(() => document.fonts.ready);
      await page.screenshot({
        path: testInfo.outputPath(`overview-${label}-${fonts.replace(' ', '-')}.png`),
        fullPage: true,
      });
      expect(await overflowingElements(page), 'elements past the right edge').toEqual([]);
      expect(await spilledText(page, '[data-testid="member-row"]'), 'text spilling out of a member card').toEqual([]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await page.close();
    });
  }
}

test("the pages use the dashboard's own typefaces, served by the dashboard itself and allowed by its CSP", async ({
  page,
}) => {
  const fontRequests: string[] = [];
  const violations: string[] = [];
  page.on('request', (r) => {
    if (r.resourceType() === 'font') fontRequests.push(r.url());
  });
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.goto(`${dashboard.url}/?cluster=prod`);
  await waitHealthy(page);
  const faces = await page.evaluate(async () => {
    await document.fonts.ready;
    return [...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family);
  });
  // One text face and one monospace face, both loaded (next/font names them after their variables).
  expect(faces.length).toBeGreaterThanOrEqual(2);
  const used = await page.evaluate(() => ({
    body: getComputedStyle(document.body).fontFamily,
    code: getComputedStyle(document.querySelector('[data-testid="member-row"] code') as Element).fontFamily,
  }));
  expect(
    faces.some((f) => used.body.includes(f)),
    `body font ${used.body} among ${faces.join(', ')}`,
  ).toBe(true);
  expect(
    faces.some((f) => used.code.includes(f)),
    `code font ${used.code} among ${faces.join(', ')}`,
  ).toBe(true);
  expect(fontRequests.length).toBeGreaterThanOrEqual(2);
  for (const url of fontRequests) expect(new URL(url).origin).toBe(new URL(dashboard.url).origin);
  expect(violations).toEqual([]);
});
