import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBodySchema } from '@parley/contracts';
import { ErrorCodes, type ErrorCode } from '@parley/errors';

/**
 * The OpenAPI document of a service is generated from its routes' zod schemas: `params`,
 * `querystring` and `body` are what the validator checks, `response` is what the serializer
 * sends, and both are the same objects the document describes. Nothing is written twice.
 */
export interface OpenApiInfo {
  title: string;
  /** CommonMark, shown at the top of the browsable page. */
  description: string;
  version?: string;
}

/** Where the browsable page lives; the document itself is at GET /openapi.json. */
export const DOCS_PREFIX = '/docs';

/** Routes that need a session accept either the bearer token or the cookie. */
export const sessionSecurity: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }];

/** A JSON answer with its description (the form fastify and the document generator both read). */
export function jsonAnswer<S extends z.ZodType>(description: string, schema: S) {
  return { description, content: { 'application/json': { schema } } };
}

/** An answer without a body, such as 204. */
export function noContent(description: string) {
  return z.undefined().describe(description);
}

const MEANINGS: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'the input is malformed; the message names each problem as `path: reason`',
  PAYLOAD_TOO_LARGE: 'the body is larger than the configured limit',
  UNSUPPORTED_MEDIA_TYPE: 'the body is not `application/json`',
  UNAUTHENTICATED: 'no session token, or an unknown, revoked or expired one',
  FORBIDDEN: 'the caller may not do this',
  NOT_FOUND: 'no such resource',
  CONFLICT: 'the request contradicts the current state',
  RATE_LIMITED: 'too many attempts; `details.retryAfterSeconds` and the Retry-After header say when to try again',
  DEPENDENCY_UNAVAILABLE: 'a store or service this one needs does not answer; retry later',
  SHUTTING_DOWN: 'this instance is stopping; retry on another',
};

type ErrorAnswer = ReturnType<typeof jsonAnswer<typeof errorBodySchema>>;
type ErrorAnswers<C extends ErrorCode> = { [K in C as (typeof ErrorCodes)[K]['httpStatus']]: ErrorAnswer };

/** The error answers of a route, by code: codes sharing a status share one entry. */
export function errorAnswers<C extends ErrorCode>(...codes: C[]): ErrorAnswers<C> {
  const byStatus = new Map<number, string[]>();
  for (const code of codes) {
    const status = ErrorCodes[code].httpStatus;
    const meaning = MEANINGS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), meaning ? `\`${code}\`: ${meaning}` : `\`${code}\``]);
  }
  return Object.fromEntries([...byStatus].map(([status, lines]) => [status, jsonAnswer(lines.join('; or '), errorBodySchema)])) as ErrorAnswers<C>;
}

/** What every route that reads a JSON body may also answer before its own checks run. */
export const bodyErrors = ['VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'] as const;

/**
 * Registers the document generator and the browsable page. Must run before any documented
 * route is added: the generator learns routes as they are added, so services add theirs in
 * plugins (`app.register`), which fastify loads after this one.
 */
export function registerOpenApi(app: FastifyInstance, info: OpenApiInfo): void {
  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: info.title, description: info.description, version: info.version ?? '1.0.0' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'the token from POST /v1/sessions' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'parley_session' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (doc) => keepReferencedSchemas(jsonSchemaTransformObject(doc)),
  });
  void app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });
}

type OpenApiDocument = ReturnType<typeof jsonSchemaTransformObject>;
interface WithSchemas {
  paths?: unknown;
  components?: { schemas?: Record<string, unknown> };
}

/**
 * The generator adds every schema zod knows by id (WebSocket frames too, each in an input and
 * an output flavour); a service's document keeps only those its own routes refer to.
 */
function keepReferencedSchemas(generated: OpenApiDocument): OpenApiDocument {
  const doc = generated as WithSchemas;
  const all = doc.components?.schemas ?? {};
  const kept: Record<string, unknown> = {};
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) {
        const name = value.slice('#/components/schemas/'.length);
        if (!(name in kept) && name in all) {
          kept[name] = all[name];
          visit(all[name]);
        }
      } else visit(value);
    }
  };
  visit(doc.paths);
  const sorted = Object.fromEntries(Object.keys(kept).sort().map((name) => [name, kept[name]]));
  return { ...doc, components: { ...doc.components, schemas: sorted } } as OpenApiDocument;
}
