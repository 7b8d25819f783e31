import { hostname } from 'node:os';
import { connectNats, createCassandra, createElastic, elasticNames } from '@parley/clients';
import { DEFAULT_BUCKET_MS } from '@parley/envelope';
import { ParleyError } from '@parley/errors';
import { buildHttpApp, httpComponent, type OpenApiInfo } from '@parley/http';
import { component } from '@parley/lifecycle';
import { grpcComponent } from '@parley/proto';
import { CachedMembership } from '@parley/access';
import { parseEvent, roomEventSchema } from '@parley/contracts';
import { roomEventSubjects, StreamFollower } from '@parley/nats';
import type { ServiceDefinition } from '@parley/service';
import { queryConfigSpec } from './src/config.js';
import { GrpcRoomAccess } from './src/access.js';
import { CassandraPartitionReader } from './src/cassandra-partition-reader.js';
import { ElasticMessageSearch } from './src/elastic-message-search.js';
import { queryGrpcService } from './src/grpc.js';
import { latestMessages } from './src/latest-messages.js';
import { MessageReads } from './src/message-reads.js';
import { registerAdminRoutes, registerLatestRoute, registerMessageRoutes, registerQueryRoutes, registerReadRoutes } from './src/routes.js';
import { Erasures } from './src/erasures.js';
import { ReadMarks } from './src/read-state.js';

/** The introduction of the generated API document; the routes describe themselves (src/routes.ts). */
export const queryApiInfo: OpenApiInfo = {
  title: 'Parley chat-query-svc',
  description:
    "History and search of a room's messages (from Elasticsearch), and pages by message id (from Cassandra). " +
    'Every route needs a session token (`Authorization: Bearer` or the `parley_session` cookie) and membership of the room: ' +
    '401 without a valid session, 403 for a non-member, 404 for an unknown room, 400 for malformed input. ' +
    'Errors: `{"error":{"code","message","details"?}}`. Message ids are snowflake ids as decimal strings.',
};

/**
 * chat-query-svc: the latest messages of a room from Cassandra over gRPC (for the realtime
 * edge's join and resume) and REST (clients paging by id), history and search from
 * Elasticsearch over REST (for clients).
 * It only reads; the chat-command-* workers write both stores.
 */
export const queryService: ServiceDefinition<typeof queryConfigSpec> = {
  name: 'chat-query-svc',
  spec: queryConfigSpec,
  build({ config, log, runner, metrics }) {
    if (config.defaultLimit > config.maxLimit) {
      throw new ParleyError('CONFIG_INVALID', `QUERY_DEFAULT_LIMIT (${config.defaultLimit}) must not exceed QUERY_MAX_LIMIT (${config.maxLimit})`);
    }
    const cql = createCassandra({ contactPoints: config.cassandraContactPoints, localDataCenter: config.cassandraLocalDc });
    const es = createElastic({ url: config.elasticsearchUrl, requestTimeoutMs: 10_000 });
    // Membership answers are reused for a moment and dropped by room-svc's events (CachedMembership).
    let follower: StreamFollower | undefined;
    let membership: CachedMembership | undefined;
    const access = new GrpcRoomAccess({
      userSvcAddr: config.userSvcGrpc,
      roomSvcAddr: config.roomSvcGrpc,
      sessionTtlMs: config.authCacheTtlMs,
      ...(config.membershipCacheMs > 0
        ? { members: (roomSvc) => (membership = new CachedMembership(roomSvc, { ttlMs: config.membershipCacheMs, live: () => follower?.following ?? false })) }
        : {}),
    });
    const search = new ElasticMessageSearch(es.client, elasticNames(config.elasticsearchIndexPrefix).alias);
    // The writer (chat-command-cql-svc) buckets with the same constant: both sides must agree.
    const reader = new CassandraPartitionReader(cql.client, config.cassandraKeyspace);
    const reads = new MessageReads(cql.client, config.cassandraKeyspace, DEFAULT_BUCKET_MS);

    const app = buildHttpApp({
      log,
      bodyLimit: config.bodyLimit,
      metrics,
      openapi: queryApiInfo,
      healthChecks: [
        { name: 'cassandra', check: () => cql.health() },
        { name: 'elasticsearch', check: () => es.health() },
      ],
    });
    const limits = { defaultLimit: config.defaultLimit, maxLimit: config.maxLimit, skewMs: config.clockSkewMs, bucketMs: DEFAULT_BUCKET_MS };
    const latest = latestMessages({ access, reader, reads, limits });
    registerQueryRoutes(app, access, search, config, reads);
    registerMessageRoutes(app, { access, reads, search, limits: config });
    const marks = new ReadMarks({ access, reads, search });
    registerReadRoutes(app, { access, reads, search, marks });
    // NATS: the operator API logs erasures like every change (needed when its token is set); the
    // membership cache follows room events (without NATS it simply never serves from the cache).
    const nats =
      config.adminToken || membership
        ? runner.provide(
            'nats',
            () =>
              connectNats({ url: config.natsUrl, name: `chat-query-svc:${hostname()}:${process.pid}` }).catch((err: unknown) => {
                if (config.adminToken) throw err;
                log.warn({ err }, 'nats unavailable: membership answers are not cached');
                return undefined;
              }),
            (h) => h?.close(),
          )
        : undefined;
    if (membership && nats) {
      const cache = membership;
      runner.add(
        component(
          'room-events',
          async () => {
            const js = nats.value?.client.js;
            if (!js) return;
            follower = new StreamFollower({
              name: 'room events',
              js,
              stream: config.eventsStream,
              filterSubjects: roomEventSubjects(config.eventsPrefix).filter,
              log: log.child({ component: 'room-events' }),
              degraded: 'membership answers are not cached',
              onEvent: (data) => {
                const e = parseEvent(roomEventSchema, data);
                if (e?.type === 'room.member_removed') cache.forget(e.room_id, e.data.user_id);
                if (e?.type === 'room.deleted') cache.forget(e.room_id);
              },
            });
            await follower.start();
          },
          () => follower?.stop(),
        ),
      );
    }
    const erasures = config.adminToken && nats
      ? new Erasures({ es: es.client, alias: elasticNames(config.elasticsearchIndexPrefix).alias, js: () => nats.value!.client.js, stream: config.stream, prefix: config.subjectPrefix, timeoutMs: 5000 })
      : undefined;
    registerAdminRoutes(app, { adminToken: config.adminToken, erasures: () => erasures ?? failNoErasures() });
    registerLatestRoute(app, latest, limits);

    runner.add(component('cassandra', () => cql.client.connect(), () => cql.close()));
    runner.add(component('elasticsearch', () => es.health(), () => es.close()));
    runner.add(component('identity-clients', () => undefined, () => access.close()));
    runner.add(httpComponent('http', app, config.httpHost, config.httpPort));
    runner.add(grpcComponent('grpc', { services: [queryGrpcService({ latest, reads, access, marks, limits, log })], host: config.grpcHost, port: config.grpcPort, log, metrics }));
  },
};

function failNoErasures(): never {
  throw new ParleyError('FORBIDDEN', 'the operator API is off (QUERY_ADMIN_TOKEN is not set)');
}
