import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { eventually, freePort } from './index.js';

const ZIPKIN_SH = fileURLToPath(new URL('../../../scripts/zipkin.sh', import.meta.url));

/** A span as Zipkin's v2 API answers it. */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

export interface TestZipkin {
  /** Where services send spans: TRACE_URL. */
  spansUrl: string;
  /** The UI and API base. */
  url: string;
  /** Traces matching the v2 query (`serviceName`, `spanName`, `annotationQuery`, ...), newest first. */
  traces(query: Record<string, string>): Promise<ZipkinSpan[][]>;
  trace(traceId: string): Promise<ZipkinSpan[]>;
  dispose(): Promise<void>;
}

/**
 * A Zipkin server of the test's own (scripts/zipkin.sh fetches the jar once into .cache/zipkin),
 * on a free port with in-memory storage and a small heap; `dispose` stops it.
 */
export async function startZipkin(opts: { heap?: string } = {}): Promise<TestZipkin> {
  const { stdout } = await promisify(execFile)(ZIPKIN_SH, ['jar'], { timeout: 300_000 });
  const jar = stdout.trim();
  const port = await freePort();
  const heap = opts.heap ?? '256m';
  const proc = spawn('java', [`-Xms${heap}`, `-Xmx${heap}`, '-XX:+UseSerialGC', '-jar', jar, '--armeria.ports[0].ip=127.0.0.1', `--armeria.ports[0].port=${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MEM_MAX_SPANS: '200000' },
  });
  const output: string[] = [];
  proc.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const dispose = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  };
  try {
    await eventually(async () => (await fetch(`${url}/health`).catch(() => undefined))?.ok, 120_000, 250);
  } catch (err) {
    await dispose();
    throw new Error(`zipkin did not start: ${(err as Error).message}\n${output.join('').slice(-2000)}`);
  }
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    if (!res.ok) throw new Error(`zipkin ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    url,
    spansUrl: `${url}/api/v2/spans`,
    traces: (query) => get(`/api/v2/traces?${new URLSearchParams({ limit: '100', lookback: '3600000', ...query }).toString()}`),
    trace: (traceId) => get(`/api/v2/trace/${traceId}`),
    dispose,
  };
}
