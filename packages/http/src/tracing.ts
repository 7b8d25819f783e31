import type { FastifyInstance, FastifyRequest } from 'fastify';
import { context, contextFrom, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@parley/tracing';

/**
 * One SERVER span per request, named `<METHOD> <route template>` once the route is known, child
 * of the caller's `traceparent` when it sent one. The rest of the request (hooks, handler) runs
 * with the span active, so calls it makes (gRPC with `propagateTrace`) continue the trace.
 */
export function traceRequests(app: FastifyInstance, tracer: Tracer): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', (req, _reply, done) => {
    const parent = contextFrom((name) => one(req.headers[name]));
    const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.url.split('?')[0] ?? '' } }, parent);
    spans.set(req, span);
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', async (req, reply) => {
    const span = spans.get(req);
    if (!span) return;
    const route = req.routeOptions.url ?? 'unmatched';
    span.updateName(`${req.method} ${route}`);
    span.setAttributes({ 'http.route': route, 'http.response.status_code': reply.statusCode });
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
