// Where the suite's shared cluster and dashboard live; global-setup.ts fills these in for every worker.
import path from 'node:path';

export const E2E_ROOT = path.resolve(__dirname, '..', '..', '.cluster', 'e2e');
export const E2E_CLUSTER_DIR = path.join(E2E_ROOT, 'main');
export const E2E_CLUSTER_BASE_PORT = 24300;
export const E2E_DASHBOARD_PORT = 3190;
/** Ports for dashboards a test starts itself. */
export const E2E_EXTRA_DASHBOARD_PORT = 3191;
