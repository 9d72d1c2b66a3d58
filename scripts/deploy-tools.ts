// Command line for the deployment tests' tools (helm, kubeconform, their schemas): build or fetch them, or say where they are.
import { parseArgs } from 'node:util';
import {
  CRD_SOURCES,
  HELM,
  KUBECONFORM,
  KUBERNETES_SCHEMAS,
  deployTools,
  deployToolsDir,
  ensureDeployTools,
} from './lib/deploy-tools';
import { ALERTMANAGER, ensureMonitoringTools, PROMETHEUS } from './lib/monitoring-tools';

const usage = `usage: npx tsx scripts/deploy-tools.ts <command> [--json]

commands:
  ensure   build helm ${HELM.version} and kubeconform ${KUBECONFORM.version} with Go, fetch the Kubernetes schemas
           (${KUBERNETES_SCHEMAS.package} ${KUBERNETES_SCHEMAS.version}) and convert the CRDs (${CRD_SOURCES.map((s) => `${s.name} ${s.version}`).join(', ')});
           about 5 minutes on 2 cores the first time, nothing once cached; with --monitoring also Debian's
           ${PROMETHEUS.package} ${PROMETHEUS.version} and ${ALERTMANAGER.package} ${ALERTMANAGER.version} for the e2e suite
  which    print where they are; exit 1 when something is missing

They live in ${deployToolsDir()} (ETCD_DASHBOARD_CACHE moves it).`;

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      monitoring: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command] = positionals;
  if (values.help || command === undefined) {
    console.log(usage);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (command !== 'ensure' && command !== 'which') {
    console.error(`unknown command "${command}"\n\n${usage}`);
    return 2;
  }
  // First, as they are quick (a download) and the end-to-end suite, which needs them, runs before the deployment tests.
  if (command === 'ensure' && values.monitoring) ensureMonitoringTools();
  const tools = command === 'ensure' ? ensureDeployTools() : deployTools();
  if (tools === null) {
    console.error(`not all here: npx tsx scripts/deploy-tools.ts ensure`);
    return 1;
  }
  if (values.json) console.log(JSON.stringify(tools, null, 2));
  else
    console.log(
      [
        `helm         ${tools.helm}`,
        `kubeconform  ${tools.kubeconform}`,
        ...tools.schemaLocations.map((l) => `schemas      ${l}`),
      ].join('\n'),
    );
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`deploy-tools: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
