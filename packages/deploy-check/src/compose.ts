import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { EnvVar, ProcessEnv } from './env-check.js';
import { REPO_ROOT } from './helm.js';
import { processOfCommand } from './specs.js';

export const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');

type Obj = Record<string, unknown>;
const obj = (x: unknown): Obj => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : {});

export interface ComposeFile {
  services: Record<string, Obj>;
}

export function parseCompose(text: string): ComposeFile {
  return { services: Object.fromEntries(Object.entries(obj(obj(parse(text, { merge: true }))['services'])).map(([k, v]) => [k, obj(v)])) };
}

export function readCompose(path = COMPOSE_FILE): ComposeFile {
  return parseCompose(readFileSync(path, 'utf8'));
}

function commandOf(svc: Obj): string[] {
  const c = svc['command'];
  if (typeof c === 'string') return c.split(/\s+/);
  return Array.isArray(c) ? c.map(String) : [];
}

function environmentOf(svc: Obj): EnvVar[] {
  const e = svc['environment'];
  if (Array.isArray(e)) {
    return e.map(String).map((kv) => (kv.includes('=') ? { name: kv.slice(0, kv.indexOf('=')), value: kv.slice(kv.indexOf('=') + 1) } : { name: kv, secretRef: 'host environment' }));
  }
  return Object.entries(obj(e)).map(([name, v]) => (v === null ? { name, secretRef: 'host environment' } : { name, value: String(v) }));
}

/**
 * The compose services that run one of Parley's processes (from their command), with their
 * environment. Services that run one of Parley's images but no known process are problems: a
 * renamed entry point would otherwise be skipped silently.
 */
export function composeProcessEnvs(file: ComposeFile): { envs: ProcessEnv[]; problems: string[] } {
  const envs: ProcessEnv[] = [];
  const problems: string[] = [];
  for (const [name, svc] of Object.entries(file.services)) {
    const ours = svc['build'] !== undefined || (typeof svc['image'] === 'string' && /^parley[:/]|\/parley:/.test(svc['image']));
    if (!ours) continue;
    const process = processOfCommand(commandOf(svc));
    if (!process) {
      problems.push(`compose service ${name}: builds Parley's image but runs ${JSON.stringify(commandOf(svc))}, none of its processes`);
      continue;
    }
    if (svc['env_file'] !== undefined) problems.push(`compose service ${name}: env_file hides variable names from the check; list them under environment`);
    envs.push({ where: `compose service ${name}`, process, env: environmentOf(svc), secretsByReference: false });
  }
  return { envs, problems };
}

/** Parley's own peers in compose (`*_SVC_GRPC_ADDR`, `WEB_*_URL`) must name a compose service. */
export function checkComposePeers(file: ComposeFile, envs: readonly ProcessEnv[]): string[] {
  const problems: string[] = [];
  for (const p of envs) {
    for (const v of p.env) {
      if (v.value === undefined || !(/_SVC_GRPC_ADDR$/.test(v.name) || /^WEB_.*_URL$/.test(v.name))) continue;
      const host = /^(?:[a-z]+:\/\/)?([^:/]+):\d+/.exec(v.value)?.[1];
      if (!host || !(host in file.services)) problems.push(`${p.where}: ${v.name}=${v.value} names no compose service`);
    }
  }
  return problems;
}
