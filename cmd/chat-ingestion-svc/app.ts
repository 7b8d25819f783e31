import { field, types, natsFields, kafkaFields, opsFields } from '@parley/config';
import { createKafka } from '@parley/clients';
import { DEFAULT_STREAM_NAME, DEFAULT_SUBJECT_PREFIX } from '@parley/nats';
import { component } from '@parley/lifecycle';
import { ensureTopics, pipelineFields } from '@parley/pipeline';
import { addOpsServer, type ServiceDefinition } from '@parley/service';
import { IngestionWorker } from './src/ingestion-worker.js';

export const spec = {
  ...natsFields,
  ...kafkaFields,
  ...pipelineFields,
  ...opsFields,
  stream: field({ env: 'NATS_STREAM', schema: types.string(64), default: DEFAULT_STREAM_NAME, doc: 'JetStream stream holding the room message subjects' }),
  subjectPrefix: field({ env: 'NATS_SUBJECT_PREFIX', schema: types.string(64), default: DEFAULT_SUBJECT_PREFIX, doc: 'first token of the room subjects (<prefix>.room.<id>.msg)' }),
  durable: field({ env: 'INGESTION_DURABLE', schema: types.string(64), default: 'chat-ingestion', doc: 'durable consumer name, shared by all ingestion instances' }),
  topicPartitions: field({ env: 'KAFKA_TOPIC_PARTITIONS', schema: types.int(1, 1024), default: '6', doc: 'partitions when the topics are created here' }),
  bufferSize: field({ env: 'INGESTION_BUFFER', schema: types.int(1, 100_000), default: '8000', doc: 'max messages between JetStream delivery and Kafka ack' }),
  batchMax: field({ env: 'INGESTION_BATCH_MAX', schema: types.int(1, 10_000), default: '2000', doc: 'records per Kafka produce request' }),
  lanes: field({
    env: 'INGESTION_PRODUCERS',
    schema: types.int(1, 32),
    default: '3',
    doc: 'idempotent producers sending at once, each for its own share of the rooms (a room always goes through the same one, so its order holds)',
  }),
  ackWaitMs: field({ env: 'INGESTION_ACK_WAIT_MS', schema: types.int(1000, 600_000), default: '10000', doc: 'JetStream redelivers what is not acked within this (in-flight messages are kept alive while Kafka is slow)' }),
};

export const ingestionService: ServiceDefinition<typeof spec> = {
  name: 'chat-ingestion-svc',
  spec,
  build({ config, log, runner, metrics }) {
    const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'chat-ingestion-svc' });
    const worker = new IngestionWorker({
      ...config,
      kafka: kafka.client,
      service: 'chat-ingestion-svc',
      log: log.child({ component: 'ingestion' }),
      onFatal: (err) => runner.fail('ingestion', err),
      metrics,
    });
    addOpsServer(runner, { ...config, log, metrics, checks: [{ name: 'nats', check: () => worker.natsHealth() }, { name: 'kafka', check: () => kafka.health() }] });
    runner.add(component('kafka-admin', () => undefined, () => kafka.close()));
    runner.add(
      component('kafka-topics', async () => {
        const admin = kafka.client.admin();
        await admin.connect();
        try {
          await ensureTopics(admin, [config.topic, config.dlqTopic], config.topicPartitions);
        } finally {
          await admin.disconnect();
        }
      }, () => undefined),
    );
    runner.add(worker);
  },
};
