import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkReadiness, type Component, type HealthCheck } from '@parley/lifecycle';
import type { Logger } from '@parley/log';
import { exposition, type Registry } from '@parley/metrics';

export interface OpsServerOptions {
  host: string;
  /** 0 picks a free port (tests); services get theirs from config. */
  port: number;
  checks: () => readonly HealthCheck[];
  /** True while the process is stopping: readiness answers 503 then, whatever the checks say. */
  isStopping: () => boolean;
  log: Logger;
  /** Served at GET /metrics (Prometheus text format). */
  metrics?: Registry;
}

/**
 * The operations port of a process that has no HTTP API of its own (the pipeline workers):
 *
 *   GET /healthz   200 {"status":"ok"} while the process runs
 *   GET /readyz    200 {"status":"ready","checks":{...}} or 503 {"status":"unavailable",...}
 *   GET /metrics   the process's metrics, Prometheus text format
 *
 * the same answers the REST services and the edge give on their own ports. Started first and
 * stopped last, so a probe sees "unavailable" while the rest starts or drains.
 */
export class OpsServer implements Component {
  readonly name = 'ops-server';
  private server: Server | undefined;

  constructor(private readonly o: OpsServerOptions) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'GET only' } });
      if (path === '/healthz') return send(200, { status: 'ok' });
      if (path === '/readyz') {
        void checkReadiness(this.o.checks()).then(
          (r) => {
            const ready = r.ready && !this.o.isStopping();
            send(ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', checks: r.checks });
          },
          (err: unknown) => send(503, { status: 'unavailable', checks: { readiness: `failing: ${(err as Error).message}` } }),
        );
        return;
      }
      const metrics = this.o.metrics;
      if (path === '/metrics' && metrics) {
        void exposition(metrics).then(
          (m) => {
            res.writeHead(200, { 'content-type': m.contentType, 'cache-control': 'no-store' });
            res.end(m.body);
          },
          (err: unknown) => send(500, { error: { code: 'INTERNAL', message: `metrics failed: ${(err as Error).message}` } }),
        );
        return;
      }
      send(404, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${path}` } });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    this.server = server;
    this.o.log.info({ listening: `${this.o.host}:${this.port()}` }, 'ops endpoints listening');
  }

  port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
