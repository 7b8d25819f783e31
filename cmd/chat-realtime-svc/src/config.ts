import { z } from 'zod';
import { field, types, natsFields, redisFields } from '@parley/config';
import { proxySecretSchema, trustedProxiesSchema } from '@parley/access';
import { DEFAULT_MAX_BODY_BYTES } from '@parley/envelope';
import { DEFAULT_LEASE_BUCKET, DEFAULT_STREAM_NAME, DEFAULT_SUBJECT_PREFIX } from '@parley/nats';

/** user-svc's documented revocation bound (USER_SESSION_CACHE_TTL_MS default); our cache stays within it. */
export const MAX_AUTH_CACHE_TTL_MS = 30_000;

const hostPort = z.string().regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must be host:port');
const subjectPrefix = z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated NATS subject tokens without wildcards');

export const realtimeConfigSpec = {
  ...natsFields,
  ...redisFields,
  host: field({ env: 'REALTIME_HOST', schema: types.string(255), default: '127.0.0.1', doc: 'WebSocket listen address' }),
  port: field({ env: 'REALTIME_PORT', schema: types.port(), default: '8003', doc: 'WebSocket port (0 = any free port)' }),
  userSvcGrpc: field({ env: 'USER_SVC_GRPC_ADDR', schema: hostPort, default: '127.0.0.1:50051', doc: 'user-svc gRPC address (session validation)' }),
  roomSvcGrpc: field({ env: 'ROOM_SVC_GRPC_ADDR', schema: hostPort, default: '127.0.0.1:50052', doc: 'room-svc gRPC address (membership)' }),
  querySvcGrpc: field({ env: 'QUERY_SVC_GRPC_ADDR', schema: hostPort, default: '127.0.0.1:50054', doc: 'chat-query-svc gRPC address (history on join)' }),
  authCacheTtlMs: field({
    env: 'REALTIME_AUTH_CACHE_TTL_MS',
    schema: types.int(0, MAX_AUTH_CACHE_TTL_MS),
    default: '5000',
    doc: 'in-process cache of validated sessions; never longer than user-svc allows',
  }),
  membershipCacheMs: field({
    env: 'REALTIME_MEMBERSHIP_CACHE_MS',
    schema: types.int(0, 60_000),
    default: '5000',
    doc: 'how long a "member" answer of room-svc is reused for joins; dropped at once by a removal or deletion event, and never used while those events cannot be followed; 0: ask every time',
  }),
  changeGraceMs: field({
    env: 'REALTIME_CHANGE_GRACE_MS',
    schema: types.int(0, 86_400_000),
    default: '600000',
    doc: 'a command naming a message the store does not hold yet looks it up in the room\'s stream if its id is younger than this (it may be between the stream and the store); older: message_not_found',
  }),
  grpcTimeoutMs: field({ env: 'REALTIME_GRPC_TIMEOUT_MS', schema: types.int(100, 30_000), default: '2000', doc: 'deadline of each gRPC call (auth, membership, history)' }),
  stream: field({ env: 'NATS_STREAM', schema: types.string(64), default: DEFAULT_STREAM_NAME, doc: 'JetStream stream holding the room message subjects (created if missing)' }),
  subjectPrefix: field({ env: 'NATS_SUBJECT_PREFIX', schema: subjectPrefix, default: DEFAULT_SUBJECT_PREFIX, doc: 'first token of the room subjects (<prefix>.room.<id>.msg)' }),
  eventsPrefix: field({ env: 'ROOM_EVENTS_PREFIX', schema: subjectPrefix, default: 'parley.events', doc: 'subject prefix of room lifecycle events (<prefix>.room.<roomId>.event.<type>)' }),
  eventsStream: field({ env: 'ROOM_EVENTS_STREAM', schema: types.string(64), default: 'ROOM_EVENTS', doc: 'JetStream stream of room lifecycle events (room-svc creates it)' }),
  sessionEventsPrefix: field({ env: 'SESSION_EVENTS_PREFIX', schema: subjectPrefix, default: 'parley.events', doc: 'subject prefix of user-svc session events (<prefix>.session.revoked)' }),
  sessionEventsStream: field({ env: 'SESSION_EVENTS_STREAM', schema: types.string(64), default: 'SESSION_EVENTS', doc: 'JetStream stream of session events (user-svc creates it)' }),
  trustedProxies: field({
    env: 'REALTIME_TRUSTED_PROXIES',
    schema: trustedProxiesSchema,
    default: '',
    doc: 'IPs or CIDR ranges of reverse proxies whose X-Forwarded-For is believed (per-IP limits); empty = the direct peer',
  }),
  proxySecret: field({
    env: 'REALTIME_PROXY_SECRET',
    schema: proxySecretSchema,
    default: '',
    secret: true,
    doc: 'when set, a trusted proxy must also send it in X-Parley-Proxy-Secret (web-gateway: WEB_PROXY_SECRET); needed whenever clients can reach this port from a trusted address',
  }),
  leaseBucket: field({ env: 'REALTIME_LEASE_BUCKET', schema: types.string(64), default: DEFAULT_LEASE_BUCKET, doc: 'NATS KV bucket handing out snowflake instance numbers' }),
  redisKeyPrefix: field({
    env: 'REALTIME_REDIS_PREFIX',
    schema: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1-64 of A-Za-z0-9:_.-'),
    default: 'parley:rt:',
    doc: 'prefix of every Redis key this service writes',
  }),
  historyLimit: field({ env: 'REALTIME_HISTORY_LIMIT', schema: types.int(1, 500), default: '50', doc: 'messages in the history frame on join' }),
  maxBodyBytes: field({ env: 'MESSAGE_MAX_BODY_BYTES', schema: types.int(1, 60_000), default: String(DEFAULT_MAX_BODY_BYTES), doc: 'largest accepted message body, UTF-8 bytes' }),
  maxFrameBytes: field({ env: 'REALTIME_MAX_FRAME_BYTES', schema: types.int(1024, 1_048_576), default: '16384', doc: 'largest inbound frame; uWebSockets.js drops a socket that sends a bigger one (clients see 1006)' }),
  maxBackpressure: field({ env: 'REALTIME_MAX_BACKPRESSURE', schema: types.int(4096, 64 * 1024 * 1024), default: '1048576', doc: 'bytes queued for one socket before it is closed with 4008' }),
  idleTimeoutSeconds: field({ env: 'REALTIME_IDLE_TIMEOUT_S', schema: types.int(8, 960), default: '60', doc: 'close a socket silent this long; pings are sent automatically before that' }),
  sendsPerUser: field({ env: 'REALTIME_SENDS_PER_USER', schema: types.int(1, 1_000_000), default: '30', doc: 'sends per user per rate window (all edges, Redis)' }),
  sendsPerIp: field({ env: 'REALTIME_SENDS_PER_IP', schema: types.int(1, 1_000_000), default: '300', doc: 'sends per client IP per rate window (all edges, Redis)' }),
  joinsPerUser: field({ env: 'REALTIME_JOINS_PER_USER', schema: types.int(1, 1_000_000), default: '60', doc: 'joins per user per rate window (429 beyond)' }),
  joinsPerIp: field({ env: 'REALTIME_JOINS_PER_IP', schema: types.int(1, 10_000_000), default: '600', doc: 'joins per client IP per rate window (429 beyond)' }),
  rateWindowSeconds: field({ env: 'REALTIME_RATE_WINDOW_S', schema: types.int(1, 3600), default: '10', doc: 'rate-limit window' }),
  maxStrikes: field({ env: 'REALTIME_MAX_STRIKES', schema: types.int(1, 1000), default: '10', doc: 'rejected frames within a rate window before the socket is closed (4400/4429)' }),
  maxInFlight: field({ env: 'REALTIME_MAX_IN_FLIGHT', schema: types.int(1, 10_000), default: '32', doc: 'unacknowledged sends per socket' }),
};
