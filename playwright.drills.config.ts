import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './e2e/support/chromium';

// Fault drills (`npm run drills`): each drill starts its own 3-member mTLS cluster and production dashboard, breaks
// something for real and checks what the dashboard shows. The dashboards run the build in NEXT_DIST_DIR (default .next).
export default defineConfig({
  testDir: './drills',
  testMatch: '**/*.drill.ts',
  // Drills kill, freeze and fill things on one machine: one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  globalSetup: './drills/global-setup.ts',
  // Not inside test-results/: the e2e suite empties that folder when it starts.
  outputDir: 'test-results-drills',
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
  },
});
