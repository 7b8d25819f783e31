/**
 * Validates rendered Kubernetes objects offline against the API's OpenAPI schemas, as compiled
 * by kubernetes-models (one validator per type), and strictly: a field the schema does not know
 * is an error, as `kubectl apply --validate=strict` makes it (the compiled validators alone let
 * unknown fields through, so a misspelt `readinesProbe` would pass).
 *
 * How unknown fields are found: the validator is handed the object behind a Proxy that records
 * every property it reads. A compiled JSON-schema validator reads each property its schema
 * defines (`data.x !== undefined`) and enumerates the keys of maps (labels, annotations); a key
 * of the object that was neither read nor enumerated is one the schema does not have.
 */
import { validate as validateDeployment } from 'kubernetes-models/_schemas/IoK8sApiAppsV1Deployment';

export interface SchemaProblem {
  object: string;
  message: string;
}

type Validator = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string; keyword: string; params?: unknown }> | null };

/** Validators by schema name, loaded on first use (the Deployment's is imported up front). */
const cache = new Map<string, Validator>([['IoK8sApiAppsV1Deployment', validateDeployment as unknown as Validator]]);

/** `apps/v1` + `Deployment` -> `IoK8sApiAppsV1Deployment` (the generator's naming). */
export function schemaName(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const groupName = group === '' ? 'Core' : group!.split('.')[0]!.replace(/^./, (c) => c.toUpperCase());
  return `IoK8sApi${groupName}${version!.replace(/^./, (c) => c.toUpperCase())}${kind}`;
}

async function validatorFor(apiVersion: string, kind: string): Promise<Validator | undefined> {
  const name = schemaName(apiVersion, kind);
  const hit = cache.get(name);
  if (hit) return hit;
  try {
    const mod = (await import(`kubernetes-models/_schemas/${name}`)) as { validate: Validator };
    cache.set(name, mod.validate);
    return mod.validate;
  } catch {
    return undefined;
  }
}

interface Seen {
  read: Map<string, Set<string>>;
  enumerated: Set<string>;
}

function watch(value: unknown, path: string, seen: Seen): unknown {
  if (value === null || typeof value !== 'object') return value;
  return new Proxy(value, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string') return v;
      let props = seen.read.get(path);
      if (!props) seen.read.set(path, (props = new Set()));
      props.add(prop);
      return watch(v, `${path}/${prop}`, seen);
    },
    ownKeys(target) {
      seen.enumerated.add(path);
      return Reflect.ownKeys(target);
    },
    has(target, prop) {
      if (typeof prop === 'string') {
        let props = seen.read.get(path);
        if (!props) seen.read.set(path, (props = new Set()));
        props.add(prop);
      }
      return Reflect.has(target, prop);
    },
  });
}

function unknownFields(value: unknown, path: string, seen: Seen, out: string[]): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => unknownFields(v, `${path}/${i}`, seen, out));
    return;
  }
  const known = seen.read.get(path);
  const isMap = seen.enumerated.has(path);
  for (const [k, v] of Object.entries(value)) {
    if (!isMap && !known?.has(k)) out.push(`${path || '/'}: unknown field "${k}"`);
    else unknownFields(v, `${path}/${k}`, seen, out);
  }
}

/** Every problem of one object: schema errors, then unknown fields. */
export async function validateObject(o: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }): Promise<string[]> {
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') return ['has no apiVersion or kind'];
  const validate = await validatorFor(o.apiVersion, o.kind);
  if (!validate) return [`no schema for ${o.apiVersion} ${o.kind} (not a Kubernetes type, or a removed API version)`];
  const seen: Seen = { read: new Map(), enumerated: new Set() };
  const problems: string[] = [];
  if (!validate(watch(o, '', seen))) {
    for (const e of validate.errors ?? []) problems.push(`${e.instancePath || '/'}: ${e.message ?? e.keyword} ${e.params ? JSON.stringify(e.params) : ''}`.trim());
  }
  unknownFields(o, '', seen, problems);
  return problems;
}

/** Validates every object; the problems name the object (`Deployment/parley-user-svc`). */
export async function validateObjects(objects: ReadonlyArray<{ apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }>): Promise<SchemaProblem[]> {
  const out: SchemaProblem[] = [];
  for (const o of objects) {
    const name = `${String(o.kind)}/${String(o.metadata?.name)}`;
    for (const message of await validateObject(o)) out.push({ object: name, message });
  }
  return out;
}
