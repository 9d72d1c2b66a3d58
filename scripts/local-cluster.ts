// Command line for the local mTLS etcd cluster: up, down, stop-member, start-member, env.
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { ETCD_LINES, parseEtcdLine } from './lib/etcd-versions';
import { LocalCluster } from './lib/local-cluster';

const usage = `usage: npm run cluster -- <command> [options]

commands:
  up             make the PKI (first time) and start every member, wait until healthy
  down           stop every member by PID (--purge also removes the folder)
  stop-member    stop one member by PID (--member N, --signal SIGTERM|SIGKILL|SIGSTOP|SIGCONT)
  start-member   start one member again (--member N)
  env            print the ETCDCTL_* variables for this cluster (eval "$(npm run -s cluster -- env)")
  status         print the etcd version and its binaries, and each member's PID and URLs

options:
  --dir PATH         the folder the cluster owns (default .cluster/local)
  --members N        member count for a new cluster: 1, 3 or 5 (default 3)
  --base-port N      first client port; each member takes three ports (default 23790)
  --quota-bytes N    --quota-backend-bytes for each member
  --etcd LINE        etcd for a new cluster: ${ETCD_LINES.join(', ')} (default ETCD_DASHBOARD_ETCD_VERSION, else the newest here)`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string', default: '.cluster/local' },
      members: { type: 'string', default: '3' },
      'base-port': { type: 'string', default: '23790' },
      'quota-bytes': { type: 'string' },
      etcd: { type: 'string' },
      member: { type: 'string' },
      signal: { type: 'string', default: 'SIGTERM' },
      purge: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(usage);
    return;
  }
  const dir = values.dir;
  const memberIndex = (): number => {
    const n = Number(values.member);
    if (values.member === undefined || !Number.isInteger(n)) throw new Error('--member N is required (0-based)');
    return n;
  };
  switch (command) {
    case 'up': {
      const etcd = values.etcd === undefined ? undefined : parseEtcdLine(values.etcd);
      if (etcd === null) throw new Error(`--etcd must be one of ${ETCD_LINES.join(', ')} (got "${values.etcd}")`);
      const cluster = existsSync(LocalCluster.statePath(dir))
        ? LocalCluster.load(dir)
        : LocalCluster.create({
            dir,
            members: Number(values.members),
            basePort: Number(values['base-port']),
            quotaBackendBytes: values['quota-bytes'] ? Number(values['quota-bytes']) : undefined,
            etcd,
          });
      await cluster.start();
      const { line, version } = cluster.binaries;
      console.log(
        `etcd ${version} cluster "${cluster.state.name}" is healthy: ${cluster.endpoints.join(',')}` +
          (line === '3.4' ? ' (etcd 3.4 is end of life)' : ''),
      );
      return;
    }
    case 'down': {
      if (!existsSync(LocalCluster.statePath(dir))) return;
      const cluster = LocalCluster.load(dir);
      if (values.purge) await cluster.destroy();
      else await cluster.stop();
      return;
    }
    case 'stop-member': {
      const cluster = LocalCluster.load(dir);
      await cluster.stopMember(memberIndex(), values.signal as NodeJS.Signals);
      return;
    }
    case 'start-member': {
      const cluster = LocalCluster.load(dir);
      const i = memberIndex();
      cluster.startMember(i);
      return;
    }
    case 'env': {
      const cluster = LocalCluster.load(dir);
      for (const [k, v] of Object.entries(cluster.etcdctlEnv)) console.log(`export ${k}=${v}`);
      return;
    }
    case 'status': {
      const cluster = LocalCluster.load(dir);
      const b = cluster.binaries;
      console.log(`etcd ${b.version}: ${b.etcd}, etcdctl ${b.etcdctl}, etcdutl ${b.etcdutl ?? '(none in 3.4)'}`);
      cluster.state.members.forEach((m, i) => {
        console.log(
          `${i} ${m.name} ${cluster.isRunning(i) ? `pid ${m.pid}` : 'stopped'} ${m.clientUrl} ${m.metricsUrl}`,
        );
      });
      return;
    }
    default:
      throw new Error(`unknown command "${command}"\n${usage}`);
  }
}

main().catch((err: unknown) => {
  console.error(`local-cluster: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
