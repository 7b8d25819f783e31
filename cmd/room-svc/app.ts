import { createPostgres } from '@parley/clients';
import { component } from '@parley/lifecycle';
import { buildHttpApp, httpComponent, type OpenApiInfo } from '@parley/http';
import { grpcComponent } from '@parley/proto';
import type { ServiceDefinition } from '@parley/service';
import { roomConfigSpec } from './src/config.js';
import { PostgresRoomStore } from './src/rooms.js';
import { GrpcSessionValidator } from '@parley/access';
import { OutboxRelay } from '@parley/outbox';
import { eventStreamSubjects } from './src/events.js';
import { registerRoomRoutes } from './src/routes.js';
import { roomGrpcService } from './src/grpc.js';
import { GrpcUserDirectory } from './src/user-directory.js';

/** The introduction of the generated API document; the routes describe themselves (src/routes.ts). */
export const roomApiInfo: OpenApiInfo = {
  title: 'Parley room-svc',
  description:
    'Rooms and memberships. Every route needs a session token (`Authorization: Bearer` or the `parley_session` cookie), validated with user-svc. ' +
    'Errors: `{"error":{"code","message","details"?}}`. Owners rename, delete, add and remove members; the owner cannot leave.',
};

export const roomService: ServiceDefinition<typeof roomConfigSpec> = {
  name: 'room-svc',
  spec: roomConfigSpec,
  build({ config, log, runner, metrics }) {
    const pg = createPostgres({ url: config.databaseUrl, schema: config.dbSchema, applicationName: 'room-svc', onError: (err) => log.warn({ err }, 'postgres pool error') });
    const rooms = new PostgresRoomStore(pg.client, config.eventsPrefix);
    const sessions = new GrpcSessionValidator({ address: config.userSvcGrpc, cacheTtlMs: config.authCacheTtlMs });
    const users = new GrpcUserDirectory(config.userSvcGrpc);
    const relay = new OutboxRelay({
      name: 'room-outbox-relay',
      table: 'room_outbox',
      pool: pg.client,
      natsUrl: config.natsUrl,
      stream: { name: config.eventsStream, subjects: eventStreamSubjects(config.eventsPrefix), duplicateWindowMs: config.eventsDuplicateWindowMs },
      pollMs: config.outboxPollMs,
      batch: config.outboxBatch,
      maxBackoffMs: config.outboxMaxBackoffMs,
      retention: { keepPublishedMs: config.outboxKeepPublishedMs, pruneEveryMs: config.outboxPruneEveryMs },
      log: log.child({ component: 'outbox-relay' }),
    });
    const app = buildHttpApp({
      log,
      bodyLimit: config.bodyLimit,
      metrics,
      openapi: roomApiInfo,
      healthChecks: [
        { name: 'postgres', check: () => pg.health() },
        // Without NATS, rooms still work and events wait in the outbox.
        { name: 'nats', check: () => relay.health(), critical: false },
      ],
    });
    registerRoomRoutes(app, rooms, sessions, users);

    runner.add(component('postgres', () => pg.health(), () => pg.close()));
    runner.add(component('user-svc-client', () => undefined, () => {
      sessions.close();
      users.close();
    }));
    runner.add(relay);
    runner.add(httpComponent('http', app, config.httpHost, config.httpPort));
    runner.add(grpcComponent('grpc', { services: [roomGrpcService(rooms, log)], host: config.grpcHost, port: config.grpcPort, log, metrics }));
  },
};
