// A member's server certificate swapped for one from another CA (a renewal signed by the wrong CA). The dashboard
// refuses to trust it: that member's row is unreachable with a TLS reason while the others stay healthy and fresh;
// with the right certificate back, the member is healthy again.
import { expect, test } from '@playwright/test';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { waitForStatus } from '../e2e/support/status-api';
import { CertificateAuthority, LOOPBACK_SANS } from '../scripts/lib/pki';
import { CLUSTER_ID, drillStack } from './support/drill-stack';
import {
  expectApiStaysFresh,
  expectPageStaysFresh,
  healthyWithFollower,
  quorumIs,
  rowsDiffer,
} from './support/freshness';

const drill = drillStack('foreign-ca');

test('a member serving a certificate from another CA: its row says TLS, the others stay healthy and fresh', async ({
  page,
}) => {
  const stack = drill();
  const {
    victim,
    others: [a, b],
  } = await healthyWithFollower(stack, page);
  const index = stack.memberIndex(victim.name);
  const member = stack.cluster.member(index);

  // Same name, same addresses, same key usages: only the issuer is wrong. The peer certificate is left alone,
  // so the member stays in the cluster.
  const other = CertificateAuthority.create(path.join(stack.root, 'other-ca'), 'another etcd CA');
  const foreign = other.issue(`${victim.name}-server`, {
    commonName: victim.name,
    usages: ['serverAuth', 'clientAuth'],
    altNames: LOOPBACK_SANS,
  });
  const saved = { cert: `${member.serverCert}.orig`, key: `${member.serverKey}.orig` };
  copyFileSync(member.serverCert, saved.cert);
  copyFileSync(member.serverKey, saved.key);
  await stack.cluster.stopMember(index);
  copyFileSync(foreign.cert, member.serverCert);
  copyFileSync(foreign.key, member.serverKey);
  stack.cluster.startMember(index);
  await stack.cluster.waitHealthy(30_000, [index]);

  await page.goto(`${stack.url}/`);
  const rows = { [victim.name]: 'unreachable', [a]: 'healthy', [b]: 'healthy' } as const;
  await waitForStatus(stack.api, (s) => rowsDiffer(s, rows) === null, 20_000, CLUSTER_ID);
  const last = await expectApiStaysFresh(stack.api, (s) => rowsDiffer(s, rows) ?? quorumIs(s.quorum.state, 'at-risk'));
  expect(last.members.find((m) => m.name === victim.name)?.error).toMatch(/^TLS handshake failed: /);
  await expectPageStaysFresh(page, rows);
  await expect(
    page.locator(`[data-testid=member-row][data-member-name="${victim.name}"] [data-testid=member-error]`),
  ).toContainText('TLS handshake failed');

  // The right certificate back.
  await stack.cluster.stopMember(index);
  copyFileSync(saved.cert, member.serverCert);
  copyFileSync(saved.key, member.serverKey);
  stack.cluster.startMember(index);
  await waitForStatus(stack.api, (s) => s.quorum.state === 'healthy', 30_000, CLUSTER_ID);
  await expectPageStaysFresh(page, { [victim.name]: 'healthy', [a]: 'healthy', [b]: 'healthy' });
});
