import { z } from 'zod';
import { ParleyError } from '@parley/errors';

/**
 * One config field: its environment variable, its default (as the string an operator would
 * type), a schema that turns the string into a value, and a line of documentation. Keeping the
 * four together is what lets `describeConfig` print the whole surface of a service.
 */
export interface FieldSpec<T> {
  env: string;
  schema: z.ZodType<T>;
  default?: string;
  doc: string;
  /** Redacted by `describeConfig` and never echoed in errors. */
  secret?: boolean;
}

export type ConfigSpec = Record<string, FieldSpec<unknown>>;
export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: S[K] extends FieldSpec<infer T> ? T : never };
export type Env = Record<string, string | undefined>;

export function field<T>(spec: FieldSpec<T>): FieldSpec<T> {
  return spec;
}

export class ConfigError extends ParleyError {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, { details: { problems } });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Reads every field from `env`, collecting all problems before failing so an operator fixes
 * them in one go. Empty strings count as unset: `FOO= make up` should mean "use the default".
 */
export function parseConfig<S extends ConfigSpec>(spec: S, env: Env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, f] of Object.entries(spec)) {
    const given = env[f.env];
    const raw = given === undefined || given === '' ? f.default : given;
    if (raw === undefined) {
      problems.push(`${f.env} (${name}) is required: ${f.doc}`);
      continue;
    }
    const parsed = f.schema.safeParse(raw);
    if (parsed.success) {
      out[name] = parsed.data;
    } else {
      const reason = parsed.error.issues.map((i) => i.message).join('; ');
      const shown = f.secret ? '<redacted>' : JSON.stringify(raw);
      problems.push(`${f.env} (${name}) = ${shown} is invalid: ${reason}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as ConfigOf<S>;
}

/** Rows for docs and `--help`: env name, default, doc. */
export function describeConfig(spec: ConfigSpec): Array<{ env: string; default: string; doc: string }> {
  return Object.values(spec).map((f) => ({
    env: f.env,
    default: f.secret ? '<secret>' : (f.default ?? '(required)'),
    doc: f.doc,
  }));
}

export * from './types.js';
export * from './common.js';
