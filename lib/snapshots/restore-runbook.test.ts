import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreRunbook, type RunbookInput, type RunbookMember, type RunbookStep } from './restore-runbook';

const PEERS = ['https://10.0.0.1:2380', 'https://10.0.0.2:2380', 'https://10.0.0.3:2380'];

function members(...versions: (string | null)[]): RunbookMember[] {
  return versions.map((version, i) => ({ name: `etcd-${i}`, peerURLs: [PEERS[i]!], version }));
}

function runbook(over: Partial<RunbookInput> = {}): RunbookStep[] {
  return restoreRunbook({
    clusterName: 'Prod East',
    snapshotId: '20261201T120000Z-abc123',
    fileName: 'prod-20261201T120000Z-abc123.db',
    hashHex: '1a2b3c4d',
    revision: 4242,
    members: members('3.6.14', '3.6.14', '3.6.14'),
    kubernetes: false,
    ...over,
  });
}

const restoreSteps = (steps: RunbookStep[]) => steps.filter((s) => s.commands.includes('snapshot restore'));
const checkStep = (steps: RunbookStep[]) => steps.find((s) => s.commands.includes('snapshot status'))!;
const allCommands = (steps: RunbookStep[]) => steps.map((s) => s.commands).join('\n');

describe('restoreRunbook: the tool each etcd version has', () => {
  it('3.4 restores with etcdctl and ETCDCTL_API=3, and never names etcdutl (3.4 has none)', () => {
    const steps = runbook({ members: members('3.4.23', '3.4.23', '3.4.23') });
    const restores = restoreSteps(steps);
    expect(restores).toHaveLength(3);
    for (const s of restores) expect(s.commands).toMatch(/^sudo env ETCDCTL_API=3 etcdctl snapshot restore /);
    expect(checkStep(steps).commands).toContain(
      'ETCDCTL_API=3 etcdctl snapshot status /var/backups/etcd/prod-20261201T120000Z-abc123.db -w table',
    );
    expect(allCommands(steps)).not.toContain('etcdutl');
    expect(checkStep(steps).note).toContain('Written for etcd 3.4.23');
  });

  it.each(['3.5.30', '3.6.14', '3.7.1'])('%s restores with etcdutl and never calls `etcdctl snapshot`', (version) => {
    const steps = runbook({ members: members(version, version, version) });
    const restores = restoreSteps(steps);
    expect(restores).toHaveLength(3);
    for (const s of restores) expect(s.commands).toMatch(/^sudo etcdutl snapshot restore /);
    expect(checkStep(steps).commands).toContain(
      'etcdutl snapshot status /var/backups/etcd/prod-20261201T120000Z-abc123.db -w table',
    );
    // On 3.6 and 3.7 `etcdctl snapshot status` prints help and exits 0: it must not appear at all.
    expect(allCommands(steps)).not.toMatch(/etcdctl snapshot/);
    expect(allCommands(steps)).not.toContain('ETCDCTL_API');
    expect(checkStep(steps).note).toContain(`Written for etcd ${version}`);
  });

  it('members on 3.5.30 and 3.6.14 get 3.5’s commands, and the note says why', () => {
    const steps = runbook({ members: members('3.6.14', '3.5.30', '3.6.14') });
    for (const s of restoreSteps(steps)) expect(s.commands).toMatch(/^sudo etcdutl snapshot restore /);
    const note = checkStep(steps).note;
    expect(note).toContain('3.5.30 (etcd-1)');
    expect(note).toContain('3.6.14 (etcd-0 and etcd-2)');
    expect(note).toContain('written for 3.5.30, the oldest');
    expect(note).toContain('oldest binaries present on the hosts');
  });

  it('a 3.4 member among 3.5 ones makes it etcdctl’s form, which 3.5 still has', () => {
    const steps = runbook({ members: members('3.5.30', '3.4.23', '3.5.30') });
    for (const s of restoreSteps(steps)) expect(s.commands).toContain('ETCDCTL_API=3 etcdctl snapshot restore');
    expect(checkStep(steps).note).toContain('written for 3.4.23, the oldest');
  });

  it('says plainly when no member reported a version, and gives the etcdutl form with the 3.4 alternative', () => {
    const steps = runbook({ members: members(null, null, null) });
    const note = checkStep(steps).note;
    expect(note).toContain('The etcd version is unknown');
    expect(note).toContain(
      'on 3.4, use `ETCDCTL_API=3 etcdctl snapshot status` and `ETCDCTL_API=3 etcdctl snapshot restore`',
    );
    expect(checkStep(steps).commands).toContain('etcd --version');
    for (const s of restoreSteps(steps)) expect(s.commands).toMatch(/^sudo etcdutl snapshot restore /);
  });

  it('names the members that did not report a version', () => {
    const steps = runbook({ members: members('3.5.30', null, '3.5.30') });
    expect(checkStep(steps).note).toContain('Written for etcd 3.5.30');
    expect(checkStep(steps).note).toContain('etcd-1 did not report a version');
  });
});

describe('restoreRunbook: Kubernetes clusters', () => {
  it('stops the API servers first, before etcd, and starts them last, after etcd is healthy', () => {
    const steps = runbook({ kubernetes: true });
    expect(steps[0]!.title).toBe('1. Stop the Kubernetes API servers');
    expect(steps[0]!.commands).toContain(
      'sudo mv /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/kube-apiserver.yaml.stopped',
    );
    const stopEtcd = steps.findIndex((s) => s.commands.includes('sudo systemctl stop etcd'));
    expect(stopEtcd).toBeGreaterThan(0);
    const startEtcd = steps.findIndex((s) => s.commands.includes('sudo systemctl start etcd'));
    const last = steps.at(-1)!;
    expect(steps.indexOf(last)).toBeGreaterThan(startEtcd);
    expect(last.title).toBe(`${steps.length}. Start the Kubernetes API servers again`);
    expect(last.commands).toContain(
      'sudo mv /etc/kubernetes/kube-apiserver.yaml.stopped /etc/kubernetes/manifests/kube-apiserver.yaml',
    );
    expect(last.note).toContain('Only once etcd is healthy');
  });

  it('leaves the API servers alone when the cluster holds no Kubernetes data', () => {
    expect(allCommands(runbook())).not.toContain('kube-apiserver');
  });

  it('bumps revisions and marks them compacted where the version has the flags (3.4.27+, 3.5.10+, 3.6+)', () => {
    for (const v of ['3.4.27', '3.5.10', '3.5.30', '3.6.14', '3.7.1']) {
      const restores = restoreSteps(runbook({ kubernetes: true, members: members(v, v, v) }));
      for (const s of restores) expect(s.commands, v).toMatch(/ --bump-revision 1000000000 --mark-compacted$/);
    }
  });

  it('does not put the flags where the version lacks them, and says what that means', () => {
    for (const v of ['3.4.23', '3.5.9']) {
      const restores = restoreSteps(runbook({ kubernetes: true, members: members(v, v, v) }));
      for (const s of restores) {
        expect(s.commands, v).not.toContain('--bump-revision');
        expect(s.note, v).toContain(`etcd ${v} has no --bump-revision`);
      }
    }
  });

  it('with an unknown version, offers the flags only as a condition in the note', () => {
    const [restore] = restoreSteps(runbook({ kubernetes: true, members: members(null, null, null) }));
    expect(restore!.commands).not.toContain('--bump-revision');
    expect(restore!.note).toContain('If every host runs etcd 3.5.10 or later');
  });

  it('outside Kubernetes the flags are optional advice, and not mentioned where the version lacks them', () => {
    const [modern] = restoreSteps(runbook({ members: members('3.6.14', '3.6.14', '3.6.14') }));
    expect(modern!.commands).not.toContain('--bump-revision');
    expect(modern!.note).toContain('Optional: if clients watch this cluster');
    const old = runbook({ members: members('3.4.23', '3.4.23', '3.4.23') });
    expect(old.map((s) => s.note + s.commands).join('\n')).not.toContain('bump-revision');
  });
});

describe('restoreRunbook: steps a user follows in order', () => {
  it.each([
    ['plain, three members', {}],
    ['Kubernetes', { kubernetes: true }],
    ['one member', { members: members('3.5.30').slice(0, 1) }],
    ['no member list', { members: [] }],
  ] as [string, Partial<RunbookInput>][])('numbers the steps 1..n without repeats: %s', (_, over) => {
    const steps = runbook(over);
    expect(steps.map((s) => Number(/^(\d+)\. /.exec(s.title)?.[1]))).toEqual(steps.map((_, i) => i + 1));
  });

  it('says the data directory is kubeadm’s default and the backup folder a suggestion, to adjust', () => {
    const steps = runbook();
    expect(restoreSteps(steps)[0]!.note).toContain("/var/lib/etcd is kubeadm's default data directory");
    expect(steps.find((s) => s.title.includes('Switch'))!.note).toContain("kubeadm's default");
    expect(checkStep(steps).note).toContain('/var/backups/etcd is only a suggestion');
  });

  it('uses a data directory it was given, without calling it a default', () => {
    const steps = runbook({ dataDir: '/srv/etcd', remoteDir: '/srv/backups' });
    expect(allCommands(steps)).toContain('sudo mv /srv/etcd /srv/etcd.before-restore-20261201T120000Z-abc123');
    expect(allCommands(steps)).not.toContain('/var/lib/etcd');
    expect(steps.map((s) => s.note).join('\n')).not.toContain("kubeadm's default data directory");
    expect(checkStep(steps).commands).toContain('snapshot status /srv/backups/prod-20261201T120000Z-abc123.db');
  });

  it('without a member list, shows placeholders that cannot pass for filled-in values', () => {
    const steps = runbook({ members: [] });
    const restores = restoreSteps(steps);
    expect(restores).toHaveLength(1);
    expect(restores[0]!.commands).toContain('--name <name>');
    expect(restores[0]!.note).toContain('not filled in');
  });
});

/** Runs a step's commands in a real POSIX shell whose sudo, etcdutl and etcdctl only print what they were given. */
describe('restoreRunbook: what the shell passes to the restore tool', () => {
  let bin: string;
  beforeAll(() => {
    bin = mkdtempSync(path.join(os.tmpdir(), 'runbook-'));
    const script = (name: string, body: string) => {
      writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(path.join(bin, name), 0o755);
    };
    script('sudo', 'exec "$@"');
    const printArgs = `printf '%s\\0' "$(basename "$0")" "$@" "ETCDCTL_API=$ETCDCTL_API"`;
    script('etcdutl', printArgs);
    script('etcdctl', printArgs);
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  function argv(commands: string): string[] {
    const out = execFileSync('sh', ['-c', commands], {
      cwd: bin,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
      encoding: 'utf8',
    });
    return out.split('\0').slice(0, -1);
  }
  const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];

  it('gives --initial-cluster every member’s name=peerURL, and each member its own name and URLs', () => {
    const ms: RunbookMember[] = [
      { name: 'etcd-0', peerURLs: [PEERS[0]!], version: '3.6.14' },
      { name: 'etcd-1', peerURLs: [PEERS[1]!, 'https://etcd-1.internal:2380'], version: '3.6.14' },
      { name: 'etcd-2', peerURLs: [PEERS[2]!], version: '3.6.14' },
    ];
    const restores = restoreSteps(runbook({ members: ms }));
    expect(restores).toHaveLength(3);
    restores.forEach((s, i) => {
      const args = argv(s.commands);
      expect(args.slice(0, 4)).toEqual([
        'etcdutl',
        'snapshot',
        'restore',
        '/var/backups/etcd/prod-20261201T120000Z-abc123.db',
      ]);
      expect(flag(args, '--initial-cluster')).toBe(
        'etcd-0=https://10.0.0.1:2380,etcd-1=https://10.0.0.2:2380,etcd-1=https://etcd-1.internal:2380,etcd-2=https://10.0.0.3:2380',
      );
      expect(flag(args, '--name')).toBe(ms[i]!.name);
      expect(flag(args, '--initial-advertise-peer-urls')).toBe(ms[i]!.peerURLs.join(','));
      expect(flag(args, '--initial-cluster-token')).toBe('prod-east-restore-20261201T120000Z-abc123');
      expect(flag(args, '--data-dir')).toBe('/var/lib/etcd-restore-20261201T120000Z-abc123');
    });
  });

  it('3.4’s command reaches etcdctl with ETCDCTL_API=3 through sudo', () => {
    const [restore] = restoreSteps(runbook({ members: members('3.4.23', '3.4.23', '3.4.23') }));
    const args = argv(restore!.commands);
    expect(args.slice(0, 3)).toEqual(['etcdctl', 'snapshot', 'restore']);
    expect(args.at(-1)).toBe('ETCDCTL_API=3');
  });

  it('the revision flags arrive as flags, not as part of another value', () => {
    const [restore] = restoreSteps(runbook({ kubernetes: true }));
    const args = argv(restore!.commands);
    expect(flag(args, '--bump-revision')).toBe('1000000000');
    expect(args).toContain('--mark-compacted');
    expect(flag(args, '--data-dir')).toBe('/var/lib/etcd-restore-20261201T120000Z-abc123');
  });

  it('quotes odd member names so the shell passes them through unchanged and runs nothing in them', () => {
    const odd = ['etcd 0 (old)', "o'brien", '$(touch pwned)'];
    const ms = odd.map((name, i) => ({ name, peerURLs: [PEERS[i]!], version: '3.5.30' }));
    const restores = restoreSteps(runbook({ members: ms }));
    restores.forEach((s, i) => {
      const args = argv(s.commands);
      expect(flag(args, '--name')).toBe(odd[i]);
      expect(flag(args, '--initial-cluster')).toBe(odd.map((n, j) => `${n}=${PEERS[j]}`).join(','));
    });
    expect(existsSync(path.join(bin, 'pwned'))).toBe(false);
    expect(restores.map((s) => s.title)).toEqual([
      '3. Restore on etcd 0 (old) (10.0.0.1)',
      "4. Restore on o'brien (10.0.0.2)",
      '5. Restore on $(touch pwned) (10.0.0.3)',
    ]);
  });
});
