import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, freePort } from './index.js';

const PROMETHEUS = process.env['PROMETHEUS_BIN'] || 'prometheus';
/** The repo's alert rules: what a test checks is what `make up` loads. */
export const ALERT_RULES = fileURLToPath(new URL('../../../infra/prometheus/alerts.yml', import.meta.url));

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

export interface TestPrometheus {
  url: string;
  /** An instant query; throws with Prometheus's own words when the expression is invalid. */
  query(expr: string): Promise<PromSample[]>;
  /** Polls `expr` until `ok` holds for its result; returns that result. */
  until(expr: string, ok: (r: PromSample[]) => boolean, timeoutMs?: number): Promise<PromSample[]>;
  alerts(): Promise<PromAlert[]>;
  dispose(): Promise<void>;
}

/**
 * A Prometheus server of the test's own (Debian's binary; free port, own data folder) scraping
 * `targets` (job name → host:port) every second and evaluating the repo's alert rules every
 * second. The rules' `for` durations are cut to 2 s so an alert fires within a test: the
 * expressions are the real ones, only the waiting is shorter.
 */
export async function startPrometheus(targets: Record<string, string>): Promise<TestPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-prometheus-'));
  const port = await freePort();
  const rules = (await readFile(ALERT_RULES, 'utf8')).replace(/^(\s+)for: \S+$/gm, '$1for: 2s');
  await writeFile(join(dir, 'alerts.yml'), rules);
  const jobs = Object.entries(targets).map(([job, target]) => `  - job_name: ${job}\n    static_configs: [{ targets: ['${target}'] }]`);
  await writeFile(
    join(dir, 'prometheus.yml'),
    ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', '  evaluation_interval: 1s', 'rule_files: [alerts.yml]', 'scrape_configs:', ...jobs, ''].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const proc: ChildProcess = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const spawnError = new Promise<Error>((resolve) => proc.once('error', resolve));
  proc.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const dispose = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
    }
    await rm(dir, { recursive: true, force: true });
  };
  const ready = eventually(async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok, 30_000, 100);
  const failed = await Promise.race([ready.then(() => undefined), spawnError]).catch((err: unknown) => err as Error);
  if (failed) {
    await dispose();
    const hint = (failed as NodeJS.ErrnoException).code === 'ENOENT' ? ' (not installed: run scripts/ensure-prometheus.sh)' : '';
    throw new Error(`prometheus did not start${hint}: ${failed.message}\n${output.join('').slice(-2000)}`);
  }

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  const query = async (expr: string) => {
    const data = await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  return {
    url,
    query,
    until: async (expr, ok, timeoutMs = 60_000) => {
      let last: PromSample[] = [];
      try {
        return await eventually(async () => {
          last = await query(expr);
          return ok(last) ? last : undefined;
        }, timeoutMs, 250);
      } catch (err) {
        throw new Error(`${expr}: ${(err as Error).message}; last answer ${JSON.stringify(last)}`);
      }
    },
    alerts: async () => (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts,
    dispose,
  };
}
