// The production server refuses a bad configuration at start with one line naming what is wrong.
import { expect, test } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LocalCluster } from '../scripts/lib/local-cluster';
import { CertificateAuthority } from '../scripts/lib/pki';
import { startDashboard } from '../scripts/lib/dashboard-process';
import { E2E_CLUSTER_DIR, E2E_ROOT } from './support/e2e-env';

const PORT = 3192;

async function startAndExpectExit(name: string, env: Record<string, string>): Promise<string> {
  const dashboard = await startDashboard({
    port: PORT,
    env,
    logFile: path.join(E2E_ROOT, `config-error-${name}.log`),
    waitReady: false,
  });
  const code = await Promise.race([
    dashboard.exited,
    new Promise<'running'>((r) => setTimeout(() => r('running'), 20_000)),
  ]);
  if (code === 'running') await dashboard.stop();
  expect(code, 'the server must stop on a bad configuration').toBe(1);
  const log = dashboard.log();
  const errorLines = log.split('\n').filter((l) => l.includes('configuration error'));
  expect(errorLines).toHaveLength(1);
  expect(log).not.toMatch(/^\s+at /m); // no stack trace
  expect(log).not.toContain('PRIVATE KEY');
  return errorLines[0]!;
}

test.describe('configuration errors stop the server with one clear line', () => {
  const env = () => LocalCluster.load(E2E_CLUSTER_DIR).etcdctlEnv;
  const ca = () => CertificateAuthority.create(path.join(E2E_ROOT, 'config-errors-ca'), 'config errors CA');

  test('a missing CA file names the variable and the path', async () => {
    const line = await startAndExpectExit('missing-ca', { ...env(), ETCDCTL_CACERT: '/nonexistent/ca.crt' });
    expect(line).toContain('ETCDCTL_CACERT: cannot read /nonexistent/ca.crt: no such file');
  });

  test('a key that does not match its certificate names both files', async () => {
    const other = ca().issue('other-client', { commonName: 'other', usages: ['clientAuth'] });
    const e = env();
    const line = await startAndExpectExit('key-mismatch', { ...e, ETCDCTL_KEY: other.key });
    expect(line).toContain(`ETCDCTL_KEY: ${other.key} does not match the certificate ${e.ETCDCTL_CERT}`);
    expect(line).not.toContain(readFileSync(other.key, 'utf8').split('\n')[1]!);
  });

  test('an expired client certificate names the file', async () => {
    const expired = ca().issue('expired-client', {
      commonName: 'expired',
      usages: ['clientAuth'],
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const line = await startAndExpectExit('expired', {
      ...env(),
      ETCDCTL_CERT: expired.cert,
      ETCDCTL_KEY: expired.key,
    });
    expect(line).toMatch(new RegExp(`ETCDCTL_CERT: certificate ${expired.cert} expired on \\d{4}-`));
  });

  test('a malformed endpoint names it', async () => {
    const line = await startAndExpectExit('endpoint', {
      ...env(),
      ETCDCTL_ENDPOINTS: 'https://127.0.0.1:23790,https://bad host:2379',
    });
    expect(line).toContain('ETCDCTL_ENDPOINTS[1]');
    expect(line).toContain('bad host');
  });

  test('an unknown field in the config file names the file and the field', async () => {
    const file = path.join(E2E_ROOT, 'bad-dashboard.yaml');
    writeFileSync(file, 'clusters:\n  - id: prod\n    endpoints: [https://127.0.0.1:2379]\n    endpionts: []\n');
    const line = await startAndExpectExit('unknown-field', { ETCD_DASHBOARD_CONFIG: file });
    expect(line).toContain(file);
    expect(line).toContain('endpionts');
  });
});
