import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

/**
 * Holds real answers against a service's published OpenAPI document, for tests: each answer's
 * status must be documented for its operation and its body must match the schema documented
 * for that status, as a client generated from the document would expect. The document is
 * read as JSON Schema with ajv (OpenAPI 3.0 `nullable` included), not through zod, so what is
 * checked is what was published.
 */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface OpenApiContract {
  /** Checks one answer to `method path` (a concrete path, query string allowed); throws on a mismatch. */
  check(method: string, path: string, answer: HttpAnswer): void;
  /**
   * Operations not yet shown to keep their word: each needs one checked success, and one
   * checked error when it documents a 4xx. Empty when every documented route was exercised.
   */
  unchecked(): string[];
}

interface Operation {
  key: string;
  template: RegExp;
  params: number;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  validators: Map<string, ValidateFunction>;
  success: boolean;
  error: boolean;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const DOC_ID = 'openapi.json';

export function openApiContract(doc: unknown): OpenApiContract {
  const ajv = new Ajv({ strict: false, allErrors: true });
  // CommonJS default export: the plugin is the module itself under NodeNext.
  (ajvFormats as unknown as (a: Ajv) => void)(ajv);
  ajv.addSchema(doc as object, DOC_ID);
  const operations = listOperations(doc);

  const find = (method: string, path: string): Operation => {
    const bare = path.split('?')[0] ?? path;
    const matches = operations.filter((o) => o.key.startsWith(`${method.toUpperCase()} `) && o.template.test(bare));
    // A literal segment beats a parameter (`/sessions/current` over `/sessions/{id}`).
    const op = matches.sort((a, b) => a.params - b.params)[0];
    if (!op) throw new Error(`${method} ${bare} is not in the document`);
    return op;
  };

  return {
    check(method, path, answer) {
      const op = find(method, path);
      const status = String(answer.status);
      const listed = [status, `${status[0]}XX`, 'default'].find((k) => op.responses[k] !== undefined);
      const documented = listed === undefined ? undefined : op.responses[listed];
      const where = `${op.key} answered ${status}`;
      if (!documented || listed === undefined) throw new Error(`${where}, which the document does not list (it lists ${Object.keys(op.responses).join(', ')}): ${JSON.stringify(answer.body)}`);
      const media = documented.content?.['application/json'];
      if (!media) {
        if (answer.body !== undefined) throw new Error(`${where} with a body, but the document says it has none: ${JSON.stringify(answer.body)}`);
      } else {
        const type = answer.headers.get('content-type') ?? '';
        if (!type.startsWith('application/json')) throw new Error(`${where} as ${type || 'no content type'}, not application/json`);
        const validate = validatorFor(ajv, op, listed, media.schema);
        if (!validate(answer.body)) {
          throw new Error(`${where} with a body the document does not allow: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}\n${JSON.stringify(answer.body).slice(0, 2000)}`);
        }
      }
      if (answer.status < 400) op.success = true;
      else op.error = true;
    },
    unchecked() {
      const missing: string[] = [];
      for (const op of operations) {
        if (!op.success) missing.push(`${op.key}: no success answer checked`);
        if (!op.error && Object.keys(op.responses).some((s) => s.startsWith('4'))) missing.push(`${op.key}: no error answer checked`);
      }
      return missing;
    },
  };
}

function listOperations(doc: unknown): Operation[] {
  const paths = (doc as { paths?: Record<string, Record<string, unknown>> }).paths ?? {};
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method] as { responses?: Operation['responses'] } | undefined;
      if (!op) continue;
      const pattern = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
      out.push({
        key: `${method.toUpperCase()} ${path}`,
        template: new RegExp(`^${pattern}$`),
        params: (path.match(/\{/g) ?? []).length,
        responses: op.responses ?? {},
        validators: new Map(),
        success: false,
        error: false,
      });
    }
  }
  return out;
}

/** Compiles the documented schema in place (by JSON pointer), so its `$ref`s resolve inside the document. */
function validatorFor(ajv: Ajv, op: Operation, status: string, schema: unknown): ValidateFunction {
  const cached = op.validators.get(status);
  if (cached) return cached;
  if (schema === undefined) throw new Error(`${op.key} ${status}: the document gives application/json without a schema`);
  const [method, path] = op.key.split(' ') as [string, string];
  const pointer = ['paths', path, method.toLowerCase(), 'responses', status, 'content', 'application/json', 'schema'].map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
  const validate = ajv.compile({ $ref: `${DOC_ID}#/${pointer}` });
  op.validators.set(status, validate);
  return validate;
}
