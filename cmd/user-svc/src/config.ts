import { z } from 'zod';
import { field, types, natsFields, postgresFields, redisFields } from '@parley/config';
import { proxySecretSchema, trustedProxiesSchema } from '@parley/access';
import { outboxRetentionFields } from '@parley/outbox';

const subjectPrefix = z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated NATS subject tokens without wildcards');

export const userConfigSpec = {
  ...postgresFields,
  ...redisFields,
  ...natsFields,
  httpHost: field({ env: 'USER_HTTP_HOST', schema: types.string(255), default: '127.0.0.1', doc: 'REST listen address' }),
  httpPort: field({ env: 'USER_HTTP_PORT', schema: types.port(), default: '8001', doc: 'REST port' }),
  grpcHost: field({ env: 'USER_GRPC_HOST', schema: types.string(255), default: '127.0.0.1', doc: 'gRPC listen address (internal callers only)' }),
  grpcPort: field({ env: 'USER_GRPC_PORT', schema: types.port(), default: '50051', doc: 'gRPC port' }),
  bodyLimit: field({ env: 'USER_HTTP_BODY_LIMIT', schema: types.int(1024, 1_048_576), default: '16384', doc: 'largest REST request body in bytes (413 beyond)' }),
  dbSchema: field({ env: 'USER_DB_SCHEMA', schema: types.identifier(), default: 'public', doc: 'PostgreSQL schema holding users and sessions' }),
  redisKeyPrefix: field({
    env: 'USER_REDIS_PREFIX',
    schema: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1-64 of A-Za-z0-9:_.-'),
    default: 'parley:user:',
    doc: 'prefix of every Redis key this service writes',
  }),
  sessionTtlSeconds: field({ env: 'USER_SESSION_TTL_SECONDS', schema: types.int(60, 90 * 86_400), default: '604800', doc: 'session lifetime' }),
  sessionCacheTtlMs: field({
    env: 'USER_SESSION_CACHE_TTL_MS',
    schema: types.int(0, 300_000),
    default: '30000',
    doc: 'how long a validated session may be reused from cache: the revocation bound',
  }),
  loginWindowSeconds: field({ env: 'USER_LOGIN_WINDOW_SECONDS', schema: types.int(1, 86_400), default: '300', doc: 'login rate-limit window' }),
  loginMaxPerUsername: field({ env: 'USER_LOGIN_MAX_PER_USERNAME', schema: types.int(1, 100_000), default: '10', doc: 'login attempts per username per window' }),
  loginMaxPerIp: field({ env: 'USER_LOGIN_MAX_PER_IP', schema: types.int(1, 1_000_000), default: '100', doc: 'login attempts per client IP per window' }),
  registerWindowSeconds: field({ env: 'USER_REGISTER_WINDOW_SECONDS', schema: types.int(1, 86_400), default: '3600', doc: 'registration rate-limit window' }),
  registerMaxPerIp: field({ env: 'USER_REGISTER_MAX_PER_IP', schema: types.int(1, 1_000_000), default: '20', doc: 'registration attempts per client IP per window' }),
  scryptLogN: field({ env: 'USER_SCRYPT_LOG_N', schema: types.int(10, 20), default: '15', doc: 'scrypt cost for new hashes: N = 2^value (memory = 128 * N * 8 bytes)' }),
  trustedProxies: field({
    env: 'USER_TRUSTED_PROXIES',
    schema: trustedProxiesSchema,
    default: '',
    doc: 'IPs or CIDR ranges of reverse proxies whose X-Forwarded-For is believed (login and registration limits per client IP); empty = the direct peer',
  }),
  proxySecret: field({
    env: 'USER_PROXY_SECRET',
    schema: proxySecretSchema,
    default: '',
    secret: true,
    doc: 'when set, a trusted proxy must also send it in X-Parley-Proxy-Secret (web-gateway: WEB_PROXY_SECRET); needed whenever clients can reach this port from a trusted address',
  }),
  sessionEventsPrefix: field({ env: 'SESSION_EVENTS_PREFIX', schema: subjectPrefix, default: 'parley.events', doc: 'subject prefix of session events (<prefix>.session.revoked)' }),
  sessionEventsStream: field({ env: 'SESSION_EVENTS_STREAM', schema: types.string(64), default: 'SESSION_EVENTS', doc: 'JetStream stream holding session events (created if missing)' }),
  outboxPollMs: field({ env: 'USER_OUTBOX_POLL_MS', schema: types.int(10, 60_000), default: '250', doc: 'how often the relay looks for unannounced session events' }),
  outboxBatch: field({ env: 'USER_OUTBOX_BATCH', schema: types.int(1, 10_000), default: '100', doc: 'session events per relay transaction' }),
  outboxMaxBackoffMs: field({ env: 'USER_OUTBOX_MAX_BACKOFF_MS', schema: types.int(100, 300_000), default: '10000', doc: 'longest wait between relay retries while NATS is down' }),
  ...outboxRetentionFields('USER'),
  sessionPruneAfterMs: field({ env: 'SESSION_PRUNE_AFTER_MS', schema: types.int(0, 90 * 86_400_000), default: String(86_400_000), doc: 'sessions that expired longer ago than this are deleted' }),
  sessionPruneEveryMs: field({ env: 'SESSION_PRUNE_EVERY_MS', schema: types.int(100, 86_400_000), default: '600000', doc: 'how often expired sessions are pruned' }),
  cookieSecure: field({ env: 'USER_COOKIE_SECURE', schema: types.bool(), default: 'false', doc: 'mark the session cookie Secure (set behind HTTPS)' }),
};
