import { checkAgreement, checkProcessEnv, type ProcessEnv } from './env-check.js';
import { checkComposePeers, composeProcessEnvs, type ComposeFile } from './compose.js';
import { validateObjects } from './k8s-schema.js';
import { checkWorkloads, parseManifests, processEnvs, workloadContainers, type K8sObject } from './manifests.js';
import { PROCESS_SPECS } from './specs.js';

export { checkAgreement, checkProcessEnv, isRequiredInDeployment, nearest, type EnvVar, type ProcessEnv } from './env-check.js';
export { COMPOSE_FILE, parseCompose, readCompose, composeProcessEnvs, type ComposeFile } from './compose.js';
export { CHART_DIR, HELM_CACHE, KUBE_VERSION, REPO_ROOT, ensureHelmJars, runHelm, type HelmJob, type HelmResults } from './helm.js';
export { schemaName, validateObject, validateObjects } from './k8s-schema.js';
export { HEALTH_PORTS, checkWorkloads, parseManifests, processEnvs, workloadContainers, type K8sObject } from './manifests.js';
export { PROCESS_SPECS, SERVICES, processOfCommand } from './specs.js';
export { PROCESS_ENV_PATH, SHARED_ENV, VALUES_SCHEMA_PATH, generatedChartFiles, managedEnv, processEnvNames, valuesSchema, writeGeneratedChartFiles } from './values-schema.js';

function envProblems(envs: readonly ProcessEnv[]): string[] {
  return [...envs.flatMap((e) => checkProcessEnv(e, PROCESS_SPECS[e.process]!)), ...checkAgreement(envs, PROCESS_SPECS)];
}

/**
 * Everything that can be known about a rendered chart without a cluster: each object against
 * the Kubernetes schemas (strictly), each container's environment against its process's config
 * schema, the values several processes must share, probes, ports, grace periods and selectors.
 */
export async function checkRenderedChart(yaml: string): Promise<{ objects: K8sObject[]; envs: ProcessEnv[]; problems: string[] }> {
  const objects = parseManifests(yaml);
  const schema = (await validateObjects(objects)).map((p) => `${p.object}: ${p.message}`);
  const { envs, problems } = processEnvs(workloadContainers(objects));
  return { objects, envs, problems: [...schema, ...problems, ...envProblems(envs), ...checkWorkloads(objects)] };
}

/** The compose file's Parley services against the config schemas (literal secrets allowed: local use). */
export function checkComposeFile(file: ComposeFile): { envs: ProcessEnv[]; problems: string[] } {
  const { envs, problems } = composeProcessEnvs(file);
  return { envs, problems: [...problems, ...envProblems(envs), ...checkComposePeers(file, envs)] };
}
