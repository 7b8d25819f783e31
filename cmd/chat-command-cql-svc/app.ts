import { field, types, kafkaFields, opsFields, cassandraFields } from '@parley/config';
import { createCassandra, createKafka } from '@parley/clients';
import { component } from '@parley/lifecycle';
import { KafkaDeadLetterSink, SinkWorker, pipelineFields } from '@parley/pipeline';
import { addOpsServer, type ServiceDefinition } from '@parley/service';
import { CassandraMessageSink } from './src/cassandra-message-sink.js';

export const spec = {
  ...kafkaFields,
  ...pipelineFields,
  ...opsFields,
  ...cassandraFields,
  groupId: field({ env: 'KAFKA_GROUP_ID', schema: types.string(200), default: 'chat-command-cql', doc: 'consumer group' }),
  maxBatch: field({ env: 'CQL_MAX_BATCH', schema: types.int(1, 10_000), default: '256', doc: 'records written concurrently before committing' }),
  maxWaitMs: field({ env: 'CQL_FETCH_MAX_WAIT_MS', schema: types.int(10, 10_000), default: '100', doc: 'broker fetch wait' }),
};

export const cqlCommandService: ServiceDefinition<typeof spec> = {
  name: 'chat-command-cql-svc',
  spec,
  build({ config, log, runner, metrics }) {
    const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'chat-command-cql-svc' });
    const cql = createCassandra({ contactPoints: config.cassandraContactPoints, localDataCenter: config.cassandraLocalDc });
    addOpsServer(runner, { ...config, log, metrics, checks: [{ name: 'kafka', check: () => kafka.health() }, { name: 'cassandra', check: () => cql.health() }] });
    runner.add(component('kafka-admin', () => undefined, () => kafka.close()));
    const producer = kafka.client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    runner.add(component('cassandra', () => cql.client.connect(), () => cql.close()));
    runner.add(component('dlq-producer', () => producer.connect(), () => producer.disconnect()));
    runner.add(
      new SinkWorker({
        kafka: kafka.client,
        topic: config.topic,
        groupId: config.groupId,
        sink: new CassandraMessageSink(cql.client, config.cassandraKeyspace),
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
