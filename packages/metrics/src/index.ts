import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/**
 * The metric plumbing every Parley process shares (prom-client).
 *
 * Names follow Prometheus conventions: a `parley_` prefix, base units (`_seconds`, `_bytes`),
 * `_total` on counters. Every process has a registry of its own (tests run several services in
 * one process, and the global default registry would mix them), labelled `service=<name>`;
 * Prometheus adds `job` and `instance` when it scrapes. Process and Node.js runtime metrics
 * keep their standard names (`process_*`, `nodejs_*`) so existing dashboards read them.
 *
 * Label values are always from closed sets (a route template, a status code, a reason), never
 * from user input, so the number of series stays bounded.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Request durations: 1 ms to 10 s. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Ages of messages at a hop: 5 ms to one hour (a pipeline catching up after an outage). */
export const AGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * One set of metrics per registry for the given key: components built separately (a worker and
 * its dead-letter sink) share the families instead of registering a name twice, which
 * prom-client refuses.
 */
export function shared<T>(registry: Registry, key: string, make: (registry: Registry) => T): T {
  let byKey = sharedSets.get(registry);
  if (!byKey) sharedSets.set(registry, (byKey = new Map()));
  if (!byKey.has(key)) byKey.set(key, make(registry));
  return byKey.get(key) as T;
}
const sharedSets = new WeakMap<Registry, Map<string, unknown>>();

/** Seconds since `startNs` (from process.hrtime.bigint()). */
export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

/**
 * Bounds the work of a `collect()` that asks a server (consumer lag, JetStream consumer info):
 * a slow server must not hold the scrape past Prometheus's own timeout.
 */
export function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * A gauge read from a server at each scrape (consumer lag from Kafka, a JetStream consumer's
 * backlog): `read` answers the series, or undefined when there is nothing to ask yet (not
 * connected). A failed or slow read (bounded by `timeoutMs`) leaves the family empty for that
 * scrape rather than showing a stale number.
 */
export function polledGauge<L extends string>(
  registry: Registry,
  o: { name: string; help: string; labelNames: readonly L[]; timeoutMs?: number; read: () => Promise<Array<[Partial<Record<L, string>>, number]>> | undefined },
): Gauge<L> {
  return new Gauge<L>({
    name: o.name,
    help: o.help,
    labelNames: o.labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      const reading = o.read();
      if (!reading) return;
      try {
        for (const [labels, value] of await within(reading, o.timeoutMs ?? 2000)) this.set(labels, value);
      } catch {
        // The server is away: its client's readiness check reports that.
      }
    },
  });
}

/** The text exposition of a registry, for any HTTP server's GET /metrics. */
export async function exposition(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export interface RequestMetrics<L extends string> {
  /** One finished request; label values come from closed sets (a route template, never the raw path). */
  observe(labels: Record<L, string>, seconds: number): void;
}

/**
 * REST requests: `parley_http_requests_total{method,route,code}` and
 * `parley_http_request_duration_seconds{method,route,code}`. `route` is the route template
 * (`/v1/rooms/:roomId`), `unmatched` for a path no route owns.
 */
export function httpRequestMetrics(registry: Registry): RequestMetrics<'method' | 'route' | 'code'> {
  return shared(registry, 'http', (r) => requestMetrics(r, 'parley_http', 'REST', ['method', 'route', 'code']));
}

/**
 * gRPC calls served: `parley_grpc_server_requests_total{method,code}` and
 * `parley_grpc_server_request_duration_seconds{method,code}`; `method` is the full path
 * (`/parley.user.v1.UserService/ValidateSession`), `code` the status name (`OK`, `NOT_FOUND`).
 */
export function grpcServerMetrics(registry: Registry): RequestMetrics<'method' | 'code'> {
  return shared(registry, 'grpc', (r) => requestMetrics(r, 'parley_grpc_server', 'gRPC', ['method', 'code']));
}

function requestMetrics<L extends string>(registry: Registry, prefix: string, what: string, labelNames: readonly L[]): RequestMetrics<L> {
  const total = new Counter<L>({ name: `${prefix}_requests_total`, help: `${what} requests answered`, labelNames, registers: [registry] });
  const duration = new Histogram<L>({ name: `${prefix}_request_duration_seconds`, help: `${what} request duration`, labelNames, buckets: DURATION_BUCKETS, registers: [registry] });
  return {
    observe(labels, seconds) {
      total.inc(labels as Partial<Record<L, string>>);
      duration.observe(labels as Partial<Record<L, string>>, seconds);
    },
  };
}
