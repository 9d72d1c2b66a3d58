// Kubernetes manifests in the deployment tests: helm run in isolation, kubeconform's verdict on what it renders, and
// the security properties of their pods that a reviewer checks by eye.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { DeployTools } from '../../scripts/lib/deploy-tools';

export type K8sObject = Record<string, unknown> & { kind: string; metadata: { name: string } };

/**
 * Every non-empty document, as plain objects (helm separates templates with "---" and leaves empty ones). Read as
 * YAML 1.1, as Kubernetes' Go YAML reads them: 0440 is octal there, and `off` a boolean.
 */
export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text, { version: '1.1' })
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`not YAML: ${doc.errors[0]?.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

export interface HelmRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** helm with a private HOME and none of the caller's HELM_* settings or kubeconfig: no repository, plugin or cluster takes part. */
export function runHelm(tools: DeployTools, args: string[], cwd: string): HelmRun {
  const home = mkdtempSync(path.join(os.tmpdir(), 'helm-home-'));
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      XDG_CACHE_HOME: home,
      XDG_CONFIG_HOME: home,
      XDG_DATA_HOME: home,
    };
    for (const name of Object.keys(env)) if (name.startsWith('HELM_') || name === 'KUBECONFIG') delete env[name];
    const run = spawnSync(tools.helm, args, { cwd, env, encoding: 'utf8' });
    if (run.error !== undefined) throw new Error(`helm: ${run.error.message}`);
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

export interface KubeconformResult {
  kind: string;
  name: string;
  status: string;
  msg?: string;
}

/** kubeconform -strict over the manifests against one Kubernetes release's schemas and the CRDs'; each object's verdict. */
export function kubeconform(tools: DeployTools, manifests: string, kubernetesVersion: string): KubeconformResult[] {
  const args = ['-strict', '-summary', '-verbose', '-output', 'json', '-kubernetes-version', kubernetesVersion];
  for (const location of tools.schemaLocations) args.push('-schema-location', location);
  const run = spawnSync(tools.kubeconform, [...args, '-'], { input: manifests, encoding: 'utf8' });
  if (run.error !== undefined) throw new Error(`kubeconform: ${run.error.message}`);
  try {
    return (JSON.parse(run.stdout) as { resources: KubeconformResult[] }).resources;
  } catch {
    throw new Error(`kubeconform printed no JSON (exit ${run.status}): ${run.stdout}${run.stderr}`);
  }
}

type Container = {
  name: string;
  command?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] } };
  livenessProbe?: { httpGet?: { path?: string } };
  readinessProbe?: { httpGet?: { path?: string } };
  startupProbe?: { httpGet?: { path?: string } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
};

export type PodSpec = {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown> & { seccompProfile?: { type?: string } };
  initContainers?: Container[];
  containers: Container[];
  volumes?: Array<{ name: string; hostPath?: { path: string; type?: string } } & Record<string, unknown>>;
};

/** The pod spec of a Pod, or of a Deployment's template. */
export function podSpecOf(object: K8sObject): PodSpec {
  if (object.kind === 'Pod') return object.spec as PodSpec;
  return (object.spec as { template: { spec: PodSpec } }).template.spec;
}

/** The one container that may run as uid 0: it copies kubeadm's root-only key, and exits. */
export const KEY_COPY_CONTAINER = 'copy-etcd-client-key';

/** kubeadm's files a pod may mount from the node; the CA's key and the members' keys beside them never. */
export const KUBEADM_CLIENT_FILES = [
  '/etc/kubernetes/pki/etcd/ca.crt',
  '/etc/kubernetes/pki/etcd/healthcheck-client.crt',
  '/etc/kubernetes/pki/etcd/healthcheck-client.key',
];

/**
 * What is wrong with a pod's security, one line each (empty when nothing): privileges, capabilities, root, writable
 * root filesystem, host namespaces beyond `allow`, host paths, probes, credentials in plain environment values.
 */
export function podSecurityProblems(
  spec: PodSpec,
  allow: { hostNetwork?: boolean; hostPaths?: string[] } = {},
): string[] {
  const problems: string[] = [];
  if (spec.hostNetwork === true && allow.hostNetwork !== true) problems.push('hostNetwork is on');
  if (spec.hostPID === true || spec.hostIPC === true) problems.push('shares the host PID or IPC namespace');
  if (spec.automountServiceAccountToken !== false) problems.push('mounts a service account token');
  if (spec.securityContext?.seccompProfile?.type !== 'RuntimeDefault') problems.push('no RuntimeDefault seccomp');
  const all = [...(spec.initContainers ?? []), ...spec.containers];
  for (const c of all) {
    const sc = c.securityContext ?? {};
    const at = `container ${c.name}:`;
    if (sc.privileged === true) problems.push(`${at} privileged`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${at} allowPrivilegeEscalation is not false`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${at} root filesystem is writable`);
    if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]') problems.push(`${at} does not drop ALL capabilities`);
    if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${at} adds capabilities`);
    const root = sc.runAsUser === 0 || sc.runAsNonRoot !== true;
    if (root && c.name !== KEY_COPY_CONTAINER) problems.push(`${at} may run as root`);
    if (!root && (sc.runAsUser !== 65532 || sc.runAsGroup !== 65532)) problems.push(`${at} is not uid/gid 65532`);
    for (const e of c.env ?? []) {
      if (/PASSWORD|SECRET|TOKEN|KEY$/.test(e.name) && e.value !== undefined && !e.value.startsWith('/')) {
        problems.push(`${at} ${e.name} has a plain value`);
      }
    }
  }
  for (const c of spec.containers) {
    const at = `container ${c.name}:`;
    if (c.livenessProbe?.httpGet?.path !== '/healthz') problems.push(`${at} liveness probe is not /healthz`);
    if (c.startupProbe?.httpGet?.path !== '/healthz') problems.push(`${at} startup probe is not /healthz`);
    if (c.readinessProbe?.httpGet?.path !== '/readyz') problems.push(`${at} readiness probe is not /readyz`);
  }
  const hostVolumes = (spec.volumes ?? []).filter((v) => v.hostPath !== undefined);
  const allowedPaths = allow.hostPaths ?? [];
  for (const v of hostVolumes) {
    const hostPath = v.hostPath?.path ?? '';
    if (!allowedPaths.includes(hostPath)) problems.push(`volume ${v.name}: hostPath ${hostPath}`);
    const writers = all.filter((c) => (c.volumeMounts ?? []).some((m) => m.name === v.name && m.readOnly !== true));
    if (KUBEADM_CLIENT_FILES.includes(hostPath) && writers.length > 0) {
      problems.push(`volume ${v.name}: ${hostPath} mounted writable in ${writers.map((c) => c.name).join(', ')}`);
    }
  }
  return problems;
}
