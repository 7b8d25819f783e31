import { hostname } from 'node:os';
import { field, types, kafkaFields, natsFields, opsFields, cassandraFields } from '@parley/config';
import { connectNats, createCassandra, createKafka } from '@parley/clients';
import { DEFAULT_STREAM_NAME, DEFAULT_SUBJECT_PREFIX } from '@parley/nats';
import { component } from '@parley/lifecycle';
import { KafkaDeadLetterSink, SinkWorker, pipelineFields } from '@parley/pipeline';
import { addOpsServer, type ServiceDefinition } from '@parley/service';
import { CassandraMessageSink } from './src/cassandra-message-sink.js';
import { ChangeAnnouncer } from './src/change-announcer.js';

export const spec = {
  ...kafkaFields,
  ...pipelineFields,
  ...opsFields,
  ...cassandraFields,
  ...natsFields,
  stream: field({ env: 'NATS_STREAM', schema: types.string(64), default: DEFAULT_STREAM_NAME, doc: 'JetStream stream that captures the room subjects (changes are announced into it)' }),
  subjectPrefix: field({ env: 'NATS_SUBJECT_PREFIX', schema: types.string(64), default: DEFAULT_SUBJECT_PREFIX, doc: 'first token of the room subjects (<prefix>.room.<id>.upd)' }),
  announce: field({
    env: 'CQL_ANNOUNCE_CHANGES',
    schema: types.bool(),
    default: 'true',
    doc: 'announce changed messages to the room (live message_updated); off for a rebuild of the store from the log, which must not replay them to clients',
  }),
  announceTimeoutMs: field({ env: 'CQL_ANNOUNCE_TIMEOUT_MS', schema: types.int(100, 60_000), default: '5000', doc: 'how long an announcement of a change may wait for its PubAck' }),
  groupId: field({ env: 'KAFKA_GROUP_ID', schema: types.string(200), default: 'chat-command-cql', doc: 'consumer group' }),
  maxBatch: field({ env: 'CQL_MAX_BATCH', schema: types.int(1, 10_000), default: '1000', doc: 'records written concurrently before committing' }),
  maxWaitMs: field({ env: 'CQL_FETCH_MAX_WAIT_MS', schema: types.int(10, 10_000), default: '100', doc: 'broker fetch wait' }),
};

export const cqlCommandService: ServiceDefinition<typeof spec> = {
  name: 'chat-command-cql-svc',
  spec,
  build({ config, log, runner, metrics }) {
    const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'chat-command-cql-svc' });
    const cql = createCassandra({ contactPoints: config.cassandraContactPoints, localDataCenter: config.cassandraLocalDc });
    const nats = config.announce
      ? runner.provide(
          'nats',
          () => connectNats({ url: config.natsUrl, name: `chat-command-cql-svc:${hostname()}:${process.pid}`, noAsyncTraces: true }),
          (handle) => handle.close(),
        )
      : undefined;
    addOpsServer(runner, {
      ...config,
      log,
      metrics,
      checks: [
        { name: 'kafka', check: () => kafka.health() },
        { name: 'cassandra', check: () => cql.health() },
        ...(nats ? [{ name: 'nats', check: () => nats.value.health() }] : []),
      ],
    });
    runner.add(component('kafka-admin', () => undefined, () => kafka.close()));
    const producer = kafka.client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    runner.add(component('cassandra', () => cql.client.connect(), () => cql.close()));
    runner.add(component('dlq-producer', () => producer.connect(), () => producer.disconnect()));
    runner.add(
      new SinkWorker({
        kafka: kafka.client,
        topic: config.topic,
        groupId: config.groupId,
        sink: new CassandraMessageSink(
          cql.client,
          config.cassandraKeyspace,
          undefined,
          nats && new ChangeAnnouncer(() => nats.value.client.js, { stream: config.stream, prefix: config.subjectPrefix, timeoutMs: config.announceTimeoutMs }),
        ),
        deadLetters: new KafkaDeadLetterSink(producer, config.dlqTopic, log.child({ component: 'dlq' }), metrics),
        log: log.child({ component: 'cql-worker' }),
        service: 'chat-command-cql-svc',
        maxBatch: config.maxBatch,
        maxWaitMs: config.maxWaitMs,
        maxBodyBytes: config.maxBodyBytes,
        metrics: { registry: metrics, hop: 'readable' },
        onFatal: (err) => runner.fail('cql-worker', err),
      }),
    );
  },
};
