import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { processOfCommand } from './specs.js';
import type { EnvVar, ProcessEnv } from './env-check.js';

/** A rendered Kubernetes object, as parsed from YAML (its shape is checked by k8s-schema.ts). */
export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> } };

type Obj = Record<string, unknown>;
const obj = (x: unknown): Obj => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : {});
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : typeof x === 'number' ? String(x) : undefined);

/** Where each process answers /healthz (deploy/image/health-ports.json, what the image's check reads). */
export const HEALTH_PORTS = JSON.parse(readFileSync(new URL('../../../deploy/image/health-ports.json', import.meta.url), 'utf8')) as Record<string, { env: string; default: number } | string>;

/** Every object of a multi-document YAML text (empty documents dropped); throws on a YAML error. */
export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const o: unknown = doc.toJS();
    if (o !== null && o !== undefined) out.push(o as K8sObject);
  }
  return out;
}

/** A container of a workload, with its pod spec and the object it came from. */
export interface WorkloadContainer {
  object: K8sObject;
  pod: Obj;
  container: Obj;
  where: string;
}

/** The containers (init containers included) of every Deployment, StatefulSet, DaemonSet and Job. */
export function workloadContainers(objects: readonly K8sObject[]): WorkloadContainer[] {
  const out: WorkloadContainer[] = [];
  for (const o of objects) {
    if (!['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind)) continue;
    const pod = obj(obj(obj(o['spec'])['template'])['spec']);
    for (const c of [...arr(pod['initContainers']), ...arr(pod['containers'])]) {
      const container = obj(c);
      out.push({ object: o, pod, container, where: `${o.kind}/${o.metadata.name} container ${str(container['name'])}` });
    }
  }
  return out;
}

/** The environment of each container, for the cross-check against the config schemas. */
export function processEnvs(containers: readonly WorkloadContainer[]): { envs: ProcessEnv[]; problems: string[] } {
  const envs: ProcessEnv[] = [];
  const problems: string[] = [];
  for (const { container, where } of containers) {
    const args = [...arr(container['command']), ...arr(container['args'])].map((a) => str(a) ?? '');
    const process = processOfCommand(args);
    if (!process) {
      problems.push(`${where}: runs ${JSON.stringify(args)}, none of Parley's processes`);
      continue;
    }
    if (container['envFrom'] !== undefined) problems.push(`${where}: envFrom hides variable names from the check; list each variable in env`);
    const env: EnvVar[] = arr(container['env']).map((e) => {
      const entry = obj(e);
      const ref = obj(obj(entry['valueFrom'])['secretKeyRef']);
      const name = str(entry['name']) ?? '';
      if (entry['valueFrom'] !== undefined) return { name, secretRef: `${str(ref['name']) ?? '?'}/${str(ref['key']) ?? '?'}` };
      return { name, value: str(entry['value']) ?? '' };
    });
    envs.push({ where, process, env, secretsByReference: true });
  }
  return { envs, problems };
}

function envValue(container: Obj, name: string): string | undefined {
  const e = arr(container['env']).map(obj).find((x) => x['name'] === name);
  return e ? str(e['value']) : undefined;
}

/** A probe's or Service's port (a number, or the name of a container port) as a number. */
function resolvePort(container: Obj, port: unknown): number | undefined {
  if (typeof port === 'number') return port;
  const named = arr(container['ports']).map(obj).find((p) => p['name'] === port);
  return named ? Number(named['containerPort']) : undefined;
}

/**
 * What Kubernetes cannot tell before it runs: container ports that no variable opens, probes on
 * the wrong path or port, a grace period shorter than the shutdown the service was promised,
 * and Services, autoscalers and budgets that select nothing.
 */
export function checkWorkloads(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const containers = workloadContainers(objects);
  for (const { object, pod, container, where } of containers) {
    if (object.kind === 'Job') continue;
    const args = [...arr(container['command']), ...arr(container['args'])].map((a) => str(a) ?? '');
    const svc = processOfCommand(args);
    const portVars = arr(container['env']).map(obj).filter((e) => /_PORT$/.test(str(e['name']) ?? '')).map((e) => Number(str(e['value'])));
    for (const p of arr(container['ports']).map(obj)) {
      if (!portVars.includes(Number(p['containerPort']))) problems.push(`${where}: containerPort ${String(p['containerPort'])} (${String(p['name'])}) is opened by none of its *_PORT variables`);
    }
    const health = svc ? HEALTH_PORTS[svc] : undefined;
    if (health && typeof health !== 'string') {
      const expected = Number(envValue(container, health.env) ?? health.default);
      for (const [probe, path] of [['readinessProbe', '/readyz'], ['livenessProbe', '/healthz']] as const) {
        const get = obj(obj(container[probe])['httpGet']);
        if (container[probe] === undefined) {
          problems.push(`${where}: has no ${probe}`);
          continue;
        }
        if (get['path'] !== path) problems.push(`${where}: ${probe} asks ${String(get['path'])}, not ${path}`);
        const port = resolvePort(container, get['port']);
        if (port !== expected) problems.push(`${where}: ${probe} on port ${String(port)}, but ${svc} answers on ${health.env}=${expected}`);
      }
    }
    const shutdownMs = Number(envValue(container, 'SHUTDOWN_TIMEOUT_MS') ?? 15000);
    const preStop = arr(obj(obj(obj(container['lifecycle'])['preStop'])['exec'])['command']).map((a) => str(a) ?? '');
    const sleep = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
    const grace = Number(pod['terminationGracePeriodSeconds'] ?? 30);
    if (grace <= sleep + shutdownMs / 1000) {
      problems.push(`${where}: terminationGracePeriodSeconds ${grace} does not cover the preStop sleep (${sleep} s) and SHUTDOWN_TIMEOUT_MS (${shutdownMs / 1000} s): the kubelet would kill it mid-drain`);
    }
  }
  problems.push(...checkSelectors(objects, containers), ...checkPeers(objects, containers));
  return problems;
}

function selects(selector: Obj, labels: Obj): boolean {
  const wanted = Object.entries(selector);
  return wanted.length > 0 && wanted.every(([k, v]) => labels[k] === v);
}

function checkSelectors(objects: readonly K8sObject[], containers: readonly WorkloadContainer[]): string[] {
  const problems: string[] = [];
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  for (const o of objects) {
    const spec = obj(o['spec']);
    if (o.kind === 'Service') {
      const target = deployments.find((d) => selects(obj(spec['selector']), obj(obj(obj(obj(d['spec'])['template'])['metadata'])['labels'])));
      if (!target) {
        problems.push(`Service/${o.metadata.name}: its selector matches no Deployment`);
        continue;
      }
      const c = containers.find((x) => x.object === target);
      for (const p of arr(spec['ports']).map(obj)) {
        if (c && resolvePort(c.container, p['targetPort']) === undefined) problems.push(`Service/${o.metadata.name}: targetPort ${String(p['targetPort'])} is no port of Deployment/${target.metadata.name}`);
      }
    } else if (o.kind === 'PodDisruptionBudget') {
      if (!deployments.some((d) => selects(obj(obj(spec['selector'])['matchLabels']), obj(obj(obj(obj(d['spec'])['template'])['metadata'])['labels'])))) problems.push(`PodDisruptionBudget/${o.metadata.name}: selects no Deployment`);
    } else if (o.kind === 'HorizontalPodAutoscaler') {
      const ref = obj(spec['scaleTargetRef']);
      const target = deployments.find((d) => d.metadata.name === ref['name']);
      if (!target) problems.push(`HorizontalPodAutoscaler/${o.metadata.name}: scales ${String(ref['name'])}, which is no Deployment here`);
      else if (obj(target['spec'])['replicas'] !== undefined) problems.push(`Deployment/${target.metadata.name}: sets replicas although an autoscaler owns them (every upgrade would reset the count)`);
    }
  }
  return problems;
}

/** Addresses of Parley's own services (`*_SVC_GRPC_ADDR`, `WEB_*_URL`) must name a Service and one of its ports. */
function checkPeers(objects: readonly K8sObject[], containers: readonly WorkloadContainer[]): string[] {
  const problems: string[] = [];
  const services = new Map(objects.filter((o) => o.kind === 'Service').map((s) => [s.metadata.name, arr(obj(s['spec'])['ports']).map((p) => Number(obj(p)['port']))]));
  for (const { container, where } of containers) {
    for (const e of arr(container['env']).map(obj)) {
      const name = str(e['name']) ?? '';
      const value = str(e['value']);
      if (value === undefined || !(/_SVC_GRPC_ADDR$/.test(name) || /^WEB_.*_URL$/.test(name))) continue;
      const m = /^(?:[a-z]+:\/\/)?([^:/]+):(\d+)/.exec(value);
      const ports = m ? services.get(m[1]!) : undefined;
      if (!m || !ports) problems.push(`${where}: ${name}=${value} names no Service of this release`);
      else if (!ports.includes(Number(m[2]))) problems.push(`${where}: ${name}=${value}: Service ${m[1]} has no port ${m[2]} (it has ${ports.join(', ')})`);
    }
  }
  return problems;
}
