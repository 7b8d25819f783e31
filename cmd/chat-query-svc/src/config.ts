import { z } from 'zod';
import { field, types, cassandraFields, elasticFields, natsFields } from '@parley/config';
import { DEFAULT_STREAM_NAME, DEFAULT_SUBJECT_PREFIX } from '@parley/nats';

/** The revocation bound user-svc documents (USER_SESSION_CACHE_TTL_MS default); our cache stays within it. */
export const MAX_AUTH_CACHE_TTL_MS = 30_000;

const grpcAddr = () => z.string().regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must be host:port');

export const queryConfigSpec = {
  ...cassandraFields,
  ...elasticFields,
  ...natsFields,
  stream: field({ env: 'NATS_STREAM', schema: types.string(64), default: DEFAULT_STREAM_NAME, doc: 'JetStream stream of the room subjects (operator erasures are logged into it)' }),
  subjectPrefix: field({ env: 'NATS_SUBJECT_PREFIX', schema: types.string(64), default: DEFAULT_SUBJECT_PREFIX, doc: 'first token of the room subjects (<prefix>.room.<id>.msg)' }),
  eventsPrefix: field({ env: 'ROOM_EVENTS_PREFIX', schema: types.string(64), default: 'parley.events', doc: 'subject prefix of room-svc lifecycle events (membership answers are dropped on them)' }),
  eventsStream: field({ env: 'ROOM_EVENTS_STREAM', schema: types.string(64), default: 'ROOM_EVENTS', doc: 'JetStream stream of room lifecycle events (room-svc creates it)' }),
  membershipCacheMs: field({
    env: 'QUERY_MEMBERSHIP_CACHE_MS',
    schema: types.int(0, 60_000),
    default: '5000',
    doc: 'how long a "member" answer of room-svc is reused; dropped at once by a removal or deletion event, and never used while those events cannot be followed; 0: ask every time',
  }),
  adminToken: field({
    env: 'QUERY_ADMIN_TOKEN',
    schema: z.string().max(256),
    default: '',
    secret: true,
    doc: 'bearer token of the operator API (POST /v1/admin/erasures); empty: the API is off and NATS is not used',
  }),
  httpHost: field({ env: 'QUERY_HTTP_HOST', schema: types.string(255), default: '127.0.0.1', doc: 'REST listen address' }),
  httpPort: field({ env: 'QUERY_HTTP_PORT', schema: types.port(), default: '8004', doc: 'REST port' }),
  grpcHost: field({ env: 'QUERY_GRPC_HOST', schema: types.string(255), default: '127.0.0.1', doc: 'gRPC listen address (internal callers only)' }),
  grpcPort: field({ env: 'QUERY_GRPC_PORT', schema: types.port(), default: '50054', doc: 'gRPC port' }),
  userSvcGrpc: field({ env: 'USER_SVC_GRPC_ADDR', schema: grpcAddr(), default: '127.0.0.1:50051', doc: 'user-svc gRPC address (session validation)' }),
  roomSvcGrpc: field({ env: 'ROOM_SVC_GRPC_ADDR', schema: grpcAddr(), default: '127.0.0.1:50052', doc: 'room-svc gRPC address (membership, room creation time)' }),
  authCacheTtlMs: field({
    env: 'QUERY_AUTH_CACHE_TTL_MS',
    schema: types.int(0, MAX_AUTH_CACHE_TTL_MS),
    default: '5000',
    doc: 'in-process cache of validated sessions; never longer than user-svc allows (cache_until_ms)',
  }),
  defaultLimit: field({ env: 'QUERY_DEFAULT_LIMIT', schema: types.int(1, 1000), default: '50', doc: 'page size when the caller gives none' }),
  maxLimit: field({ env: 'QUERY_MAX_LIMIT', schema: types.int(1, 1000), default: '200', doc: 'largest page a caller may ask for (400 / INVALID_ARGUMENT beyond)' }),
  maxQueryChars: field({ env: 'QUERY_MAX_QUERY_CHARS', schema: types.int(1, 4096), default: '256', doc: 'longest search text, in characters' }),
  clockSkewMs: field({
    env: 'QUERY_CLOCK_SKEW_MS',
    schema: types.int(0, 3_600_000),
    default: '60000',
    doc: 'how far ids may run ahead of this clock or precede the room creation time; widens the bucket walk',
  }),
  bodyLimit: field({ env: 'QUERY_HTTP_BODY_LIMIT', schema: types.int(1024, 1_048_576), default: '16384', doc: 'largest REST request body in bytes' }),
};
