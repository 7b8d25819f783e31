import { z } from 'zod';
import { field, types, postgresFields, natsFields } from '@parley/config';
import { outboxRetentionFields } from '@parley/outbox';

/** The revocation bound user-svc documents (USER_SESSION_CACHE_TTL_MS default); our cache stays within it. */
export const MAX_AUTH_CACHE_TTL_MS = 30_000;

export const roomConfigSpec = {
  ...postgresFields,
  ...natsFields,
  httpHost: field({ env: 'ROOM_HTTP_HOST', schema: types.string(255), default: '127.0.0.1', doc: 'REST listen address' }),
  httpPort: field({ env: 'ROOM_HTTP_PORT', schema: types.port(), default: '8002', doc: 'REST port' }),
  grpcHost: field({ env: 'ROOM_GRPC_HOST', schema: types.string(255), default: '127.0.0.1', doc: 'gRPC listen address (internal callers only)' }),
  grpcPort: field({ env: 'ROOM_GRPC_PORT', schema: types.port(), default: '50052', doc: 'gRPC port' }),
  bodyLimit: field({ env: 'ROOM_HTTP_BODY_LIMIT', schema: types.int(1024, 1_048_576), default: '16384', doc: 'largest REST request body in bytes (413 beyond)' }),
  dbSchema: field({ env: 'ROOM_DB_SCHEMA', schema: types.identifier(), default: 'public', doc: 'PostgreSQL schema holding rooms, members and the outbox' }),
  userSvcGrpc: field({
    env: 'USER_SVC_GRPC_ADDR',
    schema: z.string().regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must be host:port'),
    default: '127.0.0.1:50051',
    doc: 'user-svc gRPC address (session validation)',
  }),
  authCacheTtlMs: field({
    env: 'ROOM_AUTH_CACHE_TTL_MS',
    schema: types.int(0, MAX_AUTH_CACHE_TTL_MS),
    default: '5000',
    doc: 'in-process cache of validated sessions; never longer than user-svc allows',
  }),
  eventsPrefix: field({
    env: 'ROOM_EVENTS_PREFIX',
    schema: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated NATS subject tokens without wildcards'),
    default: 'parley.events',
    doc: 'subject prefix of room lifecycle events: <prefix>.room.<roomId>.event.<type>',
  }),
  eventsStream: field({
    env: 'ROOM_EVENTS_STREAM',
    schema: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 of A-Za-z0-9_-'),
    default: 'ROOM_EVENTS',
    doc: 'JetStream stream capturing <prefix>.room.> (created if missing)',
  }),
  eventsDuplicateWindowMs: field({ env: 'ROOM_EVENTS_DUPLICATE_WINDOW_MS', schema: types.int(1000, 86_400_000), default: '120000', doc: 'JetStream dedupe window for new streams' }),
  outboxPollMs: field({ env: 'ROOM_OUTBOX_POLL_MS', schema: types.int(10, 60_000), default: '250', doc: 'how often the relay looks for unpublished events' }),
  outboxBatch: field({ env: 'ROOM_OUTBOX_BATCH', schema: types.int(1, 10_000), default: '100', doc: 'events per relay transaction' }),
  outboxMaxBackoffMs: field({ env: 'ROOM_OUTBOX_MAX_BACKOFF_MS', schema: types.int(100, 300_000), default: '10000', doc: 'longest wait between relay retries while NATS is down' }),
  ...outboxRetentionFields('ROOM'),
};
