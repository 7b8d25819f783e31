import http from 'node:http';
import type { Duplex } from 'node:stream';
import { checkReadiness, type Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';
import { exposition, httpRequestMetrics, secondsSince, type Registry } from '@parley/metrics';
import { matchRoute, proxyHttp, refuseUpgrade, sendError, tunnelUpgrade, type Forwarding, type Route } from './proxy.js';
import { StaticFiles } from './static-files.js';

export interface GatewayOptions {
  host: string;
  port: number;
  webRoot: string;
  routes: Route[];
  websocket: Route;
  /** Who the client is, told to the services, and the proof that we are the one telling. */
  forwarding: Forwarding;
  upstreamTimeoutMs: number;
  log: Logger;
  /**
   * The process's registry, served at GET /metrics; requests are counted with the route
   * prefix they went to (`/api/rooms`, `static`, ...) as `route`.
   */
  metrics: Registry;
}

/** Upstream failures are logged at most this often: a restarting service must not flood the log. */
const FAILURE_LOG_EVERY_MS = 5000;

/**
 * node:http server as a Component. Stop refuses new requests (503), closes tunnelled
 * WebSockets at once (the page reconnects and resumes with last_id, so nothing is lost) and
 * waits for in-flight REST requests until the deadline.
 */
export class WebGateway implements Component {
  readonly name = 'web-gateway';
  private readonly server: http.Server;
  private readonly files: StaticFiles;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly tunnels = new Set<() => void>();
  private closing = false;
  private boundPort = 0;
  private lastFailureLog = 0;

  constructor(private readonly opts: GatewayOptions) {
    this.files = new StaticFiles(opts.webRoot);
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Browsers keep idle connections open longer than Node's 5 s default; closing first would race their next request.
    this.server.keepAliveTimeout = 65_000;
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  port(): number {
    return this.boundPort;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        this.boundPort = addr !== null && typeof addr === 'object' ? addr.port : this.opts.port;
        this.opts.log.info({ component: this.name, listening: `http://${this.opts.host}:${this.boundPort}` }, 'web gateway listening');
        resolve();
      });
    });
  }

  async stop(signal: AbortSignal): Promise<void> {
    this.closing = true;
    for (const close of [...this.tunnels]) close();
    const force = () => this.server.closeAllConnections();
    signal.addEventListener('abort', force, { once: true });
    try {
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeIdleConnections();
      });
    } finally {
      signal.removeEventListener('abort', force);
      this.agent.destroy();
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const route = { name: 'unmatched' };
    const requests = httpRequestMetrics(this.opts.metrics);
    res.once('finish', () => requests.observe({ method: req.method ?? 'GET', route: route.name, code: String(res.statusCode) }, secondsSince(started)));
    if (this.closing) {
      res.setHeader('connection', 'close');
      return sendError(res, 'SHUTTING_DOWN', 'server is shutting down', 1);
    }
    const url = req.url ?? '/';
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (url === '/readyz') return this.readyz(res);
    if (url === '/metrics') {
      route.name = '/metrics';
      const m = await exposition(this.opts.metrics);
      res.writeHead(200, { 'content-type': m.contentType, 'cache-control': 'no-store' }).end(m.body);
      return;
    }
    const target = matchRoute(this.opts.routes, url);
    if (target && isOperatorPath(target.path)) return sendError(res, 'NOT_FOUND', `no route ${req.method} ${url.split('?')[0]}`);
    if (target) {
      route.name = target.route.prefix;
      proxyHttp(req, res, { upstream: target.route.upstream, path: target.path }, this.opts.forwarding, this.agent, this.opts.upstreamTimeoutMs, (err) => this.failed(target.route, err));
      return;
    }
    route.name = 'static';
    try {
      if (await this.files.serve(req, res)) return;
      sendError(res, 'NOT_FOUND', `no route ${req.method} ${url.split('?')[0]}`);
    } catch (err) {
      this.opts.log.error({ err, url }, 'static file failed');
      sendError(res, 'INTERNAL', 'internal error');
    }
  }

  /** Ready when every upstream answers its own /healthz: the page is useless without them. */
  private async readyz(res: http.ServerResponse): Promise<void> {
    const upstreams = [...this.opts.routes, this.opts.websocket];
    const r = await checkReadiness(
      upstreams.map((route) => ({
        name: route.prefix,
        check: async () => {
          const answer = await fetch(new URL('/healthz', route.upstream), { signal: AbortSignal.timeout(2000) });
          if (!answer.ok) throw new Error(`healthz answered ${answer.status}`);
        },
      })),
    );
    res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ status: r.ready ? 'ready' : 'unavailable', checks: r.checks }));
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.closing) return refuseUpgrade(socket, 503, 'Service Unavailable', 'SHUTTING_DOWN', 'server is shutting down');
    const target = matchRoute([this.opts.websocket], req.url ?? '/');
    if (!target || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
      return refuseUpgrade(socket, 404, 'Not Found', 'NOT_FOUND', 'WebSockets live under /ws/v1/rooms/{roomId}/ws');
    }
    tunnelUpgrade(
      req,
      socket,
      head,
      { upstream: target.route.upstream, path: target.path },
      this.opts.forwarding,
      (close) => {
        this.tunnels.add(close);
        return () => void this.tunnels.delete(close);
      },
      (err) => this.failed(target.route, err),
    );
  }

  private failed(route: Route, err: Error): void {
    const now = Date.now();
    if (now - this.lastFailureLog < FAILURE_LOG_EVERY_MS) return;
    this.lastFailureLog = now;
    this.opts.log.warn({ upstream: route.upstream.origin, prefix: route.prefix, err }, 'upstream unavailable');
  }
}

/**
 * The services' own /metrics and operator API (chat-query-svc's /v1/admin/) are for the
 * operators' network, never for the public side the gateway serves.
 */
export function isOperatorPath(path: string): boolean {
  const p = path.split('?')[0]!;
  return p === '/metrics' || p === '/v1/admin' || p.startsWith('/v1/admin/');
}
