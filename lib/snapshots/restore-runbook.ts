// The exact commands to restore a snapshot into a cluster, filled in from its member list and written for the etcd
// version its members run. The dashboard shows them; it never runs a restore itself. Shared with the browser.
import { atLeast, compareEtcdVersions, parseEtcdVersion, type EtcdVersion } from '@/lib/cluster/etcd-version';

export interface RunbookMember {
  name: string;
  peerURLs: string[];
  /** As the member's Status reported it ("3.5.30"); null when it did not answer. */
  version: string | null;
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
  /** The cluster holds Kubernetes objects (keys under /registry): its API servers stop first and start last. */
  kubernetes: boolean;
  /** Where etcd keeps its data on the members; kubeadm's default when not given. */
  dataDir?: string;
  /** Where the snapshot is copied to on each member. */
  remoteDir?: string;
}

export interface RunbookStep {
  /** Numbered "1. …" in order. */
  title: string;
  /** Why this step, and what to adjust. */
  note: string;
  commands: string;
}

/** What the commands are written for: the oldest version a member reports, or none when no member reported one. */
interface Target {
  version: EtcdVersion | null;
  /** etcdutl from 3.5 on; 3.4's snapshot commands live in etcdctl (3.6 removed them there). */
  snapshotTool: string;
  /** etcdctl as this version wants it called. */
  etcdctl: string;
  /** Whether `snapshot restore` has --bump-revision and --mark-compacted; null when the version is unknown. */
  revisionBump: boolean | null;
  /** Why these commands, in a sentence or three. */
  why: string;
}

const KUBEADM_DATA_DIR = '/var/lib/etcd';
const DEFAULT_REMOTE_DIR = '/var/backups/etcd';
const KUBEADM_MANIFESTS = '/etc/kubernetes/manifests';
/** etcd's recovery guide: far above any revision a watcher can have seen since the snapshot. */
const KUBERNETES_REVISION_BUMP = 1_000_000_000;
const BUMP_FLAGS = `--bump-revision ${KUBERNETES_REVISION_BUMP} --mark-compacted`;

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

/** Read in each release's snapshot_command.go: etcdctl 3.4.27+, etcdutl and etcdctl 3.5.10+, etcdutl 3.6+. */
function hasRevisionBump(v: EtcdVersion): boolean {
  if (atLeast(v, 3, 6)) return true;
  if (atLeast(v, 3, 5)) return v.patch >= 10;
  return atLeast(v, 3, 4, 27);
}

function listNames(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

function target(members: RunbookMember[]): Target {
  const byVersion = new Map<string, { version: EtcdVersion; names: string[] }>();
  const silent: string[] = [];
  for (const m of members) {
    const v = parseEtcdVersion(m.version);
    if (!v) {
      silent.push(m.name || '(unnamed)');
      continue;
    }
    const entry = byVersion.get(v.text) ?? { version: v, names: [] };
    entry.names.push(m.name || '(unnamed)');
    byVersion.set(v.text, entry);
  }
  const known = [...byVersion.values()].sort((a, b) => compareEtcdVersions(a.version, b.version));
  const oldest = known[0]?.version ?? null;
  const newest = known.at(-1)?.version ?? null;

  if (!oldest || !newest) {
    return {
      version: null,
      snapshotTool: 'etcdutl',
      etcdctl: 'etcdctl',
      revisionBump: null,
      why:
        'The etcd version is unknown: no member reported it when this page was read. These are the commands of etcd 3.5 and later (etcdutl); ' +
        'on 3.4, use `ETCDCTL_API=3 etcdctl snapshot status` and `ETCDCTL_API=3 etcdctl snapshot restore` with the same flags. ' +
        '`etcd --version` on a member tells which.',
    };
  }

  const utl = atLeast(oldest, 3, 5);
  let why =
    known.length === 1
      ? `Written for etcd ${oldest.text}, the version the members report.`
      : `Members report ${known.map((k) => `${k.version.text} (${listNames(k.names)})`).join(', ')}: written for ${oldest.text}, ` +
        'the oldest, because a restore must work with the oldest binaries present on the hosts.';
  if (!utl && atLeast(newest, 3, 6)) {
    why +=
      ' etcd 3.6 and later have no `etcdctl snapshot restore` (it prints help and succeeds without restoring): on those hosts use `etcdutl snapshot restore` with the same flags.';
  }
  if (silent.length > 0) {
    why += ` ${listNames(silent)} did not report a version: check \`etcd --version\` there first.`;
  }
  return {
    version: oldest,
    snapshotTool: utl ? 'etcdutl' : 'ETCDCTL_API=3 etcdctl',
    etcdctl: utl ? 'etcdctl' : 'ETCDCTL_API=3 etcdctl',
    revisionBump: hasRevisionBump(oldest),
    why,
  };
}

/** What the restore note says about --bump-revision, and whether the command carries it. */
function revisionAdvice(t: Target, kubernetes: boolean): { flags: boolean; note: string } {
  if (t.revisionBump === null) {
    return {
      flags: false,
      note: kubernetes
        ? ` If every host runs etcd 3.5.10 or later (3.4.27 or later on 3.4), add \`${BUMP_FLAGS}\`: Kubernetes watchers saw newer revisions than the snapshot's, and these flags make them re-list instead of missing changes.`
        : '',
    };
  }
  const v = t.version?.text ?? '';
  if (!t.revisionBump) {
    return {
      flags: false,
      note: kubernetes
        ? ` etcd ${v} has no --bump-revision (it came in 3.4.27 and 3.5.10), so the revision goes back to the snapshot's: the last step restarts the Kubernetes components that cache it.`
        : '',
    };
  }
  return kubernetes
    ? {
        flags: true,
        note: ` The last line (\`${BUMP_FLAGS}\`, etcd ${v} has them) is what etcd's recovery guide advises for a cluster Kubernetes watches: revisions continue far above any a watcher saw and older ones read as compacted, so informers re-list instead of missing changes.`,
      }
    : {
        flags: false,
        note: ` Optional: if clients watch this cluster and saw revisions newer than the snapshot's, add \`${BUMP_FLAGS}\` (etcd ${v} has them) so their watches end and they re-read.`,
      };
}

export function restoreRunbook(input: RunbookInput): RunbookStep[] {
  const dataDir = input.dataDir ?? KUBEADM_DATA_DIR;
  const remoteDir = input.remoteDir ?? DEFAULT_REMOTE_DIR;
  const file = `${remoteDir}/${input.fileName}`;
  const restoredDir = `${dataDir}-restore-${input.snapshotId}`;
  // A new token keeps a member that still runs from the old data from joining the restored cluster.
  const token = `${input.clusterName.replace(/[^A-Za-z0-9-]/g, '-').toLowerCase()}-restore-${input.snapshotId}`;
  const members = input.members.filter((m) => m.name && m.peerURLs.length > 0);
  const initialCluster = members.flatMap((m) => m.peerURLs.map((u) => `${m.name}=${u}`)).join(',');
  const t = target(input.members);
  const bump = revisionAdvice(t, input.kubernetes);
  const dataDirNote =
    input.dataDir === undefined
      ? ` ${KUBEADM_DATA_DIR} is kubeadm's default data directory: if the members' --data-dir differs, use theirs here.`
      : '';
  const manifestNote = `${KUBEADM_MANIFESTS} is kubeadm's static pod folder; on other setups use the systemd lines, or however etcd is run there.`;

  // Titled without numbers here; numbered 1..n at the end, so optional steps never leave gaps or repeats.
  const steps: RunbookStep[] = [];

  if (input.kubernetes) {
    steps.push({
      title: 'Stop the Kubernetes API servers',
      note:
        'On every control-plane node, before etcd stops: as in Kubernetes’ own restore procedure, no API server may write to etcd while it is replaced or serve from a half-restored one. ' +
        `${KUBEADM_MANIFESTS}/kube-apiserver.yaml is kubeadm's place for it; adjust if yours differs.`,
      commands: [
        '# kubeadm (static pod): move the manifest out; the kubelet stops the pod',
        `sudo mv ${KUBEADM_MANIFESTS}/kube-apiserver.yaml /etc/kubernetes/kube-apiserver.yaml.stopped`,
        'sudo crictl ps --name kube-apiserver   # wait until this lists nothing',
        '# systemd:',
        'sudo systemctl stop kube-apiserver',
      ].join('\n'),
    });
  }

  steps.push({
    title: 'Copy the snapshot to every member and check it',
    note:
      `${t.why} Every member restores from the same file; the hash must read ${input.hashHex ?? '(see the snapshot record)'}` +
      `${input.revision !== null ? ` and the revision ${input.revision}` : ''}.` +
      (input.remoteDir === undefined
        ? ` ${DEFAULT_REMOTE_DIR} is only a suggestion: any folder on the host works, and the file holds every key, Secrets included.`
        : ''),
    commands: [
      ...members.flatMap((m) => {
        const h = q(host(m.peerURLs[0]));
        return [
          // -t: sudo may need to ask for a password. The folder is the ssh user's, so scp can write to it.
          `ssh -t ${h} ${q(`sudo install -d -m 700 -o "$(id -un)" ${q(remoteDir)}`)}`,
          `scp ${q(input.fileName)} ${h}:${q(file)}`,
        ];
      }),
      '# then on each member:',
      t.version === null ? 'etcd --version' : `${t.snapshotTool} version`,
      `${t.snapshotTool} snapshot status ${q(file)} -w table`,
    ].join('\n'),
  });

  steps.push({
    title: 'Stop etcd on every member',
    note: `All members at once: a restored member must never talk to one still running on the old data. ${manifestNote}`,
    commands: [
      '# systemd:',
      'sudo systemctl stop etcd',
      '# kubeadm (static pod): move the manifest out; the kubelet stops the pod',
      `sudo mv ${KUBEADM_MANIFESTS}/etcd.yaml /etc/kubernetes/etcd.yaml.stopped`,
      'sudo crictl ps --name etcd   # wait until this lists nothing',
    ].join('\n'),
  });

  const restoreCommand = (name: string, peerURLs: string, cluster: string): string =>
    [
      `sudo ${t.snapshotTool === 'etcdutl' ? 'etcdutl' : `env ${t.snapshotTool}`} snapshot restore ${q(file)} \\`,
      `  --name ${name} \\`,
      `  --initial-cluster ${cluster} \\`,
      `  --initial-cluster-token ${q(token)} \\`,
      `  --initial-advertise-peer-urls ${peerURLs} \\`,
      `  --data-dir ${q(restoredDir)}${bump.flags ? ' \\' : ''}`,
      ...(bump.flags ? [`  ${BUMP_FLAGS}`] : []),
    ].join('\n');
  const restoreNote =
    'Into a new data directory; the old one stays untouched until the switch. The same new token on every member.' +
    bump.note +
    dataDirNote;

  for (const m of members) {
    steps.push({
      title: `Restore on ${m.name} (${host(m.peerURLs[0])})`,
      note: restoreNote,
      commands: restoreCommand(q(m.name), q(m.peerURLs.join(',')), q(initialCluster)),
    });
  }
  if (members.length === 0) {
    steps.push({
      title: 'Restore on every member',
      note:
        'No member list was read, so names and peer URLs are not filled in: replace each <…> with the member’s own --name and --initial-advertise-peer-urls, the same on every member for --initial-cluster. ' +
        restoreNote,
      commands: restoreCommand('<name>', '<peer-url>', "'<name-1>=<peer-url-1>,<name-2>=<peer-url-2>,…'"),
    });
  }

  steps.push({
    title: 'Switch the data directory on every member',
    note: `Keep the old data until the restored cluster is confirmed healthy.${dataDirNote}`,
    commands: [
      `sudo mv ${q(dataDir)} ${q(`${dataDir}.before-restore-${input.snapshotId}`)}`,
      `sudo mv ${q(restoredDir)} ${q(dataDir)}`,
      '# systemd, when etcd runs as the etcd user:',
      `sudo chown -R etcd:etcd ${q(dataDir)}`,
    ].join('\n'),
  });

  steps.push({
    title: 'Start every member, then check',
    note: input.kubernetes
      ? 'Start them within a few seconds of each other so they elect a leader. Go on only when every member reports healthy.'
      : 'Start them within a few seconds of each other so they elect a leader. Clients then see the snapshot’s data.',
    commands: [
      '# systemd:',
      'sudo systemctl start etcd',
      '# kubeadm (static pod):',
      `sudo mv /etc/kubernetes/etcd.yaml.stopped ${KUBEADM_MANIFESTS}/etcd.yaml`,
      '# then on one member, with the client certificate (--cacert, --cert, --key) if clients use TLS:',
      `${t.etcdctl} endpoint health --cluster -w table`,
      `${t.etcdctl} member list -w table`,
    ].join('\n'),
  });

  if (input.kubernetes) {
    steps.push({
      title: 'Start the Kubernetes API servers again',
      note:
        'Only once etcd is healthy. As Kubernetes’ restore procedure advises, restart kube-controller-manager, kube-scheduler and the kubelets too, so none keeps state from before the restore; ' +
        `controllers then reconcile to the restored state: expect pods to be recreated or removed. The paths are kubeadm's defaults.`,
      commands: [
        '# kubeadm (static pod), on every control-plane node:',
        `sudo mv /etc/kubernetes/kube-apiserver.yaml.stopped ${KUBEADM_MANIFESTS}/kube-apiserver.yaml`,
        "sudo crictl stop $(sudo crictl ps -q --name 'kube-controller-manager|kube-scheduler')",
        '# systemd:',
        'sudo systemctl start kube-apiserver',
        '# then on every node:',
        'sudo systemctl restart kubelet',
      ].join('\n'),
    });
  }

  return steps.map((s, i) => ({ ...s, title: `${i + 1}. ${s.title}` }));
}
