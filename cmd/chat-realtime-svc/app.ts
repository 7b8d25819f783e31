import { hostname } from 'node:os';
import { connectNats, createRedis, type ClientHandle, type NatsClients } from '@parley/clients';
import { ensureMessageStream, InstanceLease } from '@parley/nats';
import { ParleyError } from '@parley/errors';
import { requireProxySecret } from '@parley/http';
import { component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';
import type { ServiceDefinition } from '@parley/service';
import { realtimeConfigSpec } from './src/config.js';
import { RealtimeEdge } from './src/edge.js';
import { GrpcGatekeeper } from './src/gatekeeper.js';
import { GrpcHistorySource, JetStreamRecentSource } from './src/history.js';
import { JetStreamMessagePublisher, type MessagePublisher } from './src/publisher.js';
import { RedisRateLimiter } from './src/rate-limit.js';
import { RoomEvents } from './src/room-events.js';
import { RoomHub } from './src/room-hub.js';
import { RoomRegistry } from './src/room-registry.js';
import { SessionRevocations } from './src/session-revocations.js';
import { CloseCodes } from '@parley/contracts';

/** How far back the stream tail is read on a join when history gave no floor. */
const RECENT_LOOKBACK_MS = 5 * 60_000;
const MAX_RECENT_ON_JOIN = 1000;
const MAX_PENDING_ON_JOIN = 10_000;

export const realtimeService: ServiceDefinition<typeof realtimeConfigSpec> = {
  name: 'chat-realtime-svc',
  spec: realtimeConfigSpec,
  build({ config, log, runner }) {
    let nats: ClientHandle<NatsClients> | undefined;
    let lease: InstanceLease | undefined;
    let edge: RealtimeEdge | undefined;
    let publisher: MessagePublisher | undefined;
    const redis = createRedis({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, onError: throttled(log, 'redis error (rate limits fail open)') });
    const gatekeeper = new GrpcGatekeeper({ userAddr: config.userSvcGrpc, roomAddr: config.roomSvcGrpc, cacheTtlMs: config.authCacheTtlMs, timeoutMs: config.grpcTimeoutMs });
    const history = new GrpcHistorySource(config.querySvcGrpc, config.grpcTimeoutMs, config.maxBodyBytes);
    const window = config.rateWindowSeconds;
    const limiter = new RedisRateLimiter(
      redis.client,
      { send: { perUser: config.sendsPerUser, perIp: config.sendsPerIp, windowSeconds: window }, join: { perUser: config.joinsPerUser, perIp: config.joinsPerIp, windowSeconds: window } },
      throttled(log, 'rate limiter failing open'),
    );
    const registry = new RoomRegistry(log.child({ component: 'rooms' }), config.maxBodyBytes);

    runner.add(
      component(
        'nats',
        async () => {
          let wasDisconnected = false;
          nats = await connectNats({
            url: config.natsUrl,
            name: `chat-realtime-svc:${hostname()}:${process.pid}`,
            // Every send is a JetStream request; capturing a stack trace for each was a top item in the edge's CPU profile.
            noAsyncTraces: true,
            onStatus: (type) => {
              if (type === 'disconnect') wasDisconnected = true;
              // Live frames published while we were away never reached us: every socket resumes.
              if (type === 'reconnect' && wasDisconnected) {
                wasDisconnected = false;
                log.warn('nats reconnected: asking every socket to resume');
                edge?.resetAll('nats reconnected: reconnect and resume');
              }
            },
          });
          await ensureMessageStream(nats.client.jsm, { name: config.stream, prefix: config.subjectPrefix });
        },
        () => nats?.close(),
      ),
    );
    // Redis is optional: without it rate limits fail open, so a failing check only warns.
    runner.add(component('redis', () => redis.health().catch((err: unknown) => log.warn({ err }, 'redis unavailable at start')), () => redis.close()));
    runner.add(
      component(
        'instance-lease',
        async (signal) => {
          const js = nats!.client.js;
          lease = new InstanceLease({ js, bucket: config.leaseBucket, holder: `chat-realtime-svc ${hostname()} pid ${process.pid}`, onLost: (err) => runner.fail('instance-lease', err) });
          await lease.start(signal);
          const ids = lease.snowflake();
          const { jsm } = nats!.client;
          publisher = new JetStreamMessagePublisher({ js, jsm, stream: config.stream, prefix: config.subjectPrefix, maxBodyBytes: config.maxBodyBytes, nextId: () => ids.next(), timeoutMs: config.grpcTimeoutMs });
        },
        () => lease?.stop(),
      ),
    );
    runner.add(component('grpc-clients', () => undefined, () => { gatekeeper.close(); history.close(); }));
    runner.add({
      name: 'websocket',
      start: async () => {
        const { js, jsm } = nats!.client;
        const hub = new RoomHub(js, config.stream, config.subjectPrefix, registry);
        const recent = new JetStreamRecentSource(js, jsm, config.stream, config.subjectPrefix, config.maxBodyBytes);
        edge = new RealtimeEdge({
          host: config.host,
          port: config.port,
          maxFrameBytes: config.maxFrameBytes,
          maxBackpressure: config.maxBackpressure,
          idleTimeoutSeconds: config.idleTimeoutSeconds,
          trustedProxies: requireProxySecret(config.trustedProxies, config.proxySecret),
          limits: {
            maxBodyBytes: config.maxBodyBytes,
            historyLimit: config.historyLimit,
            maxInFlight: config.maxInFlight,
            maxStrikes: config.maxStrikes,
            strikeWindowMs: window * 1000,
            maxPendingJoin: MAX_PENDING_ON_JOIN,
          },
          gatekeeper,
          limiter,
          registry,
          services: {
            hub,
            limiter,
            publisher: () => publisher ?? failNoPublisher(),
            backlog: { history, recent, lookbackMs: RECENT_LOOKBACK_MS, maxRecent: MAX_RECENT_ON_JOIN, onRecentError: (err) => log.warn({ err }, 'stream tail unavailable on join') },
          },
          log: log.child({ component: 'websocket' }),
        });
        await edge.start();
      },
      stop: async (signal) => edge?.stop(signal),
    });
    let revocations: SessionRevocations | undefined;
    const revocationLog = log.child({ component: 'session-revocations' });
    runner.add(
      component(
        'session-revocations',
        () => {
          revocations = new SessionRevocations({
            js: nats!.client.js,
            stream: config.sessionEventsStream,
            prefix: config.sessionEventsPrefix,
            log: revocationLog,
            onRevoked: (tokenHash, userId) => {
              gatekeeper.markRevoked(tokenHash);
              const closed = registry.closeSession(tokenHash, CloseCodes.SESSION_ENDED, 'session ended');
              if (closed > 0) revocationLog.info({ userId, sockets: closed }, 'session revoked: closed its sockets');
            },
          });
          return revocations.start();
        },
        () => revocations?.stop(),
      ),
    );
    let roomEvents: RoomEvents | undefined;
    runner.add(
      component(
        'room-events',
        () => {
          const events = new RoomEvents({
            js: nats!.client.js,
            stream: config.eventsStream,
            prefix: config.eventsPrefix,
            log: log.child({ component: 'room-events' }),
            onEvent: (e) => registry.onRoomEvent(e),
          });
          roomEvents = events;
          return events.start();
        },
        () => roomEvents?.stop(),
      ),
    );
  },
};

function failNoPublisher(): never {
  throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'message ids are not available yet');
}

/** Logs the first failure and then at most one per interval: a dead Redis must not flood the log. */
function throttled(log: Logger, msg: string, everyMs = 30_000): (err: unknown) => void {
  let last = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    log.warn({ err }, msg);
  };
}
