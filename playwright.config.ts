import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './e2e/support/chromium';
import { E2E_DASHBOARD_PORT } from './e2e/support/e2e-env';

// The suite starts its own etcd cluster and production dashboard (e2e/global-setup.ts): no webServer here,
// because the dashboard needs the cluster's certificates before it can start.
export default defineConfig({
  testDir: './e2e',
  // Tests stop and start members of one shared cluster: they must not run side by side.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  globalSetup: './e2e/global-setup.ts',
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${E2E_DASHBOARD_PORT}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
  },
});
