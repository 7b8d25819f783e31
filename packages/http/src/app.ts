import { fastify, LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify';
import { serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBodySchema } from '@parley/contracts';
import { ParleyError, isParleyError, isUnreachable } from '@parley/errors';
import type { Logger } from '@parley/log';
import { exposition, httpRequestMetrics, type Registry } from '@parley/metrics';
import { tracerOf, type Tracer } from '@parley/tracing';
import { jsonAnswer, registerOpenApi, type OpenApiInfo } from './openapi.js';
import { zodValidatorCompiler } from './validate.js';
import { traceRequests } from './tracing.js';

export interface HealthCheck {
  name: string;
  check(): Promise<void>;
  /** A failing non-critical check is reported but keeps the service ready (Redis: we degrade). */
  critical?: boolean;
}

export interface HttpAppOptions {
  log: Logger;
  /** Largest accepted request body in bytes; beyond it the answer is 413. */
  bodyLimit: number;
  healthChecks?: HealthCheck[];
  /**
   * Title and introduction of the service's API document, generated from its route schemas
   * and served at GET /openapi.json, with a browsable page at /docs. Without it, neither.
   */
  openapi?: OpenApiInfo;
  /**
   * The process's metrics: every answered request is counted by method, route template and
   * status (`parley_http_requests_total`, `parley_http_request_duration_seconds`), and the
   * registry is served at GET /metrics (left out of the API document: it is for operators).
   */
  metrics?: Registry;
  /**
   * Each request is a SERVER span, continuing the caller's `traceparent`; handlers run with it
   * active. Default: the tracer startService bound to `metrics` (none: tracing off).
   */
  tracer?: Tracer | undefined;
}

/** A fastify instance whose routes take zod schemas (fastify-type-provider-zod). */
export type ZodApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;
type HealthRouteOptions = Pick<HttpAppOptions, 'healthChecks' | 'openapi'>;

const closingApps = new WeakSet<FastifyInstance>();

/** Makes every later request answer 503 SHUTTING_DOWN (called by httpComponent's stop). */
export function markClosing(app: FastifyInstance): void {
  closingApps.add(app);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const healthSchema = z.object({ status: z.literal('ok') });
const readinessSchema = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.record(z.string(), z.string()).meta({ description: '`ok` or `failing: <reason>` per check' }),
});
const documentSchema = z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) });

/**
 * The fastify app every REST service starts from: one JSON error shape, request child
 * loggers, health endpoints and a JSON parser that refuses invalid UTF-8 instead of silently
 * replacing it. Routes are added by the caller; nothing listens until httpComponent starts it.
 *
 * Routes declare zod schemas (see openapi.ts): the validator checks input with parseInput's
 * wording, and the serializer checks each answer against the schema of its status before
 * sending it (an answer that does not match is logged and becomes a 500, never a silent
 * change of the contract). Callers add their routes inside `app.register` so that the
 * document generator, registered here first, sees them.
 */
export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const app = fastify({
    loggerInstance: opts.log,
    bodyLimit: opts.bodyLimit,
    // One access line per request from our onResponse hook instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    requestTimeout: 30_000,
    // Longer than any client's idle keep-alive (undici's is 4 s, Node's agent's 5 s): the client
    // closes an idle connection first, so a request never races the server closing it under it.
    keepAliveTimeout: 65_000,
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  if (opts.openapi !== undefined) registerOpenApi(app, opts.openapi);

  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    let text: string;
    try {
      text = strictUtf8.decode(body as Buffer);
    } catch {
      return done(new ParleyError('VALIDATION_FAILED', 'body is not valid UTF-8'), undefined);
    }
    try {
      done(null, text.length === 0 ? undefined : JSON.parse(text));
    } catch {
      done(new ParleyError('VALIDATION_FAILED', 'body is not valid JSON'), undefined);
    }
  });

  const tracer = opts.tracer ?? tracerOf(opts.metrics);
  if (tracer) traceRequests(app, tracer);
  app.addHook('onRequest', async (_req, reply) => {
    if (closingApps.has(app)) {
      reply.header('connection', 'close');
      return reply.code(503).send(new ParleyError('SHUTTING_DOWN', 'server is shutting down').toJSON());
    }
  });
  const requests = opts.metrics === undefined ? undefined : httpRequestMetrics(opts.metrics);
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, url: req.routeOptions.url ?? 'unknown', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    requests?.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  const metrics = opts.metrics;
  if (metrics !== undefined) {
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      const m = await exposition(metrics);
      return reply.header('content-type', m.contentType).header('cache-control', 'no-store').send(m.body);
    });
  }

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(new ParleyError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`).toJSON());
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const pe = toHttpError(err);
    if (pe.code === 'INTERNAL') req.log.error({ err }, 'request failed');
    else if (pe.httpStatus >= 500) req.log.warn({ code: pe.code, message: pe.message }, 'request failed');
    if (pe.code === 'RATE_LIMITED' && typeof pe.details?.['retryAfterSeconds'] === 'number') {
      void reply.header('retry-after', String(pe.details['retryAfterSeconds']));
    }
    void reply.code(pe.httpStatus).send(pe.toJSON());
  });

  registerRoutes(app, (routes) => healthRoutes(routes, app, opts));
  return app;
}

/**
 * Adds routes with zod schemas in a plugin of their own: the document generator sees them
 * (it is registered first), and they share the app's error handler, parsers and hooks.
 */
export function registerRoutes(app: FastifyInstance, add: (routes: ZodApp) => void): void {
  void app.register(async (scope) => add(scope.withTypeProvider<ZodTypeProvider>()));
}

/** Liveness, readiness and the API document, documented like every other route. */
function healthRoutes(r: ZodApp, app: FastifyInstance, opts: HealthRouteOptions): void {
  const checks = (opts.healthChecks ?? []).map((h) => (h.critical === false ? `${h.name} (reported, not required)` : h.name));
  r.get('/healthz', { schema: { summary: 'Liveness', response: { 200: jsonAnswer('the process answers', healthSchema) } } }, async () => ({ status: 'ok' as const }));
  r.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness',
        description: checks.length > 0 ? `Ready when these answer: ${checks.join(', ')}.` : 'Ready unless shutting down.',
        response: {
          200: jsonAnswer('ready', readinessSchema),
          503: jsonAnswer('not ready (a required check fails), or `SHUTTING_DOWN`', z.union([readinessSchema, errorBodySchema])),
        },
      },
    },
    async (_req, reply) => {
      const results: Record<string, string> = {};
      let ready = !closingApps.has(app);
      await Promise.all(
        (opts.healthChecks ?? []).map(async (h) => {
          try {
            await h.check();
            results[h.name] = 'ok';
          } catch (err) {
            results[h.name] = `failing: ${(err as Error).message}`;
            if (h.critical !== false) ready = false;
          }
        }),
      );
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks: results });
    },
  );
  if (opts.openapi !== undefined) {
    r.get('/openapi.json', { schema: { summary: 'This document', response: { 200: jsonAnswer('OpenAPI 3.0 document, generated from the routes', documentSchema) } } }, async () => openApiDocument(app));
  }
}

/** The generated document (built once, on its first request, after every route is known). */
export function openApiDocument(app: FastifyInstance): z.output<typeof documentSchema> {
  // The generator types the document as any OpenAPI or Swagger version; ours is 3.0.
  return app.swagger() as unknown as z.output<typeof documentSchema>;
}

/**
 * Framework errors become client errors by their status: a bad body is never a 500. Only
 * errors we do not understand are INTERNAL, and their text stays in the log.
 */
function toHttpError(err: FastifyError): ParleyError {
  if (isParleyError(err)) return err;
  const code = err.statusCode;
  if (code === 413) return new ParleyError('PAYLOAD_TOO_LARGE', 'request body too large');
  if (code === 404) return new ParleyError('NOT_FOUND', 'not found');
  if (code === 405) return new ParleyError('METHOD_NOT_ALLOWED', err.message);
  if (code === 415) return new ParleyError('UNSUPPORTED_MEDIA_TYPE', err.message);
  if (code === 503) return new ParleyError('SHUTTING_DOWN', 'server is shutting down');
  if (code !== undefined && code >= 400 && code < 500) return new ParleyError('VALIDATION_FAILED', err.message);
  // A store that cannot be reached is a 503 the client may retry; its address stays private.
  if (isUnreachable(err)) return new ParleyError('DEPENDENCY_UNAVAILABLE', 'a dependency is unavailable; retry later', { cause: err });
  return new ParleyError('INTERNAL', 'internal error', { cause: err });
}

