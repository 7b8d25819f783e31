import { field } from './index.js';
import { types } from './types.js';

/**
 * Fields shared by several services. A service spreads the ones it needs into its own spec,
 * so the env names and defaults of the infrastructure are written down once.
 */
export const commonFields = {
  logLevel: field({
    env: 'LOG_LEVEL',
    schema: types.enumOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    doc: 'pino log level',
  }),
  shutdownTimeoutMs: field({
    env: 'SHUTDOWN_TIMEOUT_MS',
    schema: types.int(100, 120_000),
    default: '15000',
    doc: 'hard deadline for a graceful shutdown',
  }),
};

export const natsFields = {
  natsUrl: field({ env: 'NATS_URL', schema: types.url(['nats', 'tls']), default: 'nats://127.0.0.1:4222', doc: 'NATS server URL, nats://user:password@host:port', secret: true }),
};

export const kafkaFields = {
  kafkaBrokers: field({ env: 'KAFKA_BROKERS', schema: types.hostPorts(), default: '127.0.0.1:9092', doc: 'Kafka bootstrap brokers, comma separated' }),
};

export const cassandraFields = {
  cassandraContactPoints: field({ env: 'CASSANDRA_CONTACT_POINTS', schema: types.hostPorts(), default: '127.0.0.1:9042', doc: 'Cassandra/ScyllaDB contact points' }),
  cassandraLocalDc: field({ env: 'CASSANDRA_LOCAL_DC', schema: types.string(64), default: 'datacenter1', doc: 'local data center name' }),
  cassandraKeyspace: field({ env: 'CASSANDRA_KEYSPACE', schema: types.identifier(), default: 'parley', doc: 'keyspace of the message tables' }),
};

export const elasticFields = {
  elasticsearchUrl: field({ env: 'ELASTICSEARCH_URL', schema: types.url(['http', 'https']), default: 'http://127.0.0.1:9200', doc: 'Elasticsearch URL' }),
  elasticsearchIndexPrefix: field({ env: 'ELASTICSEARCH_INDEX_PREFIX', schema: types.identifier(), default: 'parley', doc: 'prefix of index, alias and template names' }),
};

export const postgresFields = {
  databaseUrl: field({
    env: 'DATABASE_URL',
    schema: types.url(['postgres', 'postgresql']),
    default: 'postgres://postgres@127.0.0.1:5432/parley',
    doc: 'PostgreSQL connection URL',
    secret: true,
  }),
};

export const redisFields = {
  redisUrl: field({ env: 'REDIS_URL', schema: types.url(['redis', 'rediss']), default: 'redis://127.0.0.1:6379/0', doc: 'Redis URL', secret: true }),
};

/**
 * The operations port of a pipeline worker (GET /healthz, /readyz). The default 0 takes a free
 * port and logs it, so several workers (tests, one host) never collide; `make up` and the
 * compose file give each worker a fixed one for probes and scrapers.
 */
export const opsFields = {
  opsHost: field({ env: 'OPS_HOST', schema: types.string(255), default: '127.0.0.1', doc: 'interface of the ops endpoints' }),
  opsPort: field({ env: 'OPS_PORT', schema: types.port(), default: '0', doc: 'port of GET /healthz and /readyz (0: any free port, logged)' }),
};
