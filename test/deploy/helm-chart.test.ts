// The Helm chart, with real helm and kubeconform: lint, golden renders of the main value sets, every object valid
// against Kubernetes' and the CRDs' schemas, bad values refused by name, and the pods' security properties.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { configFileSchema } from '@/lib/config/config-schema';
import { ensureDeployTools, type DeployTools } from '../../scripts/lib/deploy-tools';
import {
  KEY_COPY_CONTAINER,
  KUBEADM_CLIENT_FILES,
  kubeconform,
  parseManifests,
  podSecurityProblems,
  podSpecOf,
  runHelm,
  type HelmRun,
  type K8sObject,
} from '../support/kubernetes-objects';

const ROOT = path.resolve(__dirname, '..', '..');
const CHART = path.join(ROOT, 'deploy', 'helm', 'etcd-dashboard');
const GOLDEN = path.join(__dirname, 'golden');
const VALUES = path.join(__dirname, 'values');
const RELEASE = ['etcd-dashboard', CHART, '--namespace', 'etcd-dashboard'];

/** The value sets with a golden file each: test/deploy/values/<name>.yaml over the chart's defaults. */
const CASES = {
  defaults: { controlPlane: true },
  'secret-ingress-monitoring': { controlPlane: false },
  'control-plane-httproute': { controlPlane: true },
  'existing-claim-configmap': { controlPlane: false },
} as const;
type CaseName = keyof typeof CASES;
const CASE_NAMES = Object.keys(CASES) as CaseName[];

function valuesArgs(name: CaseName): string[] {
  return name === 'defaults' ? [] : ['--values', path.join(VALUES, `${name}.yaml`)];
}

let tools: DeployTools;
const rendered = new Map<CaseName, string>();

function helm(args: string[]): HelmRun {
  return runHelm(tools, args, ROOT);
}

function template(args: string[]): string {
  const run = helm(['template', ...RELEASE, ...args]);
  if (run.status !== 0) throw new Error(`helm template ${args.join(' ')} failed:\n${run.stderr}`);
  return run.stdout;
}

/** helm's error for values it must refuse; the render must fail. */
function refusal(args: string[]): string {
  const run = helm(['template', ...RELEASE, ...args]);
  expect(run.status, `helm template ${args.join(' ')} rendered:\n${run.stdout.slice(0, 400)}`).not.toBe(0);
  return run.stderr;
}

function objects(name: CaseName): K8sObject[] {
  return parseManifests(rendered.get(name) ?? '');
}

function deploymentOf(list: K8sObject[]): K8sObject {
  const deployment = list.find((o) => o.kind === 'Deployment');
  if (deployment === undefined) throw new Error('no Deployment rendered');
  return deployment;
}

beforeAll(() => {
  // Builds helm and kubeconform the first time (about 4 minutes on 2 cores), then only finds them.
  tools = ensureDeployTools();
  for (const name of CASE_NAMES) rendered.set(name, template(valuesArgs(name)));
}, 20 * 60_000);

describe('Chart.yaml', () => {
  it('carries the app version of package.json and the oldest Kubernetes the schemas are checked against', () => {
    const chart = parseYaml(readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, string>;
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(chart.apiVersion).toBe('v2');
    expect(chart.appVersion).toBe(pkg.version);
    expect(chart.kubeVersion).toBe(`>=${tools.kubernetesVersions[0]}-0`);
  });
});

describe('helm lint --strict', () => {
  it.each(CASE_NAMES)('passes with the %s values', (name) => {
    const run = helm(['lint', '--strict', CHART, ...valuesArgs(name)]);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });
});

describe('golden renders', () => {
  it.each(CASE_NAMES)('%s renders exactly test/deploy/golden/<name>.yaml', (name) => {
    const file = path.join(GOLDEN, `${name}.yaml`);
    const actual = rendered.get(name) ?? '';
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(file, actual);
    }
    expect(existsSync(file), `${file} is missing: UPDATE_GOLDEN=1 npx vitest run test/deploy/helm-chart.test.ts`).toBe(
      true,
    );
    // A string diff, line by line; when the change is intended, UPDATE_GOLDEN=1 rewrites the files.
    expect(
      actual,
      `the render differs from ${path.relative(ROOT, file)}; if intended, rerun with UPDATE_GOLDEN=1`,
    ).toBe(readFileSync(file, 'utf8'));
  });
});

describe('schemas', () => {
  it.each(CASE_NAMES)(
    'every object of %s is valid for the oldest and newest Kubernetes tested (kubeconform -strict)',
    (name) => {
      const manifests = rendered.get(name) ?? '';
      const count = objects(name).length;
      for (const version of tools.kubernetesVersions) {
        const results = kubeconform(tools, manifests, version);
        expect(results.map((r) => `${r.kind}/${r.name}: ${r.status} ${r.msg ?? ''}`.trim())).toEqual(
          results.map((r) => `${r.kind}/${r.name}: statusValid`),
        );
        expect(results).toHaveLength(count);
      }
    },
  );

  it('covers both custom resources with their CRDs (a field they lack is refused)', () => {
    const manifests = rendered.get('secret-ingress-monitoring') ?? '';
    const broken = manifests.replace('      path: /metrics\n', '      path: /metrics\n      bogusField: true\n');
    expect(broken).not.toBe(manifests);
    const verdict = kubeconform(tools, broken, '1.37.0').find((r) => r.kind === 'ServiceMonitor');
    expect(verdict?.status).toBe('statusInvalid');
    expect(verdict?.msg).toContain('bogusField');
    const route = kubeconform(tools, rendered.get('control-plane-httproute') ?? '', '1.37.0');
    expect(route.map((r) => r.kind)).toContain('HTTPRoute');
  });

  it('renders a config file the dashboard itself accepts, naming mounted files for every credential', () => {
    for (const name of ['secret-ingress-monitoring', 'control-plane-httproute'] as const) {
      const configMap = objects(name).find((o) => o.kind === 'ConfigMap');
      const text = (configMap?.data as Record<string, string> | undefined)?.['config.yaml'];
      expect(text, `${name} renders no config.yaml`).toBeDefined();
      const parsed = configFileSchema.safeParse(parseYaml(text ?? ''));
      expect(parsed.error?.issues ?? []).toEqual([]);
      const cluster = parsed.data?.clusters[0];
      expect(cluster?.tls).toEqual({
        ca: '/etc/etcd-dashboard/pki/ca.crt',
        cert: '/etc/etcd-dashboard/pki/tls.crt',
        key: '/etc/etcd-dashboard/pki/tls.key',
      });
    }
    const offsite = parseYaml(
      (objects('secret-ingress-monitoring').find((o) => o.kind === 'ConfigMap')?.data as Record<string, string>)[
        'config.yaml'
      ] ?? '',
    ).clusters[0].snapshots.offsite;
    expect(offsite.secretAccessKeyFile).toBe('/etc/etcd-dashboard/s3/secret-access-key');
    expect(offsite.secretAccessKey).toBeUndefined();
  });
});

describe('the values schema and the chart refuse what cannot work, naming the value', () => {
  it('refuses a second replica', () => {
    expect(refusal(['--set', 'replicaCount=2'])).toContain("at '/replicaCount': value must be 1");
  });

  it('refuses a misspelt key', () => {
    expect(refusal(['--set', 'persistance.enabled=false'])).toMatch(/additional properties 'persistance' not allowed/);
  });

  it('refuses a wrong type', () => {
    expect(refusal(['--set-string', 'persistence.enabled=true'])).toContain(
      "at '/persistence/enabled': got string, want boolean",
    );
  });

  it('refuses an unknown certificate source', () => {
    expect(refusal(['--set', 'etcd.clientCertificate.source=Secret'])).toContain(
      "at '/etcd/clientCertificate/source': value must be one of 'controlPlane', 'secret', 'none'",
    );
  });

  it('refuses an S3 secret key written into the values (it would land in a ConfigMap)', () => {
    const stderr = refusal([
      ...valuesArgs('secret-ingress-monitoring'),
      '--set',
      'config.cluster.snapshots.offsite.secretAccessKey=wJalrXUtnFEMI',
    ]);
    expect(stderr).toMatch(/offsite.*additional properties 'secretAccessKey' not allowed/s);
    expect(stderr).not.toContain('wJalrXUtnFEMI');
  });

  it('refuses a Slack receiver in the rendered ConfigMap (its URL is a credential)', () => {
    const stderr = refusal([
      ...valuesArgs('secret-ingress-monitoring'),
      '--set-json',
      'config.cluster.alerts.receivers=[{"type":"slack","name":"s","url":"https://hooks.slack.com/services/T/B/x"}]',
    ]);
    expect(stderr).toMatch(/receivers\/0\/type/);
  });

  it('asks for endpoints when the certificate is not the control plane’s', () => {
    expect(refusal(['--set', 'etcd.clientCertificate.source=secret'])).toContain(
      "etcd.endpoints: list the members' client URLs",
    );
  });

  it('refuses config file settings it cannot render for the node-IP default', () => {
    expect(refusal(['--set', 'config.file.pollIntervalMs=2000'])).toContain('list the members');
  });
});

describe('the chart README', () => {
  it('lists every value of values.yaml in its table', () => {
    const readme = readFileSync(path.join(CHART, 'README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| (.+?) \|/gm)].flatMap((m) =>
      [...(m[1] ?? '').matchAll(/`([^`]+)`/g)].map((k) => k[1] ?? ''),
    );
    const keys: string[] = [];
    const walk = (node: Record<string, unknown>, prefix: string) => {
      for (const [key, value] of Object.entries(node)) {
        const at = prefix === '' ? key : `${prefix}.${key}`;
        const isMap = value !== null && typeof value === 'object' && !Array.isArray(value);
        if (isMap && Object.keys(value).length > 0) walk(value as Record<string, unknown>, at);
        else keys.push(at);
      }
    };
    walk(parseYaml(readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>, '');
    // A row may document a group: `resources` covers resources.requests.cpu.
    const missing = keys.filter((k) => !documented.some((d) => k === d || k.startsWith(`${d}.`)));
    expect(missing).toEqual([]);
  });
});

describe('what a reviewer checks', () => {
  it.each(CASE_NAMES)('%s: no privilege, read-only root, uid 65532, probes on /healthz and /readyz', (name) => {
    const spec = podSpecOf(deploymentOf(objects(name)));
    const controlPlane = CASES[name].controlPlane;
    expect(podSecurityProblems(spec, { hostPaths: controlPlane ? KUBEADM_CLIENT_FILES : [] })).toEqual([]);
    // uid 0 only in the key copy, and that only where kubeadm's root-only key is read.
    expect((spec.initContainers ?? []).map((c) => c.name)).toEqual(controlPlane ? [KEY_COPY_CONTAINER] : []);
  });

  it.each(CASE_NAMES)('%s: one replica, replaced by Recreate (SQLite on a ReadWriteOnce volume)', (name) => {
    const spec = deploymentOf(objects(name)).spec as { replicas: number; strategy: { type: string } };
    expect(spec.replicas).toBe(1);
    expect(spec.strategy.type).toBe('Recreate');
  });

  it.each(CASE_NAMES)('%s: renders no Secret, and no credential into a ConfigMap or an environment value', (name) => {
    const list = objects(name);
    expect(list.map((o) => o.kind)).not.toContain('Secret');
    const configText = JSON.stringify(list.filter((o) => o.kind === 'ConfigMap'));
    for (const secretish of [
      /secretAccessKey"?:/,
      /passwordHash/,
      /PRIVATE KEY/,
      /Authorization/i,
      /hooks\.slack\.com/,
    ]) {
      expect(configText).not.toMatch(secretish);
    }
    const env = podSpecOf(deploymentOf(list)).containers.flatMap((c) => c.env ?? []);
    const password = env.find((e) => e.name === 'DASHBOARD_ADMIN_PASSWORD');
    if (password !== undefined) expect(password).toEqual(expect.objectContaining({ valueFrom: expect.anything() }));
  });

  it('control-plane mode runs on control-plane nodes, mounts only the three kubeadm files read-only, not hostNetwork', () => {
    const spec = podSpecOf(deploymentOf(objects('defaults'))) as ReturnType<typeof podSpecOf> & {
      nodeSelector?: Record<string, string>;
      tolerations?: unknown[];
    };
    expect(spec.hostNetwork).toBeUndefined();
    expect(spec.nodeSelector).toEqual({ 'node-role.kubernetes.io/control-plane': '' });
    expect(spec.tolerations).toContainEqual({
      key: 'node-role.kubernetes.io/control-plane',
      operator: 'Exists',
      effect: 'NoSchedule',
    });
    const hostPaths = (spec.volumes ?? []).flatMap((v) => (v.hostPath ? [v.hostPath] : []));
    expect(hostPaths).toEqual(KUBEADM_CLIENT_FILES.map((p) => ({ path: p, type: 'File' })));
    const env = spec.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'ETCDCTL_ENDPOINTS')?.value).toBe('https://$(NODE_IP):2379');
    expect(env.find((e) => e.name === 'NODE_IP')?.valueFrom).toEqual({ fieldRef: { fieldPath: 'status.hostIP' } });
  });

  it('mounts a config file from an existing Secret read-only, readable by the dashboard’s group alone', () => {
    const manifests = template([
      ...valuesArgs('existing-claim-configmap'),
      ...['--set', 'config.existingConfigMap=', '--set', 'config.existingSecret=etcd-dashboard-config'],
    ]);
    expect(kubeconform(tools, manifests, '1.37.0').map((r) => r.status)).toEqual(['statusValid', 'statusValid']);
    const spec = podSpecOf(deploymentOf(parseManifests(manifests)));
    expect(spec.volumes?.find((v) => v.name === 'config')).toEqual({
      name: 'config',
      secret: {
        secretName: 'etcd-dashboard-config',
        defaultMode: 0o440,
        items: [{ key: 'dashboard.yaml', path: 'dashboard.yaml' }],
      },
    });
    expect(spec.containers[0]?.volumeMounts).toContainEqual({
      name: 'config',
      mountPath: '/etc/etcd-dashboard/config',
      readOnly: true,
    });
  });

  it('rolls the pod when the rendered config changes, through its checksum annotation', () => {
    const checksum = (text: string) =>
      ((deploymentOf(parseManifests(text)).spec as { template: { metadata: { annotations?: Record<string, string> } } })
        .template.metadata.annotations ?? {})['checksum/config'];
    const before = checksum(rendered.get('secret-ingress-monitoring') ?? '');
    const after = checksum(
      template([...valuesArgs('secret-ingress-monitoring'), '--set', 'config.file.pollIntervalMs=3000']),
    );
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(after).toMatch(/^[0-9a-f]{64}$/);
    expect(after).not.toBe(before);
  });
});

// The init container's script, run for real as the pod runs it: uid 0, gid 65532 and no capabilities at all
// (util-linux's setpriv empties the bounding set), over a root-only key; then read as the dashboard's uid 65532.
// Only root can play both users.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
describe.skipIf(process.getuid?.() !== 0 || SETPRIV === undefined)('the key copy', () => {
  it('makes kubeadm’s root-only key readable by the dashboard’s user, and again at the next start', () => {
    const init = podSpecOf(deploymentOf(objects('defaults'))).initContainers?.[0];
    const script = init?.command?.[2] ?? '';
    expect(init?.command?.slice(0, 2)).toEqual(['node', '-e']);
    const work = mkdtempSync(path.join(os.tmpdir(), 'key-copy-'));
    try {
      chmodSync(work, 0o755);
      const host = path.join(work, 'host');
      const pki = path.join(work, 'pki');
      mkdirSync(host, { mode: 0o700 });
      // An emptyDir: world-writable, as the kubelet makes it.
      mkdirSync(pki);
      chmodSync(pki, 0o777);
      for (const name of ['ca.crt', 'tls.crt', 'tls.key'])
        writeFileSync(path.join(host, name), `${name}\n`, { mode: 0o600 });
      const local = script.replaceAll('/etcd-pki-host/', `${host}/`).replaceAll('/etc/etcd-dashboard/pki/', `${pki}/`);
      expect(local).not.toBe(script);
      const asDashboard = { uid: 65532, gid: 65532, encoding: 'utf8' as const };
      const read = `process.stdout.write(require('node:fs').readFileSync(${JSON.stringify(path.join(pki, 'tls.key'))}, 'utf8'))`;
      const readHost = `require('node:fs').readFileSync(${JSON.stringify(path.join(host, 'tls.key'))})`;
      // The premise: the dashboard's user cannot read kubeadm's key.
      expect(spawnSync(process.execPath, ['-e', readHost], asDashboard).status).not.toBe(0);
      for (const start of ['first', 'second']) {
        const dropAll = ['--bounding-set=-all', '--inh-caps=-all', '--regid=65532', '--clear-groups'];
        const copy = spawnSync(SETPRIV ?? 'setpriv', [...dropAll, process.execPath, '-e', local], { encoding: 'utf8' });
        expect(copy.status, `${start} start: ${copy.stderr}`).toBe(0);
        const key = statSync(path.join(pki, 'tls.key'));
        expect({ mode: key.mode & 0o777, gid: key.gid }).toEqual({ mode: 0o440, gid: 65532 });
        const reading = spawnSync(process.execPath, ['-e', read], asDashboard);
        expect(reading.stdout, reading.stderr).toBe('tls.key\n');
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
