// The exact commands to restore a snapshot into a cluster, filled in from its member list. The dashboard shows
// them; it never runs a restore itself. Shared with the browser.

export interface RunbookMember {
  name: string;
  peerURLs: string[];
}

export interface RunbookInput {
  clusterName: string;
  snapshotId: string;
  /** The file name the operator copies to every member. */
  fileName: string;
  /** etcdctl's 8 hex digits, so the copy on each host can be checked before use. */
  hashHex: string | null;
  revision: number | null;
  members: RunbookMember[];
  /** Where etcd keeps its data on the members; kubeadm's default. */
  dataDir?: string;
  /** Where the snapshot is copied to on each member. */
  remoteDir?: string;
}

export interface RunbookStep {
  title: string;
  /** Why this step, in a line. */
  note: string;
  commands: string;
}

function host(url: string | undefined): string {
  if (!url) return '<member host>';
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

/** Safe in single quotes for a POSIX shell. */
function q(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function restoreRunbook(input: RunbookInput): RunbookStep[] {
  const dataDir = input.dataDir ?? '/var/lib/etcd';
  const remoteDir = input.remoteDir ?? '/var/backups/etcd';
  const file = `${remoteDir}/${input.fileName}`;
  const restoredDir = `${dataDir}-restore-${input.snapshotId}`;
  // A new token keeps a member that still runs from the old data from joining the restored cluster.
  const token = `${input.clusterName.replace(/[^A-Za-z0-9-]/g, '-').toLowerCase()}-restore-${input.snapshotId}`;
  const members = input.members.filter((m) => m.name && m.peerURLs.length > 0);
  const initialCluster = members.map((m) => `${m.name}=${m.peerURLs[0]}`).join(',');

  const steps: RunbookStep[] = [];
  steps.push({
    title: '1. Copy the snapshot to every member and check it',
    note: `Every member restores from the same file. The hash must read ${input.hashHex ?? '(see the snapshot record)'}${input.revision !== null ? ` and the revision ${input.revision}` : ''}.`,
    commands: members
      .map((m) => `scp ${q(input.fileName)} ${q(host(m.peerURLs[0]))}:${q(file)}`)
      .concat([`ETCDCTL_API=3 etcdctl snapshot status ${q(file)} -w table   # on each member`])
      .join('\n'),
  });
  steps.push({
    title: '2. Stop etcd on every member',
    note: 'All members at once: a restored member must never talk to one still running on the old data. On kubeadm nodes, moving the static pod manifest away stops etcd (and the API server with it).',
    commands: [
      '# systemd:',
      'sudo systemctl stop etcd',
      '# kubeadm static pod:',
      'sudo mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/etcd.yaml.stopped',
    ].join('\n'),
  });
  for (const m of members) {
    steps.push({
      title: `3. Restore on ${m.name} (${host(m.peerURLs[0])})`,
      note: 'Into a new data directory; the old one stays untouched until the switch.',
      commands: [
        `ETCDCTL_API=3 etcdctl snapshot restore ${q(file)} \\`,
        `  --name ${q(m.name)} \\`,
        `  --initial-cluster ${q(initialCluster)} \\`,
        `  --initial-cluster-token ${q(token)} \\`,
        `  --initial-advertise-peer-urls ${q(m.peerURLs[0] ?? '')} \\`,
        `  --data-dir ${q(restoredDir)}`,
      ].join('\n'),
    });
  }
  steps.push({
    title: '4. Switch the data directory on every member',
    note: 'Keep the old data until the restored cluster is confirmed healthy.',
    commands: [
      `sudo mv ${q(dataDir)} ${q(`${dataDir}.before-restore-${input.snapshotId}`)}`,
      `sudo mv ${q(restoredDir)} ${q(dataDir)}`,
    ].join('\n'),
  });
  steps.push({
    title: '5. Start every member, then check',
    note: 'Start them within a few seconds of each other so they elect a leader. Kubernetes controllers then reconcile to the restored state: expect pods to be recreated or removed.',
    commands: [
      '# systemd:',
      'sudo systemctl start etcd',
      '# kubeadm static pod:',
      'sudo mv /etc/kubernetes/etcd.yaml.stopped /etc/kubernetes/manifests/etcd.yaml',
      '# then, from anywhere with the client certificate:',
      'ETCDCTL_API=3 etcdctl endpoint health --cluster -w table',
      'ETCDCTL_API=3 etcdctl member list -w table',
    ].join('\n'),
  });
  return steps;
}
