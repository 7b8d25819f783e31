import { createPostgres, createRedis } from '@parley/clients';
import { component } from '@parley/lifecycle';
import { buildHttpApp, httpComponent, type OpenApiInfo } from '@parley/http';
import { requireProxySecret } from '@parley/access';
import { grpcComponent } from '@parley/proto';
import type { ServiceDefinition } from '@parley/service';
import type { Logger } from '@parley/log';
import { userConfigSpec } from './src/config.js';
import { PasswordChecker } from './src/passwords.js';
import { PostgresUserStore } from './src/users.js';
import { SessionService, RedisSessionCache } from './src/sessions.js';
import { RedisRateLimiter } from './src/rate-limit.js';
import { OutboxRelay } from '@parley/outbox';
import { sessionStreamSubjects } from './src/session-events.js';
import { registerUserRoutes } from './src/routes.js';
import { sessionPruner } from './src/session-pruner.js';
import { userGrpcService } from './src/grpc.js';

/** The introduction of the generated API document; the routes describe themselves (src/routes.ts). */
export const userApiInfo: OpenApiInfo = {
  title: 'Parley user-svc',
  description:
    'Accounts and sessions. Errors always have the shape `{"error":{"code","message","details"?}}`. ' +
    'A session token travels as `Authorization: Bearer <token>` or the `parley_session` cookie.',
};

export const userService: ServiceDefinition<typeof userConfigSpec> = {
  name: 'user-svc',
  spec: userConfigSpec,
  build({ config, log, runner, metrics }) {
    const pg = createPostgres({ url: config.databaseUrl, schema: config.dbSchema, applicationName: 'user-svc', onError: (err) => log.warn({ err }, 'postgres pool error') });
    const redisLog = redisStateLogger(log.child({ component: 'redis' }));
    const redis = createRedis({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, onError: redisLog.down });
    redis.client.on('ready', redisLog.up);

    // Revocations matter for a day at most: the longest a session lives.
    const relay = new OutboxRelay({
      name: 'session-outbox-relay',
      table: 'session_outbox',
      pool: pg.client,
      natsUrl: config.natsUrl,
      stream: { name: config.sessionEventsStream, subjects: sessionStreamSubjects(config.sessionEventsPrefix), duplicateWindowMs: 120_000, maxAgeMs: 24 * 3600_000 },
      pollMs: config.outboxPollMs,
      batch: config.outboxBatch,
      maxBackoffMs: config.outboxMaxBackoffMs,
      retention: { keepPublishedMs: config.outboxKeepPublishedMs, pruneEveryMs: config.outboxPruneEveryMs },
      log: log.child({ component: 'session-outbox-relay' }),
    });
    const sessions = new SessionService(pg.client, new RedisSessionCache(redis.client, redisLog.down), config.sessionTtlSeconds, config.sessionCacheTtlMs, config.sessionEventsPrefix);
    const app = buildHttpApp({
      log,
      bodyLimit: config.bodyLimit,
      metrics,
      openapi: userApiInfo,
      healthChecks: [
        { name: 'postgres', check: () => pg.health() },
        { name: 'redis', check: () => redis.health(), critical: false },
        { name: 'nats', check: () => relay.health(), critical: false },
      ],
    });
    const users = new PostgresUserStore(pg.client);
    registerUserRoutes(app, {
      users,
      sessions,
      passwords: new PasswordChecker(config.scryptLogN),
      limiter: new RedisRateLimiter(redis.client, redisLog.down),
      limits: { windowSeconds: config.loginWindowSeconds, perUsername: config.loginMaxPerUsername, perIp: config.loginMaxPerIp },
      registerLimits: { windowSeconds: config.registerWindowSeconds, perIp: config.registerMaxPerIp },
      sessionTtlSeconds: config.sessionTtlSeconds,
      cookieSecure: config.cookieSecure,
      trustedProxies: requireProxySecret(config.trustedProxies, config.proxySecret),
    });

    // PostgreSQL must answer before we serve; Redis and NATS are optional (we degrade without them).
    runner.add(component('postgres', () => pg.health(), () => pg.close()));
    // Redis is optional (limits fail open, sessions fall back to PostgreSQL), but a start that
    // does not wait for the connection would let the first requests skip their limits.
    runner.add(component('redis', () => redis.health().catch((err: unknown) => redisLog.down(err)), () => redis.close()));
    // Revocations wait in session_outbox while NATS is away; the relay never blocks a logout.
    runner.add(relay);
    runner.add(sessionPruner(pg.client, { afterMs: config.sessionPruneAfterMs, everyMs: config.sessionPruneEveryMs, log: log.child({ component: 'session-pruner' }) }));
    runner.add(httpComponent('http', app, config.httpHost, config.httpPort));
    runner.add(grpcComponent('grpc', { services: [userGrpcService(sessions, users, log)], host: config.grpcHost, port: config.grpcPort, log, metrics }));
  },
};

/** One warning when Redis goes away and one line when it is back, not one per failed command. */
function redisStateLogger(log: Logger): { down: (err: unknown) => void; up: () => void } {
  let healthy = true;
  return {
    down: (err) => {
      if (!healthy) return;
      healthy = false;
      log.warn({ err }, 'redis unavailable: sessions fall back to postgres, login limits fail open');
    },
    up: () => {
      if (healthy) return;
      healthy = true;
      log.info('redis available again');
    },
  };
}
