// Checks, before any drill starts a cluster, that the tools and the production build the drills need are there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ensureEtcd, selectedEtcdLine } from '../scripts/lib/etcd-versions';
import { DIST_DIR, DRILLS_ROOT, PROJECT_ROOT } from './support/drill-stack';

export default function globalSetup(): void {
  // ETCD_DASHBOARD_ETCD_VERSION's etcd (or the newest this machine has or can get), fetched or built when missing.
  const etcd = ensureEtcd(selectedEtcdLine());
  for (const [tool, arg] of [
    [etcd.etcd, '--version'],
    [etcd.etcdctl, 'version'],
  ] as const) {
    try {
      execFileSync(tool, [arg], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} does not run: run npm run setup`);
    }
  }
  if (!existsSync(path.join(PROJECT_ROOT, DIST_DIR, 'BUILD_ID'))) {
    throw new Error(
      `no production build in ${DIST_DIR}: run \`${DIST_DIR === '.next' ? '' : `NEXT_DIST_DIR=${DIST_DIR} `}npx next build\` first`,
    );
  }
  mkdirSync(DRILLS_ROOT, { recursive: true });
}
