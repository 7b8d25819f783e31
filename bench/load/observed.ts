/**
 * What it costs to watch Parley: the same runs with tracing off and nobody scraping (the
 * default), then with every service's /metrics scraped once a second (as Prometheus does, at
 * 15× its usual rate) and tracing sampled at 1 % and at 100 %, spans going to a real Zipkin.
 * Metrics are always counted (prom-client increments cannot be turned off); what the variants
 * add is the scrape and the tracing.
 *
 *   BENCH_TRACE_VARIANTS=0,0.01,1,0   sample ratios, in run order (0 = the plain run; the last one
 *                                     again shows how far the machine drifted meanwhile)
 */
import { randomBytes } from 'node:crypto';
import { startZipkin, type TestZipkin } from '@parley/test-support/zipkin';

export interface Variant {
  label: string;
  ratio: number;
}

export function traceVariants(): Variant[] {
  const ratios = (process.env['BENCH_TRACE_VARIANTS'] ?? '0,0.01,1,0').split(',').map((s) => Number(s.trim()));
  return ratios.map((ratio) => ({ ratio, label: ratio === 0 ? 'plain' : `metrics + tracing ${ratio * 100} %` }));
}

/** A Zipkin of the bench's own when some variant traces; stopped by `defer`. */
export async function benchZipkin(variants: Variant[], defer: (fn: () => unknown) => void): Promise<TestZipkin | undefined> {
  if (!variants.some((v) => v.ratio > 0)) return undefined;
  const zipkin = await startZipkin();
  defer(() => zipkin.dispose());
  return zipkin;
}

/** The services' environment for a variant: TRACE_SAMPLE_RATIO and TRACE_URL. */
export function variantEnv(v: Variant, zipkin: TestZipkin | undefined): Record<string, string> {
  return { TRACE_SAMPLE_RATIO: String(v.ratio), ...(zipkin ? { TRACE_URL: zipkin.spansUrl } : {}) };
}

/** GET each /metrics every `everyMs` until stopped; says how many scrapes answered. */
export function scrapeEvery(urls: readonly string[], everyMs = 1000): () => { scrapes: number; failed: number } {
  let scrapes = 0;
  let failed = 0;
  const tick = () =>
    void Promise.all(
      urls.map((u) =>
        fetch(u).then(
          async (r) => {
            await r.text();
            if (r.ok) scrapes += 1;
            else failed += 1;
          },
          () => void (failed += 1),
        ),
      ),
    );
  const timer = setInterval(tick, everyMs);
  return () => {
    clearInterval(timer);
    return { scrapes, failed };
  };
}

/**
 * The W3C traceparent the edge would have given a message: with probability `ratio` (the edge
 * decides, every later hop follows), else none (an unsampled message carries no header).
 */
export function edgeTraceparent(ratio: number): string | undefined {
  return Math.random() < ratio ? `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` : undefined;
}

/** How many spans a Zipkin holds for `service` (the answers of its trace query, up to `limit` traces). */
export async function tracesOf(zipkin: TestZipkin | undefined, service: string, limit = 100_000): Promise<number> {
  if (!zipkin) return 0;
  return (await zipkin.traces({ serviceName: service, limit: String(limit) }).catch(() => [])).length;
}
