// Writes the demo's dashboard config for the local cluster: anonymous viewing on (a NOC screen needs no login),
// hourly snapshots, and a fresh operator account whose password is printed once, here, and stored only as a hash.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { hashPassword } from '../lib/auth/password';
import { LocalCluster } from './lib/local-cluster';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'cluster-dir': { type: 'string' }, out: { type: 'string' } } });
  if (!values['cluster-dir'] || !values.out) throw new Error('usage: demo-config --cluster-dir DIR --out FILE');
  const cluster = LocalCluster.load(values['cluster-dir']).state;
  const password = randomBytes(15).toString('base64url');
  const out = path.resolve(values.out);
  const rel = (p: string) => path.relative(path.dirname(out), p);
  writeFileSync(
    out,
    stringify({
      auth: {
        anonymous: 'viewer',
        users: [{ username: 'operator', passwordHash: await hashPassword(password), role: 'operator' }],
      },
      clusters: [
        {
          id: 'local',
          name: 'Local demo cluster',
          endpoints: cluster.members.map((m) => m.clientUrl),
          tls: { ca: rel(cluster.caCert), cert: rel(cluster.clientCert), key: rel(cluster.clientKey) },
          // Hourly snapshots, the newest 24 kept: what a small production cluster would start with.
          snapshots: { schedule: '0 * * * *', retention: { keepLast: 24 } },
        },
      ],
    }),
    { mode: 0o600 },
  );
  console.log(password);
}

main().catch((err: unknown) => {
  console.error(`demo-config: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
