import { hostname } from 'node:os';
import { connectNats, createRedis, natsUrlOptions } from '@parley/clients';
import { ensureMessageStream, InstanceLease, roomEphemeralWildcard, roomOfEphemeralSubject } from '@parley/nats';
import { ParleyError } from '@parley/errors';
import { GrpcUserDirectory, requireProxySecret } from '@parley/access';
import { component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';
import type { ServiceDefinition } from '@parley/service';
import { realtimeConfigSpec } from './src/config.js';
import { assertNativeUws, RealtimeEdge } from './src/edge.js';
import { GrpcGatekeeper } from './src/gatekeeper.js';
import { GrpcHistorySource, JetStreamRecentSource } from './src/history.js';
import { JetStreamMessagePublisher, PubAckInbox } from './src/publisher.js';
import { CommandHandler, GrpcCommandOracle } from './src/commands.js';
import { EphemeralBus } from './src/ephemeral.js';
import { Presence } from './src/presence.js';
import { randomBytes } from 'node:crypto';
import { RedisRateLimiter } from './src/rate-limit.js';
import { RoomEvents } from './src/room-events.js';
import { RoomHub } from './src/room-hub.js';
import { RoomRegistry } from './src/room-registry.js';
import { SessionRevocations } from './src/session-revocations.js';
import { CloseCodes } from '@parley/contracts';
import { tracerOf } from '@parley/tracing';

/** How far back the stream tail is read on a join when history gave no floor. */
const RECENT_LOOKBACK_MS = 5 * 60_000;
const MAX_RECENT_ON_JOIN = 1000;
const MAX_PENDING_ON_JOIN = 10_000;
/** How long an `@name` resolves to the same user id (or to nobody) without asking user-svc again. */
const MENTION_CACHE_TTL_MS = 60_000;

export const realtimeService: ServiceDefinition<typeof realtimeConfigSpec> = {
  name: 'chat-realtime-svc',
  spec: realtimeConfigSpec,
  build({ config, log, runner, metrics }) {
    assertNativeUws();
    const tracer = tracerOf(metrics);
    const redis = createRedis({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, onError: throttled(log, 'redis error (rate limits fail open)') });
    let roomEvents: RoomEvents | undefined;
    const gatekeeper = new GrpcGatekeeper({
      userAddr: config.userSvcGrpc,
      roomAddr: config.roomSvcGrpc,
      cacheTtlMs: config.authCacheTtlMs,
      membershipCacheMs: config.membershipCacheMs,
      eventsLive: () => roomEvents?.following ?? false,
      timeoutMs: config.grpcTimeoutMs,
    });
    const history = new GrpcHistorySource(config.querySvcGrpc, config.grpcTimeoutMs, config.maxBodyBytes);
    const window = config.rateWindowSeconds;
    const limiter = new RedisRateLimiter(
      redis.client,
      { send: { perUser: config.sendsPerUser, perIp: config.sendsPerIp, windowSeconds: window }, join: { perUser: config.joinsPerUser, perIp: config.joinsPerIp, windowSeconds: window } },
      throttled(log, 'rate limiter failing open'),
    );
    const registry = new RoomRegistry(log.child({ component: 'rooms' }), config.maxBodyBytes, tracer);
    // Live frames published while NATS was away never reached this edge: the hub reads them from
    // the stream (RoomHub.resync); the sockets stay.
    let hub: RoomHub | undefined;
    const resync = () => {
      const started = Date.now();
      void hub?.resync().then(() => log.info({ rooms: hub?.size, ms: Date.now() - started, filled: hub?.counters.filled }, 'nats reconnected: rooms caught up from the stream'));
    };

    const nats = runner.provide(
      'nats',
      async () => {
        let wasDisconnected = false;
        const handle = await connectNats({
          url: config.natsUrl,
          name: `chat-realtime-svc:${hostname()}:${process.pid}`,
          // Every send is a JetStream request; capturing a stack trace for each was a top item in the edge's CPU profile.
          noAsyncTraces: true,
          onStatus: (type) => {
            if (type === 'disconnect') wasDisconnected = true;
            if (type === 'reconnect' && wasDisconnected) {
              wasDisconnected = false;
              log.warn('nats reconnected: catching rooms up from the stream');
              resync();
            }
          },
        });
        await ensureMessageStream(handle.client.jsm, { name: config.stream, prefix: config.subjectPrefix });
        return handle;
      },
      (handle) => handle.close(),
    );
    // Redis is optional: without it rate limits fail open, so a failing check only warns.
    runner.add(component('redis', () => redis.health().catch((err: unknown) => log.warn({ err }, 'redis unavailable at start')), () => redis.close()));
    const ids = runner.provide(
      'instance-lease',
      async (signal) => {
        const { js, jsm } = nats.value.client;
        const lease = new InstanceLease({ js, bucket: config.leaseBucket, holder: `chat-realtime-svc ${hostname()} pid ${process.pid}`, onLost: (err) => runner.fail('instance-lease', err) });
        await lease.start(signal);
        const generator = lease.snowflake();
        const acks = new PubAckInbox(nats.value.client.nc, natsUrlOptions(config.natsUrl).inboxPrefix);
        const publisher = new JetStreamMessagePublisher({ acks, jsm, stream: config.stream, prefix: config.subjectPrefix, maxBodyBytes: config.maxBodyBytes, nextId: () => generator.next(), timeoutMs: config.grpcTimeoutMs, tracer });
        return { lease, publisher, acks };
      },
      // After the edge stopped (its sends drained): nothing waits for a PubAck any more.
      ({ lease, acks }) => (acks.close(), lease.stop()),
    );
    const oracle = new GrpcCommandOracle(config.querySvcGrpc, config.grpcTimeoutMs);
    const users = new GrpcUserDirectory({ address: config.userSvcGrpc, ttlMs: MENTION_CACHE_TTL_MS, timeoutMs: config.grpcTimeoutMs });
    runner.add(component('grpc-clients', () => undefined, () => { gatekeeper.close(); history.close(); oracle.close(); users.close(); }));
    runner.provide(
      'websocket',
      async () => {
        const { js, jsm } = nats.value.client;
        hub = new RoomHub(nats.value.client.nc, jsm, config.stream, config.subjectPrefix, registry);
        // Typing and receipts of every room, one core subscription per edge: what concerns no
        // socket here is dropped by the registry at once (see EphemeralBus).
        const ephemeral = nats.value.client.nc.subscribe(roomEphemeralWildcard(config.subjectPrefix), {
          callback: (err, m) => {
            const roomId = err ? undefined : roomOfEphemeralSubject(m.subject, config.subjectPrefix);
            if (roomId) registry.onEphemeral(roomId, m.data);
          },
        });
        const bus = new EphemeralBus(() => nats.value.client.nc, config.subjectPrefix);
        const presence = new Presence({
          redis: redis.client,
          bus,
          edgeId: `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
          out: { diff: (roomId, joined, left) => registry.presenceDiff(roomId, joined, left) },
          log: log.child({ component: 'presence' }),
        });
        registry.bindPresence(presence);
        presence.start();
        const recent = new JetStreamRecentSource(js, jsm, config.stream, config.subjectPrefix, config.maxBodyBytes);
        const commands = new CommandHandler({
          oracle,
          users,
          logged: recent,
          publisher: () => ids.current?.publisher ?? failNoPublisher(),
          changeGraceMs: config.changeGraceMs,
          log: log.child({ component: 'commands' }),
        });
        const edge = new RealtimeEdge({
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
            commands,
            reads: oracle,
            ephemeral: bus,
            presence,
            backlog: {
              history,
              recent,
              lookbackMs: RECENT_LOOKBACK_MS,
              maxRecent: MAX_RECENT_ON_JOIN,
              onRecentError: (err) => log.warn({ err }, 'stream tail unavailable on join'),
              catchUp: (roomId, through) => hub?.catchUp(roomId, through) ?? Promise.resolve(),
            },
          },
          // Not ready without NATS (no sends, no fanout) or without a valid lease (no ids).
          readiness: [
            { name: 'nats', check: () => nats.value.health() },
            { name: 'instance-lease', check: async () => void ids.value.lease.instance },
            { name: 'redis', check: () => redis.health(), critical: false },
          ],
          log: log.child({ component: 'websocket' }),
          metrics,
          tracer,
        });
        await edge.start();
        return { edge, ephemeral, presence };
      },
      async ({ edge, ephemeral, presence }, signal) => {
        await edge.stop(signal);
        // After the sockets closed: they left their rooms; this edge's key goes at once.
        await presence.stop();
        ephemeral.unsubscribe();
      },
    );
    const revocationLog = log.child({ component: 'session-revocations' });
    runner.provide(
      'session-revocations',
      async () => {
        const revocations = new SessionRevocations({
          js: nats.value.client.js,
          stream: config.sessionEventsStream,
          prefix: config.sessionEventsPrefix,
          log: revocationLog,
          onRevoked: (tokenHash, userId) => {
            gatekeeper.markRevoked(tokenHash);
            const closed = registry.closeSession(tokenHash, CloseCodes.SESSION_ENDED, 'session ended');
            if (closed > 0) revocationLog.info({ userId, sockets: closed }, 'session revoked: closed its sockets');
          },
        });
        await revocations.start();
        return revocations;
      },
      (revocations) => revocations.stop(),
    );
    runner.provide(
      'room-events',
      async () => {
        const events = new RoomEvents({
          js: nats.value.client.js,
          stream: config.eventsStream,
          prefix: config.eventsPrefix,
          log: log.child({ component: 'room-events' }),
          onEvent: (e) => {
            if (e.type === 'room.deleted') gatekeeper.forgetMembership(e.room_id);
            else if (e.type === 'room.member_removed') gatekeeper.forgetMembership(e.room_id, e.data.user_id);
            registry.onRoomEvent(e);
          },
        });
        roomEvents = events;
        await events.start();
        return events;
      },
      (events) => events.stop(),
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
