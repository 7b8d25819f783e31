import { field, types, kafkaFields, cassandraFields } from '@parley/config';
import { createCassandra, createKafka } from '@parley/clients';
import { DEFAULT_DLQ_TOPIC, DEFAULT_MAX_BODY_BYTES, DEFAULT_TOPIC } from '@parley/envelope';
import { component } from '@parley/lifecycle';
import { KafkaDeadLetterSink, SinkWorker } from '@parley/pipeline';
import type { ServiceDefinition } from '@parley/service';
import { CassandraMessageSink } from './src/cassandra-message-sink.js';

export const spec = {
  ...kafkaFields,
  ...cassandraFields,
  topic: field({ env: 'KAFKA_TOPIC', schema: types.string(200), default: DEFAULT_TOPIC, doc: 'Kafka topic to read messages from' }),
  dlqTopic: field({ env: 'KAFKA_DLQ_TOPIC', schema: types.string(200), default: DEFAULT_DLQ_TOPIC, doc: 'dead-letter topic' }),
  groupId: field({ env: 'KAFKA_GROUP_ID', schema: types.string(200), default: 'chat-command-cql', doc: 'consumer group' }),
  maxBatch: field({ env: 'CQL_MAX_BATCH', schema: types.int(1, 10_000), default: '256', doc: 'records written concurrently before committing' }),
  maxWaitMs: field({ env: 'CQL_FETCH_MAX_WAIT_MS', schema: types.int(10, 10_000), default: '100', doc: 'broker fetch wait' }),
  maxBodyBytes: field({ env: 'MESSAGE_MAX_BODY_BYTES', schema: types.int(1, 1_000_000), default: String(DEFAULT_MAX_BODY_BYTES), doc: 'largest accepted message body, UTF-8 bytes' }),
};

export const cqlCommandService: ServiceDefinition<typeof spec> = {
  name: 'chat-command-cql-svc',
  spec,
  build({ config, log, runner }) {
    const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'chat-command-cql-svc' });
    const cql = createCassandra({ contactPoints: config.cassandraContactPoints, localDataCenter: config.cassandraLocalDc });
    const producer = kafka.client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    runner.add(component('cassandra', () => cql.client.connect(), () => cql.close()));
    runner.add(component('dlq-producer', () => producer.connect(), () => producer.disconnect()));
    runner.add(
      new SinkWorker({
        kafka: kafka.client,
        topic: config.topic,
        groupId: config.groupId,
        sink: new CassandraMessageSink(cql.client, config.cassandraKeyspace),
        deadLetters: new KafkaDeadLetterSink(producer, config.dlqTopic, log.child({ component: 'dlq' })),
        log: log.child({ component: 'cql-worker' }),
        service: 'chat-command-cql-svc',
        maxBatch: config.maxBatch,
        maxWaitMs: config.maxWaitMs,
        maxBodyBytes: config.maxBodyBytes,
        onFatal: (err) => runner.fail('cql-worker', err),
      }),
    );
  },
};
