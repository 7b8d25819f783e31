import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { field, types, type ConfigOf } from '@parley/config';
import { z } from 'zod';

export { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer };

/**
 * Tracing for every Parley process (OpenTelemetry), in one place: the config fields, the tracer
 * provider and its exporter, and the W3C trace context that travels with a message.
 *
 *   TRACE_SAMPLE_RATIO=0 (default)  no provider, no tracer: components get `undefined` and skip
 *                                   every span and header (nothing is allocated per message)
 *   TRACE_SAMPLE_RATIO=r (0 < r ≤ 1) new traces (a WebSocket command, a REST or gRPC call without
 *                                   a traced caller) are recorded with probability r; a call with
 *                                   a traced parent follows the parent's decision (ParentBased)
 *
 * A message's trace is decided once, by the edge: only a sampled command gets child spans and a
 * `traceparent` on its message, and the later hops (ingestion, the command workers, every edge's
 * fanout) trace a message only when it carries one (natsTraceContext, kafkaTraceContext answer
 * undefined otherwise). So a message is traced at every hop or at none, and an unsampled one
 * costs each hop no more than looking for a header.
 *
 * One provider per service (tests run several services in one process, and each span must name
 * its own service); nothing is registered globally except the AsyncLocalStorage context
 * manager, which only carries the active span across awaits within a process.
 *
 * Across processes the context is the W3C `traceparent` (and `tracestate`) header: NATS message
 * headers from the edge's JetStream publish, Kafka record headers from ingestion's produce,
 * HTTP headers and gRPC metadata on calls.
 */
export const tracingFields = {
  traceSampleRatio: field({
    env: 'TRACE_SAMPLE_RATIO',
    schema: z.coerce.number('must be a number').min(0).max(1),
    default: '0',
    doc: 'share of new traces recorded, 0-1 (0 = tracing off; a traced caller\'s decision is followed); give every service the same value',
  }),
  traceExporter: field({ env: 'TRACE_EXPORTER', schema: types.enumOf(['zipkin', 'otlp']), default: 'zipkin', doc: 'how spans are sent to TRACE_URL: zipkin (JSON v2) or otlp (OTLP/HTTP, to your own collector)' }),
  traceUrl: field({
    env: 'TRACE_URL',
    schema: types.url(['http', 'https']),
    default: 'http://127.0.0.1:9411/api/v2/spans',
    doc: "where spans go: Zipkin's /api/v2/spans, or a collector's OTLP/HTTP /v1/traces with TRACE_EXPORTER=otlp",
  }),
};
export type TracingConfig = ConfigOf<typeof tracingFields>;

export interface Tracing {
  /** Undefined when tracing is off: callers skip spans with `tracer?.` or a check. */
  readonly tracer: Tracer | undefined;
  /** Sends every finished span now (tests, shutdown). */
  flush(): Promise<void>;
  /** Flushes, then stops exporting. */
  shutdown(): Promise<void>;
}

/** Spans are sent in batches this often; at most this many wait (beyond that new ones are dropped, not queued). */
const EXPORT_DELAY_MS = 1000;
const MAX_QUEUED_SPANS = 16_384;
const OFF: Tracing = { tracer: undefined, flush: async () => undefined, shutdown: async () => undefined };

let contextManagerInstalled = false;

export function startTracing(service: string, config: TracingConfig): Tracing {
  if (config.traceSampleRatio <= 0) return OFF;
  if (!contextManagerInstalled) {
    contextManagerInstalled = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  }
  const exporter: SpanExporter = config.traceExporter === 'otlp' ? new OTLPTraceExporter({ url: config.traceUrl }) : new ZipkinExporter({ url: config.traceUrl, serviceName: service });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.traceSampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: EXPORT_DELAY_MS, maxQueueSize: MAX_QUEUED_SPANS, maxExportBatchSize: 1024, exportTimeoutMillis: 5000 })],
  });
  return { tracer: provider.getTracer('parley'), flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
}

/**
 * The service's tracer, found from the handle every component already receives: startService
 * binds it to the process's metrics registry, so the REST kit, the gRPC server and the pipeline
 * workers trace without another constructor argument.
 */
const tracers = new WeakMap<object, Tracer>();

export function bindTracer(owner: object, tracer: Tracer | undefined): void {
  if (tracer) tracers.set(owner, tracer);
}

export function tracerOf(owner: object | undefined): Tracer | undefined {
  return owner === undefined ? undefined : tracers.get(owner);
}

const w3c = new W3CTraceContextPropagator();
const recordSetter = {
  set(carrier: Record<string, string>, key: string, value: string) {
    carrier[key] = value;
  },
};
type HeaderGet = (name: string) => string | undefined;
const fnGetter = {
  get: (get: HeaderGet, key: string) => get(key),
  keys: () => ['traceparent', 'tracestate'],
};

/** The trace context of `span` as headers: `traceparent` (and `tracestate` when it has one). */
export function traceHeaders(span: Span): Record<string, string> {
  const out: Record<string, string> = {};
  w3c.inject(trace.setSpan(ROOT_CONTEXT, span), out, recordSetter);
  return out;
}

/** The trace context carried by headers read with `get`; the root context when there is none. */
export function contextFrom(get: HeaderGet): Context {
  return w3c.extract(ROOT_CONTEXT, get, fnGetter);
}

/** `ctx` when it carries a sampled trace, else undefined: a message's later hops trace only those. */
function sampledOnly(ctx: Context): Context | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc !== undefined && (sc.traceFlags & TraceFlags.SAMPLED) !== 0 ? ctx : undefined;
}

/** The sampled trace a message's NATS headers carry (nats.js MsgHdrs: `get` answers '' for a missing one), or undefined. */
export function natsTraceContext(headers: { get(name: string): string } | undefined): Context | undefined {
  if (!headers) return undefined;
  const traceparent = headers.get('traceparent');
  if (!traceparent) return undefined;
  return sampledOnly(contextFrom((name) => (name === 'traceparent' ? traceparent : headers.get(name) || undefined)));
}

/** The sampled trace a Kafka record's headers (kafkajs IHeaders) carry, or undefined. */
export function kafkaTraceContext(headers: Record<string, Buffer | string | Array<Buffer | string> | undefined> | undefined): Context | undefined {
  if (!headers?.['traceparent']) return undefined;
  return sampledOnly(
    contextFrom((name) => {
      const v = headers[name];
      const one = Array.isArray(v) ? v[0] : v;
      return one === undefined ? undefined : one.toString();
    }),
  );
}

/** The active span when it is being recorded (a sampled trace), else undefined: its hops add spans only then. */
export function recordingSpan(): Span | undefined {
  const span = trace.getSpan(context.active());
  return span?.isRecording() ? span : undefined;
}

/** Ends `span`, marked as failed with `err` when given. */
export function endSpan(span: Span, err?: unknown): void {
  if (err !== undefined) failSpan(span, err);
  span.end();
}

export function failSpan(span: Span, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** Runs `fn` with `span` as the active span (AsyncLocalStorage), so spans started inside are its children. */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** A span under the active one (or a root), started now. */
export function startSpan(tracer: Tracer, name: string, kind: SpanKind, attributes?: Attributes, parent: Context = context.active()): Span {
  return tracer.startSpan(name, attributes === undefined ? { kind } : { kind, attributes }, parent);
}
