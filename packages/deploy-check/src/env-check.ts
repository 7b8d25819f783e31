import type { ConfigSpec, FieldSpec } from '@parley/config';

/** One variable a deployment gives a container: a literal value or a reference to a secret. */
export interface EnvVar {
  name: string;
  value?: string;
  secretRef?: string;
}

/** The environment of one container, and which of Parley's processes it runs. */
export interface ProcessEnv {
  /** Where it was found, for messages: `Deployment/parley-user-svc`, `compose service user-svc`. */
  where: string;
  process: string;
  env: readonly EnvVar[];
  /** Secret fields must come from a secret (Kubernetes), or may be literal (local compose). */
  secretsByReference: boolean;
}

/** A default that points at the process's own host: right for `make up`, nothing in a container. */
const LOOPBACK = /(^|[/@,\s])(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)([:/,]|$)/;

/**
 * Variables several processes read that are theirs alone (a log level, an ops port, a consumer
 * group, a NATS user): they may differ between processes. Every other variable two processes
 * read must have one value across the deployment (a topic, a stream, a keyspace, a peer).
 */
const PER_PROCESS = new Set(['LOG_LEVEL', 'SHUTDOWN_TIMEOUT_MS', 'OPS_HOST', 'OPS_PORT', 'KAFKA_GROUP_ID', 'NATS_URL', 'REDIS_URL']);

/** Variables with different names that must hold one value (a secret web-gateway shares). */
const SAME_VALUE_GROUPS: readonly (readonly string[])[] = [['WEB_PROXY_SECRET', 'USER_PROXY_SECRET', 'REALTIME_PROXY_SECRET']];

/**
 * A field a deployment must set: it has no default, its default points at the process's own host
 * (a peer, a server or a listen address that only works when everything runs on one machine), or
 * it is a port whose default 0 takes any free port (a probe or a peer needs a fixed one).
 */
export function isRequiredInDeployment(f: FieldSpec<unknown>): boolean {
  if (f.default === undefined) return true;
  if (LOOPBACK.test(f.default)) return true;
  return /_PORT$/.test(f.env) && f.default === '0';
}

/** The problems of one container's environment against its process's config schema. */
export function checkProcessEnv(p: ProcessEnv, spec: ConfigSpec): string[] {
  const problems: string[] = [];
  const fields = new Map(Object.values(spec).map((f) => [f.env, f]));
  const seen = new Set<string>();
  for (const v of p.env) {
    const f = fields.get(v.name);
    if (seen.has(v.name)) problems.push(`${p.where}: ${v.name} is set twice`);
    seen.add(v.name);
    if (!f) {
      const near = nearest(v.name, [...fields.keys()]);
      problems.push(`${p.where}: ${v.name} is not a variable of ${p.process}${near ? ` (did you mean ${near}?)` : ''}`);
      continue;
    }
    if (v.value === undefined) continue;
    if (f.secret && p.secretsByReference && v.value !== '') {
      problems.push(`${p.where}: ${v.name} is a secret: give it by reference to a Secret, not as a value`);
    }
    const parsed = f.schema.safeParse(v.value === '' && f.default !== undefined ? f.default : v.value);
    if (!parsed.success) {
      const shown = f.secret ? '<redacted>' : JSON.stringify(v.value);
      problems.push(`${p.where}: ${v.name} = ${shown} is invalid for ${p.process}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    }
  }
  for (const f of fields.values()) {
    const v = p.env.find((e) => e.name === f.env);
    if (!v) {
      if (isRequiredInDeployment(f)) problems.push(`${p.where}: ${f.env} is required by ${p.process} and not set (${f.default === undefined ? 'no default' : `its default ${f.default} only works on one machine`})`);
    } else if (v.value !== undefined && isRequiredInDeployment(f) && LOOPBACK.test(v.value)) {
      problems.push(`${p.where}: ${f.env} = ${f.secret ? '<redacted>' : JSON.stringify(v.value)} points at the container itself`);
    }
  }
  return problems;
}

/** What a process runs with for one variable: its literal, `secret:<ref>`, or the default. */
function effective(p: ProcessEnv, f: FieldSpec<unknown>): string | undefined {
  const v = p.env.find((e) => e.name === f.env);
  if (v?.secretRef !== undefined) return `secret:${v.secretRef}`;
  if (v?.value !== undefined && v.value !== '') return v.value;
  return f.default;
}

/** Variables read by several processes that must agree (a topic, a stream, a peer, a shared secret). */
export function checkAgreement(procs: readonly ProcessEnv[], specs: Readonly<Record<string, ConfigSpec>>): string[] {
  const byName = new Map<string, Array<{ where: string; value: string | undefined }>>();
  for (const p of procs) {
    const spec = specs[p.process];
    if (!spec) continue;
    for (const f of Object.values(spec)) {
      if (PER_PROCESS.has(f.env)) continue;
      const group = SAME_VALUE_GROUPS.find((g) => g.includes(f.env));
      const key = group ? group.join('|') : f.env;
      const list = byName.get(key) ?? [];
      list.push({ where: `${p.where} ${f.env}`, value: effective(p, f) });
      byName.set(key, list);
    }
  }
  const problems: string[] = [];
  for (const [key, list] of byName) {
    if (list.length < 2) continue;
    // Two references may hold one value under different credentials (a schema owner, a
    // service user): with a secret in play, only "given or not" can be compared.
    const byRef = list.some((l) => l.value?.startsWith('secret:'));
    const seen = new Set(list.map((l) => (byRef ? String((l.value ?? '') !== '') : (l.value ?? ''))));
    if (seen.size < 2) continue;
    const secret = byRef || key.includes('SECRET');
    const shown = list.map((l) => `${l.where}=${secret && !l.value?.startsWith('secret:') ? (l.value ? '<redacted>' : '(not set)') : JSON.stringify(l.value ?? '')}`);
    problems.push(`${key} must be one value across the deployment: ${shown.join(', ')}`);
  }
  return problems;
}

/** The closest known name within two edits, for "did you mean". */
export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}
