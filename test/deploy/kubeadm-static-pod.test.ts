// The kubeadm static pod (deploy/kubeadm/etcd-dashboard.yaml): valid for the Kubernetes releases tested, usable as a
// static pod, on 127.0.0.1 only, as secure as the chart, and installed the way its README says.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureDeployTools, type DeployTools } from '../../scripts/lib/deploy-tools';
import {
  KEY_COPY_CONTAINER,
  KUBEADM_CLIENT_FILES,
  kubeconform,
  parseManifests,
  podSecurityProblems,
  podSpecOf,
  runHelm,
  type PodSpec,
} from '../support/kubernetes-objects';

const ROOT = path.resolve(__dirname, '..', '..');
const MANIFEST = path.join(ROOT, 'deploy', 'kubeadm', 'etcd-dashboard.yaml');
const README = path.join(ROOT, 'deploy', 'kubeadm', 'README.md');
const DATA_DIR = '/var/lib/etcd-dashboard';

let tools: DeployTools;
const text = readFileSync(MANIFEST, 'utf8');
const objects = parseManifests(text);
const pod = objects[0];
if (pod === undefined) throw new Error(`${MANIFEST} holds no object`);
const spec = podSpecOf(pod) as PodSpec & { priorityClassName?: string };
const dashboard = spec.containers[0];
const env = Object.fromEntries((dashboard?.env ?? []).map((e) => [e.name, e.value]));

beforeAll(() => {
  tools = ensureDeployTools();
}, 20 * 60_000);

describe('the static pod manifest', () => {
  it('is one Pod in kube-system, valid for the oldest and newest Kubernetes tested (kubeconform -strict)', () => {
    expect(objects.map((o) => o.kind)).toEqual(['Pod']);
    expect((pod.metadata as { namespace?: string }).namespace).toBe('kube-system');
    for (const version of tools.kubernetesVersions) {
      const results = kubeconform(tools, text, version);
      expect(results.map((r) => `${r.kind}/${r.name}: ${r.status} ${r.msg ?? ''}`.trim())).toEqual([
        'Pod/etcd-dashboard: statusValid',
      ]);
    }
  });

  it('uses nothing a static pod cannot have: no Secret, ConfigMap, claim or service account', () => {
    for (const apiObject of ['secretKeyRef', 'configMap', 'secret"', 'persistentVolumeClaim', 'serviceAccountName']) {
      expect(JSON.stringify(pod)).not.toContain(apiObject);
    }
  });

  it('is as locked down as the chart, with host network and kubeadm’s three client files as the only exceptions', () => {
    const problems = podSecurityProblems(spec, { hostNetwork: true, hostPaths: [...KUBEADM_CLIENT_FILES, DATA_DIR] });
    expect(problems).toEqual([]);
    expect((spec.initContainers ?? []).map((c) => c.name)).toEqual([KEY_COPY_CONTAINER]);
  });

  it('listens on 127.0.0.1 only, watches the local member, and is probed there', () => {
    expect(spec.hostNetwork).toBe(true);
    expect(env.HOSTNAME).toBe('127.0.0.1');
    expect(env.ETCDCTL_ENDPOINTS).toBe('https://127.0.0.1:2379');
    for (const probe of [dashboard?.startupProbe, dashboard?.livenessProbe, dashboard?.readinessProbe]) {
      expect(probe?.httpGet).toEqual(expect.objectContaining({ host: '127.0.0.1', port: Number(env.PORT) }));
    }
  });

  it('keeps its data in a folder made beforehand, and is not given a node-critical priority', () => {
    expect(env.DATA_DIR).toBe(DATA_DIR);
    expect(spec.volumes?.find((v) => v.hostPath?.path === DATA_DIR)?.hostPath?.type).toBe('Directory');
    expect(spec.priorityClassName).toBeUndefined();
  });

  it('copies the key with the very script the chart runs', () => {
    const run = runHelm(
      tools,
      ['template', 'etcd-dashboard', path.join(ROOT, 'deploy', 'helm', 'etcd-dashboard')],
      ROOT,
    );
    expect(run.status, run.stderr).toBe(0);
    const deployment = parseManifests(run.stdout).find((o) => o.kind === 'Deployment');
    const chartInit = deployment === undefined ? undefined : podSpecOf(deployment).initContainers?.[0];
    expect(spec.initContainers?.[0]?.command).toEqual(chartInit?.command);
    expect(spec.initContainers?.[0]?.securityContext).toEqual(chartInit?.securityContext);
  });

  it('is installed as its README says: data folder owned by 65532, manifest into /etc/kubernetes/manifests', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toContain(`install -d -o 65532 -g 65532 -m 0700 ${DATA_DIR}`);
    expect(readme).toContain('install -o root -g root -m 0600 etcd-dashboard.yaml /etc/kubernetes/manifests/');
  });
});
