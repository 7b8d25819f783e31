import uWS from 'uWebSockets.js';
import { ParleyError, toParleyError } from '@parley/errors';
import { clientIp, extractToken, type TrustedProxies } from '@parley/access';
import type { Logger } from '@parley/log';
import { admit, refusal, type UpgradeInfo } from './admission.js';
import type { Gatekeeper } from './gatekeeper.js';
import type { RateLimiter } from './rate-limit.js';
import { Conn, type ConnLimits, type ConnServices, type SocketData } from './conn.js';
import { canonicalUuid, CloseCodes, websocketProtocolSchema, type RoomPresence, type UserPresence } from '@parley/contracts';
import type { Presence } from './presence.js';
import { checkReadiness, type Component, type HealthCheck } from '@parley/lifecycle';
import { RoomRegistry } from './room-registry.js';
import { exposition, type Registry } from '@parley/metrics';
import { edgeMetrics, type EdgeMetrics } from './metrics.js';
import type { Tracer } from '@parley/tracing';

export interface EdgeOptions {
  host: string;
  port: number;
  maxFrameBytes: number;
  maxBackpressure: number;
  idleTimeoutSeconds: number;
  /** Reverse proxies whose X-Forwarded-For names the client, for the per-IP limits. */
  trustedProxies: TrustedProxies;
  limits: ConnLimits;
  gatekeeper: Gatekeeper;
  limiter: RateLimiter;
  services: Omit<ConnServices, 'registry' | 'metrics' | 'tracer'>;
  /** The service's tracer (undefined: tracing off): every command frame starts a trace. */
  tracer?: Tracer | undefined;
  registry: RoomRegistry;
  /** What /readyz checks besides the edge itself (NATS, the instance lease). */
  readiness: readonly HealthCheck[];
  log: Logger;
  /** The process's registry: the edge adds its families (see metrics.ts) and serves it at GET /metrics. */
  metrics: Registry;
}

/**
 * uWebSockets.js falls back to a JavaScript emulation when its native binding does not load
 * for this platform and Node ABI; that emulation ignores maxBackpressure and maxPayloadLength,
 * so the edge's memory bounds would silently stop holding. Refuse to run on it instead.
 */
export function assertNativeUws(): void {
  if (!/\[native code\]/.test(Function.prototype.toString.call(uWS.App))) {
    throw new ParleyError(
      'CONFIG_INVALID',
      `uWebSockets.js loaded its JavaScript fallback, not the native binding (platform ${process.platform}-${process.arch}, Node ABI ${process.versions.modules}); the edge needs the native binding`,
    );
  }
}

const WS_PATH = '/v1/rooms/:roomId/ws';
/** How often socket send buffers are checked against the soft limit. */
const SWEEP_MS = 250;

/**
 * The WebSocket edge on uWebSockets.js as a lifecycle Component. Upgrades only after the
 * admission checks passed (the async upgrade pattern: read the request synchronously, guard
 * with onAborted, answer inside cork). Stop refuses new sockets, closes the listen socket,
 * tells every client to reconnect elsewhere (1012) and waits for unacknowledged sends.
 */
export class RealtimeEdge implements Component {
  readonly name = 'websocket';
  private readonly app: uWS.TemplatedApp;
  private listenSocket: uWS.us_listen_socket | undefined;
  private boundPort = 0;
  private closing = false;
  private sweep: NodeJS.Timeout | undefined;
  readonly metrics: EdgeMetrics;
  /** One for every socket: spread per upgrade, each copy got a hidden class of its own (~0.5 KB a socket). */
  private readonly connServices: ConnServices;

  constructor(private readonly opts: EdgeOptions) {
    this.app = uWS.App();
    const metrics = edgeMetrics(opts.metrics, () => opts.registry.connectionCount);
    this.metrics = metrics;
    this.connServices = { ...opts.services, registry: opts.registry, metrics, tracer: opts.tracer };
    opts.registry.bindFanout((topic, frame) => {
      metrics.fanout.inc();
      // uWS writes the frame to every subscriber of the topic: one sent frame per live socket.
      const sockets = this.app.numSubscribers(topic);
      if (sockets > 0) metrics.framesOut.inc({ type: 'message' }, sockets);
      this.app.publish(topic, frame);
    });
    this.app.ws<SocketData>(WS_PATH, {
      maxPayloadLength: opts.maxFrameBytes,
      // uWS's own limit is the hard stop; the sweep closes with 4008 at half of it first.
      maxBackpressure: opts.maxBackpressure * 2,
      closeOnBackpressureLimit: 1,
      idleTimeout: opts.idleTimeoutSeconds,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => {
        metrics.joins.inc();
        ws.getUserData().conn.open(ws);
      },
      message: (ws, data, isBinary) => ws.getUserData().conn.onFrame(data, isBinary),
      drain: () => metrics.drains.inc(),
      close: (ws, code) => {
        metrics.closes.inc({ code: String(code) });
        ws.getUserData().conn.onClose();
      },
    });
    this.app.get('/healthz', (res) => json(res, '200 OK', { status: 'ok' }));
    this.app.get('/readyz', (res) => {
      const aborted = { value: false };
      res.onAborted(() => (aborted.value = true));
      void checkReadiness(opts.readiness).then((r) => {
        if (aborted.value) return;
        const ready = r.ready && !this.closing;
        json(res, ready ? '200 OK' : '503 Service Unavailable', { status: ready ? 'ready' : 'unavailable', checks: r.checks });
      });
    });
    this.app.get('/metrics', (res) => {
      const aborted = { value: false };
      res.onAborted(() => (aborted.value = true));
      void exposition(opts.metrics).then(
        (m) => {
          if (aborted.value) return;
          res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', m.contentType).writeHeader('cache-control', 'no-store').end(m.body));
        },
        (err: unknown) => {
          if (!aborted.value) json(res, '500 Internal Server Error', { error: { code: 'INTERNAL', message: `metrics failed: ${(err as Error).message}` } });
        },
      );
    });
    // Presence over REST: a room's online members (members only), a user's own status.
    this.app.get('/v1/rooms/:roomId/presence', (res, req) => {
      const roomId = canonicalUuid(req.getParameter(0) ?? '');
      this.rest(res, req, async (caller) => {
        if (!roomId) throw new ParleyError('VALIDATION_FAILED', 'roomId must be a UUID');
        await opts.gatekeeper.authorize(roomId, caller.id);
        const presence = this.presenceOrFail();
        return { room_id: roomId, online: await presence.onlineIn(roomId) } satisfies RoomPresence;
      });
    });
    this.app.get('/v1/users/:userId/presence', (res, req) => {
      const userId = canonicalUuid(req.getParameter(0) ?? '');
      this.rest(res, req, async (caller) => {
        if (!userId) throw new ParleyError('VALIDATION_FAILED', 'userId must be a UUID');
        if (userId !== caller.id) throw new ParleyError('FORBIDDEN', "a user's status is theirs to read; rooms show who is online");
        const s = await this.presenceOrFail().status(userId);
        return { user_id: userId, status: s.online ? 'online' : 'offline', ...(s.lastSeen === undefined ? {} : { last_seen: s.lastSeen }) } satisfies UserPresence;
      });
    });
    const protocol = JSON.stringify(websocketProtocolSchema());
    this.app.get('/v1/protocol.schema.json', (res) => {
      res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', 'application/schema+json').end(protocol));
    });
    // For operators and the benchmark: how many sockets, rooms and NATS subscriptions, and memory.
    // `?gc=1` collects first, only when the process runs with --expose-gc: it separates garbage
    // not yet collected from what the sockets hold. RSS stays the honest measure either way.
    this.app.get('/stats', (res, req) => {
      const collect = (globalThis as { gc?: () => void }).gc;
      const collected = req.getQuery('gc') === '1' && collect !== undefined;
      if (collected) collect();
      const m = process.memoryUsage();
      json(res, '200 OK', {
        connections: opts.registry.connectionCount,
        rooms: opts.services.hub.size,
        nats_subscriptions: opts.services.hub.subscriptionTotal,
        fanout_filled: opts.services.hub.counters.filled,
        fanout_repeats: opts.services.hub.counters.repeats,
        fanout_resyncs: opts.services.hub.counters.resyncs,
        rss_bytes: m.rss,
        heap_total_bytes: m.heapTotal,
        heap_used_bytes: m.heapUsed,
        external_bytes: m.external,
        collected,
      });
    });
    // A plain request on the WebSocket path reaches here too (uWS routes only upgrades to ws()).
    this.app.any('/v1/rooms/:roomId/ws', (res) => {
      const r = refusal(new ParleyError('UPGRADE_REQUIRED', 'this path takes WebSocket upgrades only (GET with Upgrade: websocket)'));
      res.cork(() => {
        res.writeStatus(r.status).writeHeader('upgrade', 'websocket').writeHeader('content-type', 'application/json').end(r.body);
      });
    });
    this.app.any('/*', (res) => {
      const r = refusal(new ParleyError('NOT_FOUND', 'no such route; WebSockets live at /v1/rooms/{roomId}/ws'));
      res.cork(() => {
        res.writeStatus(r.status).writeHeader('content-type', 'application/json').end(r.body);
      });
    });
  }

  port(): number {
    return this.boundPort;
  }

  /** Every socket of this edge is asked to reconnect and resume (after NATS came back, for one). */
  resetAll(reason: string): void {
    this.opts.registry.closeAll(CloseCodes.SERVICE_RESTART, reason);
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.app.listen(this.opts.host, this.opts.port, (socket) => {
        if (!socket) return reject(new Error(`cannot listen on ${this.opts.host}:${this.opts.port}`));
        this.listenSocket = socket;
        this.boundPort = uWS.us_socket_local_port(socket);
        this.sweep = setInterval(() => {
          this.opts.registry.closeSlow(this.opts.maxBackpressure);
          this.opts.registry.closeExpired(Date.now());
        }, SWEEP_MS);
        this.opts.log.info({ component: this.name, listening: `http://${this.opts.host}:${this.boundPort}` }, 'websocket listening');
        resolve();
      });
    });
  }

  async stop(signal: AbortSignal): Promise<void> {
    this.closing = true;
    clearInterval(this.sweep);
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    this.opts.registry.closeAll(CloseCodes.SERVICE_RESTART, 'service restart: reconnect and resume');
    await this.opts.registry.drained(signal);
    this.opts.services.hub.close();
  }

  private upgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    const aborted = { value: false };
    res.onAborted(() => {
      aborted.value = true;
    });
    const info: UpgradeInfo = {
      roomId: req.getParameter(0) ?? '',
      query: req.getQuery() ?? '',
      authorization: req.getHeader('authorization'),
      cookie: req.getHeader('cookie'),
      protocol: req.getHeader('sec-websocket-protocol'),
      ip: clientIp(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('x-forwarded-for'), this.opts.trustedProxies, req.getHeader('x-parley-proxy-secret')),
    };
    const key = req.getHeader('sec-websocket-key');
    const extensions = req.getHeader('sec-websocket-extensions');
    const admission = this.closing ? Promise.reject(new ParleyError('SHUTTING_DOWN', 'server is shutting down')) : admit(info, this.opts);
    admission.then(
      (a) => {
        if (aborted.value) return;
        // Revoked while the membership check ran: the event already passed this socket by.
        if (this.opts.gatekeeper.isRevoked(a.tokenHash)) return this.refuse(res, new ParleyError('UNAUTHENTICATED', 'invalid or expired session'));
        const conn = new Conn(a, info.ip, this.opts.limits, this.connServices, this.opts.log);
        res.cork(() => res.upgrade<SocketData>({ conn }, key, a.protocol, extensions, context));
      },
      (err: unknown) => {
        if (aborted.value) return;
        if (refusal(err).status.startsWith('5')) this.opts.log.warn({ err, roomId: info.roomId }, 'join refused: dependency failure');
        this.refuse(res, err);
      },
    );
  }

  /** A small authenticated JSON GET: the token as for a join, errors as for a refused join. */
  private rest(res: uWS.HttpResponse, req: uWS.HttpRequest, handle: (caller: { id: string }) => Promise<unknown>): void {
    const aborted = { value: false };
    res.onAborted(() => (aborted.value = true));
    const found = extractToken({ authorization: req.getHeader('authorization') || undefined, cookie: req.getHeader('cookie') || undefined });
    void (async () => {
      if (!found) throw new ParleyError('UNAUTHENTICATED', 'missing session token');
      return handle(await this.opts.gatekeeper.authenticate(found.token));
    })().then(
      (body) => void (aborted.value ? undefined : json(res, '200 OK', body)),
      (err: unknown) => void (aborted.value ? undefined : this.refuse(res, err)),
    );
  }

  private presenceOrFail(): Presence {
    const p = this.opts.services.presence;
    if (!p) throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'presence is not kept by this edge');
    return p;
  }

  private refuse(res: uWS.HttpResponse, err: unknown): void {
    const r = refusal(err);
    this.metrics.refusals.inc({ code: toParleyError(err).code });
    res.cork(() => {
      res.writeStatus(r.status);
      for (const [k, v] of Object.entries(r.headers)) res.writeHeader(k, v);
      res.end(r.body);
    });
  }
}

function json(res: uWS.HttpResponse, status: string, body: unknown): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'application/json').end(JSON.stringify(body));
  });
}
