import {
  InterceptingCall,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServerErrorResponse,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  type ServiceError,
  type sendUnaryData,
  type ServerUnaryCall,
  type Interceptor,
} from '@grpc/grpc-js';
import { ParleyError, toParleyError, type ErrorCode } from '@parley/errors';
import type { Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';
import { grpcServerMetrics, secondsSince, type Registry } from '@parley/metrics';
import { context, contextFrom, SpanKind, SpanStatusCode, trace, traceHeaders, tracerOf, type Tracer } from '@parley/tracing';

/** ParleyError codes as gRPC status codes; the exact code also travels in metadata. */
export const GRPC_STATUS_BY_CODE: Record<ErrorCode, status> = {
  CONFIG_INVALID: status.INTERNAL,
  VALIDATION_FAILED: status.INVALID_ARGUMENT,
  PAYLOAD_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  FORBIDDEN: status.PERMISSION_DENIED,
  NOT_FOUND: status.NOT_FOUND,
  METHOD_NOT_ALLOWED: status.UNIMPLEMENTED,
  UNSUPPORTED_MEDIA_TYPE: status.INVALID_ARGUMENT,
  UPGRADE_REQUIRED: status.FAILED_PRECONDITION,
  CONFLICT: status.ALREADY_EXISTS,
  RATE_LIMITED: status.RESOURCE_EXHAUSTED,
  DEPENDENCY_UNAVAILABLE: status.UNAVAILABLE,
  TIMEOUT: status.DEADLINE_EXCEEDED,
  SHUTTING_DOWN: status.UNAVAILABLE,
  POISON_MESSAGE: status.INVALID_ARGUMENT,
  INTERNAL: status.INTERNAL,
};

const CODE_KEY = 'parley-code';

/** Turns anything a handler threw into a gRPC error; unknown errors never leak their text. */
export function toGrpcError(err: unknown): ServerErrorResponse {
  const pe = toParleyError(err);
  const metadata = new Metadata();
  metadata.set(CODE_KEY, pe.code);
  const message = pe.code === 'INTERNAL' ? 'internal error' : pe.message;
  return Object.assign(new Error(message), { code: GRPC_STATUS_BY_CODE[pe.code], details: message, metadata });
}

const CODE_BY_STATUS: Partial<Record<status, ErrorCode>> = {
  [status.INVALID_ARGUMENT]: 'VALIDATION_FAILED',
  [status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [status.PERMISSION_DENIED]: 'FORBIDDEN',
  [status.NOT_FOUND]: 'NOT_FOUND',
  [status.ALREADY_EXISTS]: 'CONFLICT',
  [status.RESOURCE_EXHAUSTED]: 'RATE_LIMITED',
  [status.UNAVAILABLE]: 'DEPENDENCY_UNAVAILABLE',
  [status.DEADLINE_EXCEEDED]: 'TIMEOUT',
};

/** The client side: a gRPC failure back into a ParleyError a REST handler can answer with. */
export function fromGrpcError(err: unknown, what: string): ParleyError {
  const se = err as Partial<ServiceError>;
  if (typeof se.code !== 'number') return toParleyError(err);
  const sent = se.metadata?.get(CODE_KEY)[0];
  const code = typeof sent === 'string' && sent in GRPC_STATUS_BY_CODE ? (sent as ErrorCode) : (CODE_BY_STATUS[se.code as status] ?? 'DEPENDENCY_UNAVAILABLE');
  const message = code === 'DEPENDENCY_UNAVAILABLE' || code === 'TIMEOUT' || code === 'INTERNAL' ? `${what} unavailable` : (se.details ?? `${what} failed`);
  return new ParleyError(code === 'INTERNAL' ? 'DEPENDENCY_UNAVAILABLE' : code, message, { cause: err });
}

/**
 * Adapts an async function into a grpc-js unary handler: the answer or a mapped error, and a
 * log line for anything unexpected (expected failures such as NOT_FOUND stay quiet).
 */
export function unary<Req, Res>(log: Logger, method: string, fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const pe = toParleyError(err);
        if (pe.code === 'INTERNAL') log.error({ err, method }, 'grpc handler failed');
        callback(toGrpcError(pe));
      },
    );
  };
}

export interface GrpcService {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

/**
 * A gRPC server as a lifecycle Component. Stop lets in-flight calls finish (tryShutdown) and
 * cuts them at the runner's deadline (forceShutdown), so shutdown always ends. With `metrics`,
 * every unary call is counted by method and status code (see grpcServerMetrics); with a tracer
 * (by default the one bound to `metrics`), every unary call is a SERVER span continuing the
 * caller's `traceparent` metadata, with the handler running under it.
 */
export function grpcComponent(
  name: string,
  opts: { services: GrpcService[]; host: string; port: number; log: Logger; metrics?: Registry; tracer?: Tracer | undefined },
): Component & { port(): number } {
  const server = new Server({ 'grpc.max_receive_message_length': 1024 * 1024 });
  const tracer = opts.tracer ?? tracerOf(opts.metrics);
  for (const s of opts.services) server.addService(s.definition, opts.metrics === undefined && tracer === undefined ? s.implementation : measured(s, opts.metrics, tracer));
  let bound = opts.port;
  return {
    name,
    port: () => bound,
    start: () =>
      new Promise<void>((resolve, reject) => {
        server.bindAsync(`${opts.host}:${opts.port}`, ServerCredentials.createInsecure(), (err, port) => {
          if (err) return reject(err);
          bound = port;
          opts.log.info({ component: name, listening: `grpc://${opts.host}:${port}` }, 'grpc listening');
          resolve();
        });
      }),
    stop: (signal) =>
      new Promise<void>((resolve) => {
        const force = () => {
          server.forceShutdown();
          resolve();
        };
        if (signal.aborted) return force();
        signal.addEventListener('abort', force, { once: true });
        server.tryShutdown(() => {
          signal.removeEventListener('abort', force);
          resolve();
        });
      }),
  };
}

const STATUS_NAME = new Map<number, string>(Object.entries(status).filter((e): e is [string, number] => typeof e[1] === 'number').map(([k, v]) => [v, k]));

/** The service's unary handlers, each timed and counted with the status it answered, and traced. */
function measured(s: GrpcService, registry: Registry | undefined, tracer: Tracer | undefined): UntypedServiceImplementation {
  const requests = registry === undefined ? undefined : grpcServerMetrics(registry);
  const out: UntypedServiceImplementation = { ...s.implementation };
  for (const [key, def] of Object.entries(s.definition)) {
    const handler = s.implementation[key];
    if (typeof handler !== 'function' || def.requestStream || def.responseStream) continue;
    const unaryHandler = handler as (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;
    out[key] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const start = process.hrtime.bigint();
      const parent = tracer ? contextFrom((k) => metadataValue(call.metadata, k)) : undefined;
      const span = tracer && parent ? tracer.startSpan(def.path, { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.method': def.path } }, parent) : undefined;
      const run = () =>
        unaryHandler(call, (err, value, ...rest) => {
          const code = err ? (STATUS_NAME.get(err.code ?? status.UNKNOWN) ?? 'UNKNOWN') : 'OK';
          requests?.observe({ method: def.path, code }, secondsSince(start));
          if (span) {
            span.setAttribute('rpc.grpc.status_code', code);
            if (SERVER_FAULTS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: code });
            span.end();
          }
          callback(err, value, ...rest);
        });
      if (span && parent) context.with(trace.setSpan(parent, span), run);
      else run();
    };
  }
  return out;
}

/** Answers that are the server's failure (a span in error), as opposed to the caller's (NOT_FOUND, INVALID_ARGUMENT, ...). */
const SERVER_FAULTS = new Set(['UNKNOWN', 'INTERNAL', 'UNAVAILABLE', 'DEADLINE_EXCEEDED', 'DATA_LOSS', 'UNIMPLEMENTED']);

function metadataValue(md: Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Client side: sends the active span's `traceparent` (and `tracestate`) as call metadata, so the
 * server's span joins the caller's trace. Without an active span (tracing off) it adds nothing.
 * Pass it to a client: `new XClient(addr, creds, { interceptors: [propagateTrace] })`.
 */
export const propagateTrace: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      const span = trace.getSpan(context.active());
      if (span) for (const [k, v] of Object.entries(traceHeaders(span))) metadata.set(k, v);
      next(metadata, listener);
    },
  });
