// A member's server certificate swapped for one from another CA (a renewal signed by the wrong CA). The dashboard
// refuses to trust it: that member's row is unreachable with a TLS reason while the others stay healthy and fresh;
// with the right certificate back, the member is healthy again.
import { test } from '@playwright/test';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { CertificateAuthority, LOOPBACK_SANS } from '../scripts/lib/pki';
import { expectAllBackHealthy, expectOneMemberOut } from './support/freshness';
import { followerDrill } from './support/healthy-drill';

test(
  'a member serving a certificate from another CA: its row says TLS, the others stay healthy and fresh',
  followerDrill('foreign-ca', async ({ stack, page, victim, others }) => {
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
    await expectOneMemberOut(stack, page, victim.name, others, {
      error: /^TLS handshake failed: /,
      shownAs: 'TLS handshake failed',
      timeoutMs: 20_000,
    });

    // The right certificate back.
    await stack.cluster.stopMember(index);
    copyFileSync(saved.cert, member.serverCert);
    copyFileSync(saved.key, member.serverKey);
    stack.cluster.startMember(index);
    await expectAllBackHealthy(stack, page, [victim.name, ...others]);
  }),
);
